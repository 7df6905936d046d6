//! Replays events through rules on sample data: a rule author's "test on sample data"
//! (规则测试), and the JSON line format a host integrates against.
//!
//! ```text
//! cargo run --release --example replay -- --schema S --rules R [--rules R2 ...] \
//!     --customers C.jsonl --events E.jsonl [--explain]
//! ```
//!
//! Customers, one JSON object per line: `{"id": "C001", "fields": {...}, "state": {...}}`
//! (`state` optional). Events, one per line: `{"customer": "C001", "kind": "lead_created",
//! "id": "e1", "time": "2024-05-20T09:00:00+08:00", "attributes": {...}, "changes": {...},
//! "now": "..."}` (`attributes`, `changes` and `now` optional; `now` defaults to `time`).
//! Output, one line per event: `{"customer": "C001", "event": "e1", "plan": {...}}`, the
//! plan as `crm_rules::Plan` serializes. Between events the customer's field changes and
//! state are carried over, as a host would store them, and so are round-robin counters.

use std::collections::HashMap;
use std::error::Error;
use std::io::Write;

use crm_rules::{Context, CustomerState, Engine, Event, Input, Record, RuleSet, Schema};

struct Args {
    schema: String,
    rules: Vec<String>,
    customers: String,
    events: String,
    explain: bool,
}

fn args() -> Result<Args, String> {
    let mut out = Args {
        schema: String::new(),
        rules: Vec::new(),
        customers: String::new(),
        events: String::new(),
        explain: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--schema" => out.schema = value()?,
            "--rules" => out.rules.push(value()?),
            "--customers" => out.customers = value()?,
            "--events" => out.events = value()?,
            "--explain" => out.explain = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if out.schema.is_empty()
        || out.rules.is_empty()
        || out.customers.is_empty()
        || out.events.is_empty()
    {
        return Err("usage: replay --schema S --rules R [--rules R2 ...] --customers C.jsonl --events E.jsonl [--explain]".into());
    }
    Ok(out)
}

fn read(path: &str) -> Result<String, Box<dyn Error>> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}").into())
}

/// Non-empty lines with their numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = args()?;
    let schema = Schema::from_json(&read(&args.schema)?)?;
    let mut rules = RuleSet::default();
    for path in &args.rules {
        let set = RuleSet::from_json(&read(path)?).map_err(|e| format!("{path}: {e}"))?;
        rules.time_zone = rules.time_zone.or(set.time_zone);
        rules.rules.extend(set.rules);
    }
    let engine = Engine::builder(schema).rules(rules).build()?;
    for w in engine.warnings() {
        eprintln!("warning: {w}");
    }

    let mut customers: HashMap<String, (Record, CustomerState)> = HashMap::new();
    for (n, line) in lines(&read(&args.customers)?) {
        let json: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{n}: {e}", args.customers))?;
        let id = json["id"]
            .as_str()
            .ok_or_else(|| format!("{}:{n}: a customer needs an \"id\"", args.customers))?;
        let record = engine
            .schema()
            .record_from_json(&json["fields"])
            .map_err(|e| format!("{}:{n}: {e}", args.customers))?;
        let state: CustomerState = match json.get("state") {
            Some(s) => serde_json::from_value(s.clone())
                .map_err(|e| format!("{}:{n}: state: {e}", args.customers))?,
            None => CustomerState::new(),
        };
        customers.insert(id.to_owned(), (record, state));
    }

    let mut context = Context::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, line) in lines(&read(&args.events)?) {
        let mut json: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{n}: {e}", args.events))?;
        let object = json
            .as_object_mut()
            .ok_or_else(|| format!("{}:{n}: expected an object", args.events))?;
        let customer = object
            .remove("customer")
            .and_then(|c| c.as_str().map(str::to_owned));
        let customer = customer
            .ok_or_else(|| format!("{}:{n}: an event needs a \"customer\"", args.events))?;
        let now = object.remove("now");
        let event = Event::from_json(&json, engine.schema())
            .map_err(|e| format!("{}:{n}: {e}", args.events))?;
        let now = match now.as_ref().and_then(|v| v.as_str()) {
            Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|e| format!("{}:{n}: now: {e}", args.events))?
                .with_timezone(&chrono::Utc),
            None => event.time,
        };
        let (record, state) = customers
            .get_mut(&customer)
            .ok_or_else(|| format!("{}:{n}: unknown customer {customer}", args.events))?;
        let plan = engine.evaluate(
            &Input::new(&customer, record, state, &event, now)
                .context(&context)
                .explain(args.explain),
        );
        // Do what a host does: apply the net changes, keep the new state and counters.
        for change in &plan.changes {
            if let Some(id) = engine.schema().field_id(&change.field) {
                record.set(id, change.new.clone());
            }
        }
        if let Some(new_state) = &plan.state {
            *state = new_state.clone();
        }
        for (pool, counter) in &plan.counters {
            context.counters.insert(pool.clone(), *counter);
        }
        let line = serde_json::json!({"customer": customer, "event": event.id, "plan": plan});
        writeln!(out, "{line}")?;
    }
    Ok(())
}
