//! Properties of time-based automation: for any sequence of tick times every due item is
//! handled exactly once (fired, or reported missed when later than the maximum
//! lateness) and never before its due time; A/B assignment is stable and follows the
//! weights within ±2 % over 100,000 customers.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration as Span, NaiveDate, TimeZone, Utc, Weekday};
use crm_rules::{
    CustomerState, Duration, Engine, Event, Input, OccurrenceStatus, Plan, Record, RuleSet, Schema,
    TickInput,
};
use proptest::prelude::*;
use serde_json::json;

use crate::common::record;

fn schema() -> Schema {
    Schema::from_json(
        r#"{"fields": [
          {"name": "客户名称", "type": "text"},
          {"name": "标签", "type": "tags"},
          {"name": "创建时间", "type": "date_time"}
        ]}"#,
    )
    .unwrap()
}

/// Every kind of due item: three schedules, a relative time, inactivity, and a sequence
/// of three steps started by the customer's first event.
fn engine(max_lateness: &str) -> Engine {
    let rules = json!({"time_zone": "Asia/Shanghai", "rules": [
        {"id": "daily", "name": "每日09:00", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
         "actions": [{"type": "add_tag", "tag": "d"}]},
        {"id": "weekly", "name": "每周一、四 10:00 UTC",
         "trigger": {"type": "schedule", "every": "week", "days": ["Mon", "Thu"], "at": "10:00", "time_zone": "UTC"},
         "actions": [{"type": "add_tag", "tag": "w"}]},
        {"id": "monthly", "name": "每月31日 08:00 UTC",
         "trigger": {"type": "schedule", "every": "month", "day_of_month": 31, "at": "08:00", "time_zone": "UTC"},
         "actions": [{"type": "add_tag", "tag": "m"}]},
        {"id": "relative", "name": "创建5天后10:00",
         "trigger": {"type": "relative", "field": "创建时间", "after": "5d", "at": "10:00"},
         "actions": [{"type": "add_tag", "tag": "r"}]},
        {"id": "idle", "name": "10天未登录", "trigger": {"type": "inactivity", "events": ["login"], "for": "10d"},
         "actions": [{"type": "add_tag", "tag": "i"}]},
        {"id": "start", "name": "开始序列", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [{"type": "start_sequence", "sequence": "nurture", "steps": [
            {"after": "1d", "actions": [{"type": "add_tag", "tag": "s0"}]},
            {"after": "2d", "at": "09:00", "actions": [{"type": "add_tag", "tag": "s1"}]},
            {"after": "12h", "actions": [{"type": "add_tag", "tag": "s2"}]}
         ]}]}
    ]});
    Engine::builder(schema())
        .rules(RuleSet::from_json(&rules.to_string()).unwrap())
        .max_lateness(max_lateness.parse::<Duration>().unwrap())
        .build()
        .unwrap()
}

/// 09:00 Shanghai (no daylight saving) is 01:00 UTC.
fn shanghai_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Span::hours(8)).date_naive()
}

fn utc_on(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(h, m, 0).unwrap())
}

fn dates(from: DateTime<Utc>, to: DateTime<Utc>) -> impl Iterator<Item = NaiveDate> {
    let first = from.date_naive() - Span::days(1);
    let last = to.date_naive() + Span::days(1);
    first.iter_days().take_while(move |d| *d <= last)
}

fn month_end(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .unwrap()
        .pred_opt()
        .unwrap()
}

/// The due items from `t0` (the first event) to `end`, computed independently of the
/// engine: item → due times.
fn reference(t0: DateTime<Utc>, end: DateTime<Utc>) -> BTreeMap<String, Vec<DateTime<Utc>>> {
    let mut out: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    let mut add = |k: &str, t: DateTime<Utc>| {
        if t <= end {
            out.entry(k.to_owned()).or_default().push(t);
        }
    };
    for d in dates(t0, end) {
        let daily = utc_on(d, 1, 0);
        if daily >= t0 {
            add("daily", daily);
        }
        let weekly = utc_on(d, 10, 0);
        if matches!(d.weekday(), Weekday::Mon | Weekday::Thu) && weekly >= t0 {
            add("weekly", weekly);
        }
        let monthly = utc_on(d, 8, 0);
        if d == month_end(d).with_day(31.min(month_end(d).day())).unwrap() && monthly >= t0 {
            add("monthly", monthly);
        }
    }
    // Created two days before the first event: 5 days later at 10:00 Shanghai.
    let created = t0 - Span::days(2);
    add(
        "relative",
        utc_on(shanghai_date(created + Span::days(5)), 2, 0),
    );
    add("idle", t0 + Span::days(10));
    let s0 = t0 + Span::days(1);
    let s1 = utc_on(shanghai_date(s0 + Span::days(2)), 1, 0);
    let s2 = s1 + Span::hours(12);
    add("nurture/0", s0);
    add("nurture/1", s1);
    add("nurture/2", s2);
    out
}

fn apply(engine: &Engine, customer: &mut Record, state: &mut CustomerState, plan: &Plan) {
    for c in &plan.changes {
        customer.set(engine.schema().field_id(&c.field).unwrap(), c.new.clone());
    }
    if let Some(s) = &plan.state {
        *state = s.clone();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_due_item_is_handled_exactly_once_and_never_early(
        start in 0i64..365 * 24 * 60,
        gaps in prop::collection::vec(0i64..4 * 24 * 60, 1..40),
        lateness in prop::sample::select(vec!["1h", "1d", "3d", "36500d"]),
    ) {
        let e = engine(lateness);
        let max_late = Span::seconds(e.max_lateness().as_seconds());
        let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Span::minutes(start);
        let mut customer = record(e.schema(), json!({"客户名称": "华为",
            "创建时间": (t0 - Span::days(2)).to_rfc3339()}));
        let mut state = CustomerState::new();
        let first = Event::new("lead_created", "e1", t0);
        let plan = e.evaluate(&Input::new("C1", &customer, &state, &first, t0));
        apply(&e, &mut customer, &mut state, &plan);

        // item → (count handled, fired or missed, and the due times reported)
        let mut handled: BTreeMap<String, u32> = BTreeMap::new();
        let mut last_due: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        let mut now = t0;
        // A host that reuses one plan (`tick_into`) and swaps each new state in gets the
        // same plans, with its own copy of the state.
        let (mut reused, mut swapped) = (Plan::default(), state.clone());
        for gap in gaps {
            now += Span::minutes(gap);
            let plan = e.tick(&TickInput::new("C1", &customer, &state, now));
            e.tick_into(&TickInput::new("C1", &customer, &swapped, now), &mut reused);
            prop_assert_eq!(&reused, &plan);
            if let Some(new) = &mut reused.state {
                std::mem::swap(&mut swapped, new);
            }
            for o in &plan.occurrences {
                let item = match (&o.sequence, o.step) {
                    (Some(s), Some(n)) => format!("{s}/{n}"),
                    _ => o.rule_id.to_string(),
                };
                // Never before its due time, and never the same due time twice.
                prop_assert!(o.due <= now, "{item} due {} ticked at {now}", o.due);
                if let Some(prev) = last_due.insert(item.clone(), o.due) {
                    prop_assert!(o.due > prev, "{item} handled at {} again", o.due);
                }
                match o.status {
                    OccurrenceStatus::Fired => prop_assert!(now - o.due <= max_late, "{item}"),
                    OccurrenceStatus::Missed => prop_assert!(now - o.due > max_late, "{item}"),
                    other => prop_assert!(false, "{item}: unexpected {other:?}"),
                }
                *handled.entry(item).or_default() += o.count;
            }
            apply(&e, &mut customer, &mut state, &plan);
            prop_assert_eq!(&swapped, &state);
            // Nothing still due at or before now.
            let again = e.tick(&TickInput::new("C1", &customer, &state, now));
            prop_assert!(again.occurrences.is_empty() && again.actions.is_empty());
            prop_assert!(e.next_due(&customer, &state).is_none_or(|d| d > now));
        }
        let expected: BTreeMap<String, u32> = reference(t0, now)
            .into_iter()
            .map(|(k, v)| (k, v.len() as u32))
            .collect();
        prop_assert_eq!(handled, expected);
    }
}

// ---------------------------------------------------------------------------------------
// A/B splits
// ---------------------------------------------------------------------------------------

fn ab_engine(experiment: &str, weights: &[u32]) -> Engine {
    let variants: Vec<_> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            json!({"name": format!("V{i}"), "weight": w,
            "actions": [{"type": "custom", "kind": "message", "payload": {"variant": i}}]})
        })
        .collect();
    let rules = json!({"rules": [{"id": "ab", "name": "话术A/B测试",
        "trigger": {"type": "event", "event": "form_submitted"},
        "actions": [{"type": "ab_split", "experiment": experiment, "variants": variants}]}]});
    Engine::builder(schema())
        .rules(RuleSet::from_json(&rules.to_string()).unwrap())
        .build()
        .unwrap()
}

/// The variant an engine gives a new customer.
fn variant(e: &Engine, customer: &Record, id: &str) -> String {
    let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
    let event = Event::new("form_submitted", "f1", now);
    let plan = e.evaluate(&Input::new(
        id,
        customer,
        &CustomerState::new(),
        &event,
        now,
    ));
    let state = plan.state.expect("the variant is recorded");
    state.variant("trial-script").unwrap_or_default().to_owned()
}

/// The share of each variant over `n` customers, checked against the weights.
fn check_split(e: &Engine, weights: &[u32], n: usize) -> Result<(), TestCaseError> {
    let customer = record(e.schema(), json!({}));
    let mut counts = vec![0usize; weights.len()];
    for i in 0..n {
        let v = variant(e, &customer, &format!("C{i:06}"));
        let k: usize = v[1..].parse().unwrap();
        counts[k] += 1;
    }
    let total: u32 = weights.iter().sum();
    for (k, w) in weights.iter().enumerate() {
        let share = counts[k] as f64 / n as f64;
        let want = f64::from(*w) / f64::from(total);
        prop_assert!(
            (share - want).abs() <= 0.02,
            "variant {k}: {share:.4} of customers, weight {want:.4}"
        );
    }
    Ok(())
}

#[test]
fn a_70_30_split_over_100000_customers_is_within_two_percent() {
    let e = ab_engine("trial-script", &[70, 30]);
    check_split(&e, &[70, 30], 100_000).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    #[test]
    fn any_weights_split_100000_customers_within_two_percent(
        weights in prop::collection::vec(1u32..100, 2..5),
    ) {
        let e = ab_engine("trial-script", &weights);
        check_split(&e, &weights, 100_000)?;
    }

    #[test]
    fn the_variant_is_the_same_on_every_engine_and_run(
        ids in prop::collection::vec("[A-Z0-9]{1,12}", 1..50),
    ) {
        // Two engines built separately stand for two machines.
        let a = ab_engine("trial-script", &[50, 30, 20]);
        let b = ab_engine("trial-script", &[50, 30, 20]);
        let customer = record(a.schema(), json!({}));
        for id in &ids {
            prop_assert_eq!(variant(&a, &customer, id), variant(&b, &customer, id));
            prop_assert_eq!(variant(&a, &customer, id), variant(&a, &customer, id));
        }
    }
}

#[test]
fn variants_are_fixed_across_releases() {
    // The hash is part of the contract: customers keep their variant across upgrades.
    let e = ab_engine("trial-script", &[70, 30]);
    let customer = record(e.schema(), json!({}));
    let got: Vec<String> = [
        "C000001", "C000002", "C000003", "C000004", "C000005", "C000006",
    ]
    .iter()
    .map(|id| variant(&e, &customer, id))
    .collect();
    assert_eq!(got, GOLDEN);
}

/// Computed independently: `mix(fnv1a(id, "trial-script")) % 100` is 6, 26, 47, 14, 88, 93
/// (below 70: V0).
const GOLDEN: [&str; 6] = ["V0", "V0", "V0", "V0", "V1", "V1"];

#[test]
fn a_recorded_variant_is_kept_when_the_weights_change() {
    let before = ab_engine("trial-script", &[1, 99]);
    let customer = record(before.schema(), json!({}));
    let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
    let event = Event::new("form_submitted", "f1", now);
    let plan = before.evaluate(&Input::new(
        "C1",
        &customer,
        &CustomerState::new(),
        &event,
        now,
    ));
    let state = plan.state.unwrap();
    let chosen = state.variant("trial-script").unwrap().to_owned();
    let after = ab_engine("trial-script", &[99, 1]);
    for _ in 0..3 {
        let plan = after.evaluate(&Input::new("C1", &customer, &state, &event, now));
        assert_eq!(
            serde_json::to_value(&plan.actions[0].action).unwrap()["variant"],
            json!(chosen)
        );
    }
}
