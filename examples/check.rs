//! Checks rule files against a schema, as an administrator's "validate" button would.
//!
//! ```text
//! cargo run --example check -- SCHEMA RULES [RULES...]
//! ```
//!
//! Prints every problem, one per line (position, rule id and name, path, message), and
//! exits with status 1 if there is any; for good files prints a summary per file.

use std::process::ExitCode;

use crm_rules::{RuleSet, Schema};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: check SCHEMA RULES [RULES...]");
        return ExitCode::from(2);
    }
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map_err(|e| eprintln!("{path}: cannot read: {e}"))
            .ok()
    };
    let Some(schema_text) = read(&args[0]) else {
        return ExitCode::from(2);
    };
    let schema = match Schema::from_json(&schema_text) {
        Ok(s) => s,
        Err(e) => {
            for p in e.problems() {
                println!("{}: {p}", args[0]);
            }
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for path in &args[1..] {
        let Some(text) = read(path) else {
            failed = true;
            continue;
        };
        let problems = match RuleSet::from_json(&text) {
            Err(e) => e.problems().to_vec(),
            Ok(rules) => match rules.compile(&schema) {
                Ok(compiled) => {
                    println!("{path}: ok, {}", compiled.summary());
                    continue;
                }
                Err(e) => e.problems().to_vec(),
            },
        };
        failed = true;
        for p in problems {
            println!("{path}: {p}");
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
