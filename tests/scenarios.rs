//! Scenario cases as data: every `tests/data/*.json` is one case, run by one driver.
//!
//! A case file is a JSON object:
//!
//! | key | meaning |
//! |---|---|
//! | `description` | what the case shows |
//! | `schema` | the schema, inline (as `Schema::from_json` reads it) |
//! | `rules` | the rule set (as `RuleSet::from_json` reads it) |
//! | `customer` | the customer record before the event (as `Schema::record_from_json` reads it) |
//! | `customer_id` | optional, default `"C001"` |
//! | `state` | optional: the customer's engine state (`CustomerState` JSON) |
//! | `event` | `{"kind", "id", "time", "attributes", "changes"}`; attributes are typed by the schema's declared event when it has one, changes by the customer fields |
//! | `now` | the current time, RFC 3339 |
//! | `context` | optional: round-robin counters and loads (`Context` JSON) |
//! | `explain` | optional, default `false`: include the trace |
//! | `cascade_depth` | optional: the engine's cascade depth limit |
//! | `expected` | the exact plan, as `serde_json::to_value(&plan)` gives it |
//!
//! The expected plans were produced by running the engine once and then checked by hand
//! against the documented semantics. To regenerate them after an intended change, run
//! with `UPDATE_SCENARIOS=1` and review every changed line of the diff before committing.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use crm_rules::{Context, CustomerState, Engine, Event, Input, RuleSet, Schema, Value};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    schema: Json,
    rules: Json,
    customer: Json,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    state: Option<CustomerState>,
    event: EventCase,
    now: DateTime<Utc>,
    #[serde(default)]
    context: Option<Context>,
    #[serde(default)]
    explain: bool,
    #[serde(default)]
    cascade_depth: Option<usize>,
    expected: Json,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventCase {
    kind: String,
    id: String,
    time: DateTime<Utc>,
    #[serde(default)]
    attributes: IndexMap<String, Json>,
    #[serde(default)]
    changes: IndexMap<String, Json>,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

/// The case files, sorted by name.
fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("tests/data is readable")
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// A JSON value as the schema types the field `name` (when it knows it), else untyped.
fn typed(schema: &Schema, name: &str, json: &Json) -> Result<Value, String> {
    if schema.field_id(name).is_some() {
        let mut one = serde_json::Map::new();
        one.insert(name.to_owned(), json.clone());
        if let Ok(record) = schema.record_from_json(&Json::Object(one)) {
            let id = schema.field_id(name).ok_or("the field vanished")?;
            return Ok(record.get(id).clone());
        }
    }
    Value::from_json_untyped(json).ok_or_else(|| format!("{name}: {json} is not a value"))
}

/// The event of a case: attributes typed by the declared event kind, if any.
fn event(schema: &Schema, e: &EventCase) -> Result<Event, String> {
    let mut event = Event::new(e.kind.clone(), e.id.clone(), e.time);
    let attributes = match schema.event(&e.kind) {
        Some(def) if !def.attributes.is_empty() => {
            Some(Schema::new(def.attributes.clone()).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    for (name, json) in &e.attributes {
        let value = match &attributes {
            Some(s) => typed(s, name, json)?,
            None => Value::from_json_untyped(json)
                .ok_or_else(|| format!("attribute {name}: {json} is not a value"))?,
        };
        event = event.attribute(name.clone(), value);
    }
    for (name, json) in &e.changes {
        event = event.change(name.clone(), typed(schema, name, json)?);
    }
    Ok(event)
}

/// Runs one case: the plan as JSON.
fn run(case: &Case) -> Result<Json, String> {
    let schema = Schema::from_json(&case.schema.to_string()).map_err(|e| e.to_string())?;
    let rules = RuleSet::from_json(&case.rules.to_string()).map_err(|e| e.to_string())?;
    let mut builder = Engine::builder(schema).rules(rules);
    if let Some(depth) = case.cascade_depth {
        builder = builder.cascade_depth(depth);
    }
    let engine = builder.build().map_err(|e| e.to_string())?;
    let customer = engine
        .schema()
        .record_from_json(&case.customer)
        .map_err(|e| e.to_string())?;
    let state = case.state.clone().unwrap_or_default();
    let event = event(engine.schema(), &case.event)?;
    let context = case.context.clone().unwrap_or_default();
    let id = case.customer_id.as_deref().unwrap_or("C001");
    let input = Input::new(id, &customer, &state, &event, case.now)
        .context(&context)
        .explain(case.explain);
    let plan = engine.evaluate(&input);
    // The same input again gives the same plan.
    let again = engine.evaluate(&input);
    if again != plan {
        return Err("a second evaluation gave another plan".into());
    }
    serde_json::to_value(&plan).map_err(|e| e.to_string())
}

/// The JSON pointers at which two values differ.
fn differences(path: &str, expected: &Json, actual: &Json, out: &mut Vec<String>) {
    match (expected, actual) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in a {
                let here = format!("{path}/{k}");
                match b.get(k) {
                    Some(w) => differences(&here, v, w, out),
                    None => out.push(format!("{here}: missing")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}/{k}: unexpected"));
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}/{i}"), v, w, out);
            }
        }
        _ if expected != actual => out.push(format!("{path}: expected {expected}, found {actual}")),
        _ => {}
    }
}

#[test]
fn every_scenario_gives_its_expected_plan() {
    let files = case_files();
    assert!(files.len() >= 10, "only {} scenario files", files.len());
    let update = std::env::var_os("UPDATE_SCENARIOS").is_some();
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !case.description.trim().is_empty(),
            "{name}: no description"
        );
        let actual = match run(&case) {
            Ok(plan) => plan,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if actual == case.expected {
            continue;
        }
        if update {
            let mut file: serde_json::Map<String, Json> = serde_json::from_str(&text).unwrap();
            file.insert("expected".into(), actual);
            let out = serde_json::to_string_pretty(&file).unwrap() + "\n";
            std::fs::write(path, out).unwrap_or_else(|e| panic!("{name}: {e}"));
            eprintln!("updated {name}");
            continue;
        }
        let mut diff = Vec::new();
        differences("", &case.expected, &actual, &mut diff);
        failures.push(format!(
            "{name}: {}\ndifferences:\n  {}\nactual plan:\n{}",
            case.description,
            diff.join("\n  "),
            serde_json::to_string_pretty(&actual).unwrap()
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
