//! A batch import, end to end: read a spreadsheet export of about 200 customers, normalize
//! and validate every row, print the summary and the first problems, then group the
//! duplicates among the rows that succeeded and propose a merge for each group.
//!
//! `cargo run --example import_report`
//!
//! The rows are `examples/data/import_sample.json` (Chinese data with deliberate problems:
//! bad phone numbers, full-width digits, unknown choice values, duplicates by phone and by
//! e-mail, missing required fields); the schema, with its `quality` section, is
//! `examples/data/import_schema.json`.

use std::error::Error;
use std::path::Path;

use chrono::{TimeZone, Utc};
use crm_rules::quality::{Checker, CustomerNumbers};
use crm_rules::Schema;

fn main() -> Result<(), Box<dyn Error>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let schema = Schema::from_json(&std::fs::read_to_string(data.join("import_schema.json"))?)?;
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(data.join("import_sample.json"))?)?;

    // The crate reads no clock: the host passes "now" (here fixed, so the output is the
    // same on every run).
    let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
    let checker = Checker::new(&schema);
    let report = checker.report(&rows, now);

    println!("== Import summary\n{report}\n");

    println!("== First problems (of {})", report.problems().count());
    for (row, problem) in report.problems().take(12) {
        println!("  row {row:>3}: {problem}");
    }

    println!("\n== Flagged values (well-formed but implausible)");
    for (row, flag) in report.flags() {
        println!("  row {row:>3}: {flag}");
    }

    // Duplicates among the rows that succeeded; positions map back to row numbers.
    let (row_numbers, records): (Vec<usize>, Vec<_>) = report
        .rows()
        .iter()
        .filter_map(|r| Some((r.row, r.record()?.clone())))
        .unzip();
    let groups = checker.find_duplicates(&records);
    println!("\n== Duplicate groups ({})", groups.len());
    for group in &groups {
        let rows: Vec<String> = group
            .records
            .iter()
            .map(|&i| row_numbers[i].to_string())
            .collect();
        let why: Vec<String> = group
            .matches
            .iter()
            .map(|m| {
                let rows: Vec<String> = m
                    .records
                    .iter()
                    .map(|&i| row_numbers[i].to_string())
                    .collect();
                format!("{} {} (rows {})", m.key, m.value, rows.join(", "))
            })
            .collect();
        println!("rows {}: {}", rows.join(", "), why.join("; "));
        let plan = checker.merge_plan(&group.pick(&records))?;
        let keep = row_numbers[group.records[plan.survivor]];
        let conflicts = plan.conflicts().count();
        println!(
            "  keep row {keep}; {conflicts} conflict(s) resolved (records {} are rows {}):",
            (0..group.records.len())
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            rows.join(", ")
        );
        // The plan's own lines (after its heading), which show sensitive values masked.
        for line in plan.to_string().lines().skip(1) {
            println!("  {line}");
        }
    }

    // Customer numbers for the new customers (duplicates merged), continuing today's
    // sequence after the last number the host issued.
    let numbers = CustomerNumbers::default();
    let today = now.date_naive();
    let merged_away: usize = groups.iter().map(|g| g.records.len() - 1).sum();
    let new_customers = (records.len() - merged_away) as u64;
    let first = numbers.next_after(today, Some("CUST20240520041"))?;
    let last = numbers.format(today, first.sequence + new_customers - 1)?;
    println!("\n== Customer numbers for {new_customers} new customers: {first} … {last}");
    Ok(())
}
