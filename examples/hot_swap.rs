//! Sharing one engine between threads and swapping rule sets while they work.
//!
//! An `Engine` is immutable, `Send` and `Sync`: worker threads share it in an `Arc`. To
//! change the rules, a host builds a new engine (checking the new rules completely, with
//! no effect on the running one) and replaces the `Arc`; each evaluation uses whichever
//! engine it picked up, start to finish, and the old engine is freed when the last
//! evaluation using it ends.
//!
//! ```text
//! cargo run --release --example hot_swap
//! ```

use std::error::Error;
use std::sync::{Arc, RwLock};
use std::thread;

use chrono::{TimeZone, Utc};
use crm_rules::{CustomerState, Engine, Event, Input, ResolvedAction, RuleSet, Schema};

const SCHEMA: &str = r#"{"fields": [
  {"name": "客户名称", "type": "text"},
  {"name": "预算", "type": "number"},
  {"name": "标签", "type": "tags"}
]}"#;

/// Rules that tag big budgets; version 2 lowers the threshold.
fn rules(version: u32, threshold: u32) -> Result<RuleSet, Box<dyn Error>> {
    let json = serde_json::json!({"rules": [{
        "id": "big-budget", "name": format!("大客户标记 v{version}"),
        "trigger": {"type": "event", "event": "lead_created"},
        "when": {"field": "预算", "op": "gte", "value": threshold},
        "actions": [{"type": "add_tag", "tag": format!("大客户 v{version}")}]
    }]});
    Ok(RuleSet::from_json(&json.to_string())?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let schema = Schema::from_json(SCHEMA)?;
    let current = Arc::new(RwLock::new(Arc::new(
        Engine::builder(schema.clone())
            .rules(rules(1, 500_000)?)
            .build()?,
    )));
    let now = Utc
        .with_ymd_and_hms(2024, 5, 20, 9, 0, 0)
        .single()
        .ok_or("bad time")?;

    let workers: Vec<_> = (0..4)
        .map(|w| {
            let current = Arc::clone(&current);
            thread::spawn(move || -> Result<Vec<String>, String> {
                let mut tagged = Vec::new();
                for i in 0..2_000u32 {
                    // Take the engine of the moment; the lock is held only to clone the Arc.
                    let engine = Arc::clone(&*current.read().map_err(|e| e.to_string())?);
                    let budget = i64::from(i % 10) * 100_000;
                    let customer = engine
                        .schema()
                        .record([("预算", budget)])
                        .map_err(|e| e.to_string())?;
                    let event = Event::new("lead_created", format!("w{w}-{i}"), now);
                    let plan = engine.evaluate(&Input::new(
                        "C",
                        &customer,
                        &CustomerState::new(),
                        &event,
                        now,
                    ));
                    for a in &plan.actions {
                        if let ResolvedAction::AddTag { tag, .. } = &a.action {
                            if !tagged.contains(tag) {
                                tagged.push(tag.clone());
                            }
                        }
                    }
                }
                Ok(tagged)
            })
        })
        .collect();

    // Meanwhile an administrator publishes version 2: built and checked off to the side,
    // then swapped in at once.
    let next = Arc::new(Engine::builder(schema).rules(rules(2, 300_000)?).build()?);
    *current.write().map_err(|e| e.to_string())? = next;
    println!("swapped in rule set v2");

    for (w, worker) in workers.into_iter().enumerate() {
        let tags = worker.join().map_err(|_| "a worker panicked")??;
        println!("worker {w} saw tags: {}", tags.join(", "));
    }
    let engine = Arc::clone(&*current.read().map_err(|e| e.to_string())?);
    println!("now serving: {}", engine.rules().summary());
    Ok(())
}
