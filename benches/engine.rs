//! Engine benches.
//!
//! - `evaluate/N`: events per second on a synthetic CRM workload (10,000 customers, 12
//!   event kinds, N rules of 1-4 conditions), N = 10, 100, 1,000, 10,000.
//! - `evaluate_no_match/N`: the same rules, events of a kind no rule listens to.
//! - `build/N`: compiling N rules into an engine.
//! - `w1/N`: workload W1 of `../shared/bench` (run `python3 w1_gen.py` in a folder and
//!   point `W1_DATA` at its `data/`, or leave the data in `../shared/bench/data`), a new
//!   plan per event (`Engine::evaluate`). The match count and checksum are checked
//!   against `expected.json` before timing.
//! - `w1_reused_plan/N`: the same, with one plan the host reuses
//!   (`Engine::evaluate_into`).
//! - `w1_hand_loop/N`: W1's yardstick, a hand-written loop over interned fields with
//!   rules indexed by kind (`benches/w1/hand_loop.rs`), run in the same window: the
//!   target is a third of its events per second.
//!
//! `cargo bench --bench engine`

use std::path::PathBuf;

#[path = "w1/hand_loop.rs"]
mod hand_loop;

use chrono::{TimeZone, Utc};
use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput,
};
use crm_rules::{CustomerState, Engine, Event, Input, Plan, Record, RuleSet, Schema};
use serde_json::{json, Value as Json};

const STATUS: [&str; 6] = ["new", "contacted", "interested", "hot", "won", "lost"];
const INDUSTRY: [&str; 10] = [
    "it",
    "manufacturing",
    "retail",
    "education",
    "finance",
    "health",
    "logistics",
    "energy",
    "media",
    "gov",
];
const REGION: [&str; 6] = ["east", "south", "north", "west", "central", "overseas"];
const SOURCE: [&str; 6] = ["form", "expo", "web", "referral", "ecommerce", "social"];
const GRADE: [&str; 3] = ["A", "B", "C"];
const TAGS: [&str; 10] = [
    "vip",
    "price_sensitive",
    "competitor",
    "complaint",
    "renewal",
    "partner",
    "long_term",
    "new_buyer",
    "sleeping",
    "manual",
];
const EVENTS: [&str; 12] = [
    "lead_created",
    "email_opened",
    "page_viewed",
    "form_submitted",
    "stage_changed",
    "call_failed",
    "order_placed",
    "survey_submitted",
    "payment_due",
    "login",
    "complaint",
    "profile_updated",
];
const NUMS: [(&str, i64); 4] = [
    ("budget", 1_000_000),
    ("employees", 5000),
    ("follow_ups", 20),
    ("days_since_created", 365),
];

fn enums() -> [(&'static str, &'static [&'static str]); 5] {
    [
        ("status", &STATUS),
        ("industry", &INDUSTRY),
        ("region", &REGION),
        ("source", &SOURCE),
        ("grade", &GRADE),
    ]
}

/// The W1 customer schema.
fn schema() -> Schema {
    let mut fields: Vec<Json> = enums()
        .iter()
        .map(|(name, options)| json!({"name": name, "type": "single_choice", "options": options}))
        .collect();
    for (name, _) in NUMS {
        fields.push(json!({"name": name, "type": "integer"}));
    }
    fields.push(json!({"name": "tags", "type": "tags"}));
    Schema::from_json(&json!({ "fields": fields }).to_string()).expect("the W1 schema is valid")
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn synthetic_customers(rng: &mut Rng, n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| {
            let mut c = json!({"id": format!("C{i:05}")});
            for (name, options) in enums() {
                c[name] = json!(rng.pick(options));
            }
            for (name, max) in NUMS {
                c[name] = json!(rng.below(max as usize + 1));
            }
            let tags: Vec<&str> = (0..rng.below(4)).map(|_| rng.pick(&TAGS)).collect();
            let mut unique: Vec<&str> = Vec::new();
            for t in tags {
                if !unique.contains(&t) {
                    unique.push(t);
                }
            }
            c["tags"] = json!(unique);
            c
        })
        .collect()
}

fn synthetic_condition(rng: &mut Rng) -> Json {
    let kind = rng.below(100);
    let (name, options) = enums()[rng.below(5)];
    let (num, max) = NUMS[rng.below(4)];
    match kind {
        0..30 => json!({"field": name, "op": "eq", "value": rng.pick(options)}),
        30..40 => json!({"field": name, "op": "ne", "value": rng.pick(options)}),
        40..60 => {
            let k = (options.len() / 2).max(2);
            let mut values: Vec<&str> = Vec::new();
            while values.len() < k {
                let v = rng.pick(options);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            json!({"field": name, "op": "in", "value": values})
        }
        60..75 => {
            json!({"field": num, "op": "gte", "value": max * (20 + rng.below(50) as i64) / 100})
        }
        75..90 => {
            json!({"field": num, "op": "lte", "value": max * (40 + rng.below(50) as i64) / 100})
        }
        _ => json!({"field": "tags", "op": "has_tag", "value": rng.pick(&TAGS)}),
    }
}

fn synthetic_rules(rng: &mut Rng, n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| {
            let k = [1, 2, 2, 3, 3, 4][rng.below(6)];
            json!({"id": format!("R{i:05}"), "trigger": rng.pick(&EVENTS), "priority": rng.below(101),
                   "conditions": (0..k).map(|_| synthetic_condition(rng)).collect::<Vec<_>>()})
        })
        .collect()
}

/// W1 rules (`{id, trigger, priority, conditions}`) as a crm-rules rule set: all
/// conditions must hold; the action records the match.
fn rule_set(rules: &[Json]) -> RuleSet {
    let rules: Vec<Json> = rules
        .iter()
        .map(|r| {
            json!({"id": r["id"], "name": r["id"], "priority": r["priority"],
                   "trigger": {"type": "event", "event": r["trigger"]},
                   "when": {"all": r["conditions"]},
                   "actions": [{"type": "custom", "kind": "match"}]})
        })
        .collect();
    RuleSet::from_json(&json!({ "rules": rules }).to_string()).expect("W1 rules load")
}

fn records(schema: &Schema, customers: &[Json]) -> Vec<Record> {
    customers
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.as_object_mut().map(|o| o.remove("id"));
            schema.record_from_json(&c).expect("W1 customers are valid")
        })
        .collect()
}

struct Workload {
    engine: Engine,
    customers: Vec<Record>,
    ids: Vec<String>,
    events: Vec<(usize, Event)>,
}

fn workload(
    schema: &Schema,
    customers: &[Json],
    rules: &[Json],
    events: &[(usize, String)],
) -> Workload {
    let engine = Engine::builder(schema.clone())
        .rules(rule_set(rules))
        .build()
        .expect("W1 rules compile");
    let at = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
    Workload {
        engine,
        customers: records(schema, customers),
        ids: customers
            .iter()
            .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
            .collect(),
        events: events
            .iter()
            .enumerate()
            .map(|(i, (c, kind))| (*c, Event::new(kind.as_str(), format!("E{i}"), at)))
            .collect(),
    }
}

fn run(w: &Workload, events: &[(usize, Event)], mut each: impl FnMut(&Plan)) {
    let state = CustomerState::new();
    for (c, event) in events {
        let plan = w.engine.evaluate(&Input::new(
            &w.ids[*c],
            &w.customers[*c],
            &state,
            event,
            event.time,
        ));
        each(&plan);
    }
}

/// As [`run`], with one plan the host reuses for every event ([`Engine::evaluate_into`]).
fn run_reusing(w: &Workload, events: &[(usize, Event)], mut each: impl FnMut(&Plan)) {
    let state = CustomerState::new();
    let mut plan = Plan::default();
    for (c, event) in events {
        let input = Input::new(&w.ids[*c], &w.customers[*c], &state, event, event.time);
        w.engine.evaluate_into(&input, &mut plan);
        each(&plan);
    }
}

/// Match count and W1 checksum: per event, matching rule numbers ascending.
/// With `reuse`, through [`run_reusing`].
fn answer(w: &Workload, events: &[(usize, Event)], reuse: bool) -> (u64, u64) {
    let (mut total, mut h) = (0u64, 0u64);
    let mut count = |plan: &Plan| {
        let mut ids: Vec<u64> = plan
            .actions
            .iter()
            .filter_map(|a| a.rule_id[1..].parse().ok())
            .collect();
        ids.sort_unstable();
        total += ids.len() as u64;
        for id in ids {
            h = (h * 31 + id + 1) % 1_000_000_007;
        }
    };
    if reuse {
        run_reusing(w, events, &mut count);
    } else {
        run(w, events, &mut count);
    }
    (total, h)
}

fn bench_synthetic(c: &mut Criterion) {
    let schema = schema();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let customers = synthetic_customers(&mut rng, 10_000);
    let events: Vec<(usize, String)> = (0..10_000)
        .map(|_| (rng.below(10_000), rng.pick(&EVENTS).to_owned()))
        .collect();
    let mut evaluate = c.benchmark_group("evaluate");
    let mut build = Vec::new();
    for n in [10, 100, 1_000, 10_000] {
        let rules = synthetic_rules(&mut rng, n);
        let w = workload(&schema, &customers, &rules, &events);
        let batch = if n >= 10_000 {
            &w.events[..1_000]
        } else {
            &w.events[..]
        };
        evaluate.throughput(Throughput::Elements(batch.len() as u64));
        evaluate.bench_with_input(BenchmarkId::from_parameter(n), &w, |b, w| {
            b.iter(|| {
                run(w, black_box(batch), |p| {
                    black_box(p);
                })
            })
        });
        build.push((n, rule_set(&rules), w));
    }
    evaluate.finish();
    let mut no_match = c.benchmark_group("evaluate_no_match");
    for (n, _, w) in &build {
        let quiet: Vec<(usize, Event)> = w.events[..1_000]
            .iter()
            .map(|(c, e)| {
                (
                    *c,
                    Event::new("newsletter_unsubscribed", e.id.clone(), e.time),
                )
            })
            .collect();
        no_match.throughput(Throughput::Elements(quiet.len() as u64));
        no_match.bench_with_input(BenchmarkId::from_parameter(n), &quiet, |b, quiet| {
            b.iter(|| {
                run(w, black_box(quiet), |p| {
                    black_box(p);
                })
            })
        });
    }
    no_match.finish();
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    for (n, rules, _) in &build {
        group.bench_with_input(BenchmarkId::from_parameter(n), rules, |b, rules| {
            b.iter_batched(
                || (schema.clone(), rules.clone()),
                |(schema, rules)| {
                    Engine::builder(schema)
                        .rules(rules)
                        .build()
                        .map(|e| e.rules().len())
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// Cost per event as the rule set grows while the candidates per event stay the same:
/// 10 rules listen to the evaluated kind, the rest to other kinds.
fn bench_scaling(c: &mut Criterion) {
    let schema = schema();
    let mut rng = Rng(0x5151_5151_5151_5151);
    let customers = synthetic_customers(&mut rng, 10_000);
    let events: Vec<(usize, String)> = (0..2_000)
        .map(|_| (rng.below(10_000), "lead_created".to_owned()))
        .collect();
    let base = synthetic_rules(&mut rng, 10);
    let mut group = c.benchmark_group("scaling");
    for n in [10, 100, 1_000, 10_000] {
        let mut rules: Vec<Json> = base
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r["trigger"] = json!("lead_created");
                r
            })
            .collect();
        for (i, mut r) in synthetic_rules(&mut rng, n - 10).into_iter().enumerate() {
            r["id"] = json!(format!("R{:05}", 10 + i));
            if r["trigger"] == json!("lead_created") {
                r["trigger"] = json!("login");
            }
            rules.push(r);
        }
        let w = workload(&schema, &customers, &rules, &events);
        group.throughput(Throughput::Elements(w.events.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &w, |b, w| {
            b.iter(|| {
                run(w, black_box(&w.events), |p| {
                    black_box(p);
                })
            })
        });
    }
    group.finish();
}

fn w1_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("W1_DATA").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/data")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("expected.json").exists())
}

fn read(path: PathBuf) -> Json {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bench_w1(c: &mut Criterion) {
    let Some(dir) = w1_dir() else {
        eprintln!("w1: no data (set W1_DATA to the data/ folder written by w1_gen.py); skipped");
        return;
    };
    let schema = schema();
    let customers: Vec<Json> = read(dir.join("customers.json"))
        .as_array()
        .cloned()
        .unwrap_or_default();
    let events: Vec<(usize, String)> = read(dir.join("events.json"))
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["customer"].as_u64().unwrap_or(0) as usize,
                        e["type"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let expected = read(dir.join("expected.json"));
    let mut workloads = Vec::new();
    let mut hands = Vec::new();
    for n in [10, 100, 1_000, 10_000] {
        let rules: Vec<Json> = read(dir.join(format!("rules-{n}.json")))
            .as_array()
            .cloned()
            .unwrap_or_default();
        let w = workload(&schema, &customers, &rules, &events);
        let hand = hand_loop::HandLoop::new(&customers, &rules, &events);
        let want = (
            &expected[n.to_string()]["matches"],
            &expected[n.to_string()]["checksum"],
        );
        if let (Some(matches), Some(checksum)) = (want.0.as_u64(), want.1.as_u64()) {
            for reuse in [false, true] {
                let got = answer(&w, &w.events, reuse);
                assert_eq!(
                    got,
                    (matches, checksum),
                    "w1/{n} (reused plan: {reuse}): matches and checksum differ from expected.json"
                );
            }
            assert_eq!(
                hand.answer(),
                (matches, checksum),
                "w1_hand_loop/{n}: matches and checksum differ from expected.json"
            );
            eprintln!("w1/{n}: {matches} matches, checksum {checksum}: as expected");
        } else {
            eprintln!("w1/{n}: no expected answer (generate with --full); timing only");
        }
        let batch = if n >= 10_000 {
            5_000
        } else if n >= 1_000 {
            20_000
        } else {
            w.events.len()
        };
        let batch = batch.min(w.events.len());
        workloads.push((n, w, batch));
        hands.push((n, hand, batch));
    }
    // A new plan per event (`evaluate`), then one plan reused (`evaluate_into`).
    for (name, reuse) in [("w1", false), ("w1_reused_plan", true)] {
        let mut group = c.benchmark_group(name);
        for (n, w, batch) in &workloads {
            let batch = &w.events[..*batch];
            group.throughput(Throughput::Elements(batch.len() as u64));
            group.sample_size(10);
            group.bench_with_input(BenchmarkId::from_parameter(n), w, |b, w| {
                b.iter(|| {
                    let each = |p: &Plan| {
                        black_box(p);
                    };
                    if reuse {
                        run_reusing(w, black_box(batch), each)
                    } else {
                        run(w, black_box(batch), each)
                    }
                })
            });
        }
        group.finish();
    }
    let mut group = c.benchmark_group("w1_hand_loop");
    // The same events as the engine's groups.
    for (n, hand, batch) in &hands {
        let batch = &hand.events[..*batch];
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.sample_size(10);
        group.bench_with_input(BenchmarkId::from_parameter(n), hand, |b, hand| {
            let mut out = Vec::new();
            b.iter(|| {
                let mut total = 0;
                for e in black_box(batch) {
                    hand.matches(*e, &mut out);
                    total += black_box(&out).len();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_synthetic, bench_scaling, bench_w1);
criterion_main!(benches);
