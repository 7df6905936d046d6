//! Time-based automation benches: a rule set of 20 time-based rules (5 schedules, 6
//! relative times, 5 inactivity and 4 time-in-stage rules, with conditions and actions)
//! over customers in mid-life (their state carries what earlier ticks and events left).
//!
//! - `next_due/20_rules`: customers per second asking when they are next due.
//! - `tick/20_rules/due`: customers per second ticked at their next due time (rules fire,
//!   plans are built, the state is written).
//! - `tick/20_rules/due_reused_plan`: the same with one plan reused for every tick
//!   ([`Engine::tick_into`](crm_rules::Engine::tick_into)).
//! - `tick/20_rules/not_due`: customers per second ticked when nothing is due.
//! - `day/1000000`: a simulated day of 1,000,000 customers: every customer whose due
//!   time falls in the day is ticked (and asked for its next due time) in time order,
//!   as a host with one timer per customer does, reusing one plan.
//!
//! `cargo bench --bench time`

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use crm_rules::{CustomerState, Engine, Event, Input, Plan, Record, RuleSet, Schema, TickInput};
use serde_json::json;

const SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "客户名称", "type": "text"},
    {"name": "负责人", "type": "member"},
    {"name": "客户状态", "type": "single_choice", "options": ["新客户", "已联系", "意向客户", "成交客户", "流失客户"]},
    {"name": "跟进阶段", "type": "single_choice", "options": ["需求确认", "方案提交", "商务谈判", "合同签订"]},
    {"name": "付款状态", "type": "single_choice", "options": ["未到期", "待付款", "已逾期"]},
    {"name": "标签", "type": "tags"},
    {"name": "创建时间", "type": "date_time"},
    {"name": "最近跟进时间", "type": "date_time"},
    {"name": "下次跟进时间", "type": "date_time"},
    {"name": "首次下单时间", "type": "date_time"},
    {"name": "合同到期日", "type": "date"}
  ]
}"#;

fn rules() -> RuleSet {
    let task = |t: &str| json!({"type": "create_task", "title": format!("{t} {{{{客户名称}}}}"), "due_in": "1d"});
    let tag = |t: &str| json!({"type": "add_tag", "tag": t});
    let active = json!({"field": "客户状态", "op": "ne", "value": "流失客户"});
    let rules = json!([
        {"id": "s-daily-9", "name": "每日09:00", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
         "when": {"field": "下次跟进时间", "op": "due_within", "value": "1d"}, "actions": [task("今日跟进")]},
        {"id": "s-daily-18", "name": "每日18:00", "trigger": {"type": "schedule", "every": "day", "at": "18:00"},
         "when": {"field": "标签", "op": "has_tag", "value": "重点客户"}, "actions": [task("日报")]},
        {"id": "s-mon", "name": "每周一", "trigger": {"type": "schedule", "every": "week", "days": ["Mon"], "at": "09:00"},
         "when": {"field": "最近跟进时间", "op": "older_than", "value": "7d"}, "actions": [task("本周跟进")]},
        {"id": "s-mon-thu", "name": "每周一、四", "trigger": {"type": "schedule", "every": "week", "days": ["Mon", "Thu"], "at": "10:00"},
         "when": {"field": "付款状态", "op": "eq", "value": "已逾期"}, "actions": [task("催收")]},
        {"id": "s-monthly", "name": "每月1日", "trigger": {"type": "schedule", "every": "month", "day_of_month": 1, "at": "08:00"},
         "scope": active, "actions": [tag("月度回顾")]},
        {"id": "r-new-3d", "name": "新客户3天", "trigger": {"type": "relative", "field": "创建时间", "after": "3d"},
         "when": {"field": "客户状态", "op": "eq", "value": "新客户"}, "actions": [task("首次联系")]},
        {"id": "r-new-7d", "name": "创建7天10点", "trigger": {"type": "relative", "field": "创建时间", "after": "7d", "at": "10:00"},
         "actions": [tag("一周客户")]},
        {"id": "r-renew-60", "name": "到期前60天", "trigger": {"type": "relative", "field": "合同到期日", "before": "60d", "at": "09:00"},
         "actions": [task("续约60天")]},
        {"id": "r-renew-30", "name": "到期前30天", "trigger": {"type": "relative", "field": "合同到期日", "before": "30d", "at": "09:00"},
         "actions": [task("续约30天")]},
        {"id": "r-next", "name": "下次跟进前1天", "trigger": {"type": "relative", "field": "下次跟进时间", "before": "1d"},
         "actions": [task("明日跟进")]},
        {"id": "r-order-7d", "name": "首单第7天", "trigger": {"type": "relative", "field": "首次下单时间", "after": "7d", "at": "10:00"},
         "actions": [task("首单回访")]},
        {"id": "i-login-30", "name": "30天未登录", "trigger": {"type": "inactivity", "events": ["login"], "for": "30d"},
         "scope": {"field": "客户状态", "op": "eq", "value": "成交客户"}, "actions": [tag("沉默客户")]},
        {"id": "i-any-90", "name": "90天无互动", "trigger": {"type": "inactivity", "events": ["login", "email_opened", "customer_replied"], "for": "90d"},
         "actions": [tag("流失预警")]},
        {"id": "i-follow-7", "name": "7天未跟进", "trigger": {"type": "inactivity", "field": "最近跟进时间", "for": "7d"},
         "scope": {"field": "客户状态", "op": "eq", "value": "意向客户"}, "actions": [task("回访")]},
        {"id": "i-order-90", "name": "90天未下单", "trigger": {"type": "inactivity", "events": ["order_placed"], "for": "90d"},
         "actions": [tag("沉睡客户")]},
        {"id": "i-reply-14", "name": "14天未回复", "trigger": {"type": "inactivity", "events": ["customer_replied"], "for": "14d"},
         "actions": [tag("未回复")]},
        {"id": "t-stage", "name": "阶段超时", "trigger": {"type": "stage_time", "field": "跟进阶段",
           "limits": {"需求确认": "10d", "方案提交": "10d", "商务谈判": "15d", "合同签订": "7d"}}, "actions": [tag("阶段停滞")]},
        {"id": "t-status-new", "name": "新客户停留", "trigger": {"type": "stage_time", "field": "客户状态", "limits": {"新客户": "3d", "已联系": "14d"}},
         "actions": [task("推进客户状态")]},
        {"id": "t-payment", "name": "待付款停留", "trigger": {"type": "stage_time", "field": "付款状态", "limits": {"待付款": "5d"}},
         "actions": [task("催款")]},
        {"id": "t-negotiation", "name": "商务谈判停留30天", "trigger": {"type": "stage_time", "field": "跟进阶段", "limits": {"商务谈判": "30d"}},
         "actions": [task("升级处理")]}
    ]);
    RuleSet::from_json(&json!({"time_zone": "Asia/Shanghai", "rules": rules}).to_string()).unwrap()
}

fn engine() -> Engine {
    Engine::builder(Schema::from_json(SCHEMA).unwrap())
        .rules(rules())
        .build()
        .unwrap()
}

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STATUS: [&str; 5] = ["新客户", "已联系", "意向客户", "成交客户", "流失客户"];
const STAGE: [&str; 4] = ["需求确认", "方案提交", "商务谈判", "合同签订"];
const PAYMENT: [&str; 3] = ["未到期", "待付款", "已逾期"];

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
}

/// A customer created in April, seen by the engine on 1 May, with a few events since;
/// returns its record and its state at `start() + 20 days`.
fn customer(e: &Engine, rng: &mut Rng, id: &str) -> (Record, CustomerState) {
    let t0 = start();
    let created = t0 - Span::minutes(rng.below(30 * 24 * 60) as i64);
    let minutes = |rng: &mut Rng, days: u64| Span::minutes(rng.below(days * 24 * 60) as i64);
    let tags: Vec<&str> = if rng.below(4) == 0 {
        vec!["重点客户"]
    } else {
        Vec::new()
    };
    let owner = ["wang", "li", "zhao"][rng.below(3) as usize];
    let status = STATUS[rng.below(5) as usize];
    let stage = STAGE[rng.below(4) as usize];
    let payment = PAYMENT[rng.below(3) as usize];
    let fields = json!({
        "客户名称": format!("客户{id}"),
        "负责人": owner,
        "客户状态": status,
        "跟进阶段": stage,
        "付款状态": payment,
        "标签": tags,
        "创建时间": created.to_rfc3339(),
        "最近跟进时间": (t0 + minutes(rng, 10)).to_rfc3339(),
        "下次跟进时间": (t0 + minutes(rng, 40)).to_rfc3339(),
        "首次下单时间": (t0 + minutes(rng, 30)).to_rfc3339(),
        "合同到期日": (t0 + Span::days(30 + rng.below(120) as i64)).date_naive().to_string(),
    });
    let mut record = e.schema().record_from_json(&fields).unwrap();
    let mut state = CustomerState::new();
    let apply = |record: &mut Record, state: &mut CustomerState, plan: Plan| {
        for c in plan.changes {
            record.set(e.schema().field_id(&c.field).unwrap(), c.new);
        }
        if let Some(s) = plan.state {
            *state = s;
        }
    };
    let lead = Event::new("lead_created", format!("{id}-lead"), t0);
    let plan = e.evaluate(&Input::new(id, &record, &state, &lead, t0));
    apply(&mut record, &mut state, plan);
    for (i, kind) in ["login", "email_opened", "customer_replied", "order_placed"]
        .iter()
        .enumerate()
    {
        if rng.below(2) == 0 {
            let t = t0 + minutes(rng, 15);
            let ev = Event::new(*kind, format!("{id}-{i}"), t);
            let plan = e.evaluate(&Input::new(id, &record, &state, &ev, t));
            apply(&mut record, &mut state, plan);
        }
    }
    // Everything due in the first 20 days has been handled.
    let mut now = t0;
    let until = t0 + Span::days(20);
    while let Some(due) = e.next_due(&record, &state).filter(|d| *d <= until) {
        now = now.max(due);
        let plan = e.tick(&TickInput::new(id, &record, &state, now));
        apply(&mut record, &mut state, plan);
    }
    (record, state)
}

struct Customers {
    ids: Vec<String>,
    records: Vec<Record>,
    states: Vec<CustomerState>,
}

fn customers(e: &Engine, n: usize) -> Customers {
    let mut rng = Rng(20_240_501);
    let mut out = Customers {
        ids: Vec::with_capacity(n),
        records: Vec::with_capacity(n),
        states: Vec::with_capacity(n),
    };
    for i in 0..n {
        let id = format!("C{i:07}");
        let (r, s) = customer(e, &mut rng, &id);
        out.ids.push(id);
        out.records.push(r);
        out.states.push(s);
    }
    out
}

fn bench_next_due_and_tick(c: &mut Criterion) {
    let e = engine();
    let cs = customers(
        &e,
        std::env::var("TIME_BENCH_CUSTOMERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000),
    );
    let n = cs.ids.len();
    let dues: Vec<Option<DateTime<Utc>>> = (0..n)
        .map(|i| e.next_due(&cs.records[i], &cs.states[i]))
        .collect();

    let mut group = c.benchmark_group("next_due");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::from_parameter("20_rules"), |b| {
        b.iter(|| {
            let mut due = 0;
            for i in 0..n {
                if e.next_due(black_box(&cs.records[i]), black_box(&cs.states[i]))
                    .is_some()
                {
                    due += 1;
                }
            }
            due
        })
    });
    group.finish();

    let mut group = c.benchmark_group("tick");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("20_rules", "due"), |b| {
        b.iter(|| {
            let mut actions = 0;
            for (i, due) in dues.iter().enumerate() {
                if let Some(at) = *due {
                    let input = TickInput::new(&cs.ids[i], &cs.records[i], &cs.states[i], at);
                    actions += black_box(e.tick(&input)).actions.len();
                }
            }
            actions
        })
    });
    group.bench_function(BenchmarkId::new("20_rules", "due_reused_plan"), |b| {
        let mut plan = Plan::default();
        b.iter(|| {
            let mut actions = 0;
            for (i, due) in dues.iter().enumerate() {
                if let Some(at) = *due {
                    let input = TickInput::new(&cs.ids[i], &cs.records[i], &cs.states[i], at);
                    e.tick_into(&input, &mut plan);
                    actions += black_box(&plan).actions.len();
                }
            }
            actions
        })
    });
    group.bench_function(BenchmarkId::new("20_rules", "not_due"), |b| {
        b.iter(|| {
            let mut actions = 0;
            for (i, due) in dues.iter().enumerate() {
                let now = due.map_or(start(), |d| d - Span::seconds(1));
                let input = TickInput::new(&cs.ids[i], &cs.records[i], &cs.states[i], now);
                actions += black_box(e.tick(&input)).actions.len();
            }
            actions
        })
    });
    group.finish();
}

/// The host's timers: (due time, customer), earliest first.
type Queue = BinaryHeap<Reverse<(DateTime<Utc>, u32)>>;

/// One simulated day of a host with `n` customers and one timer each: every customer due
/// in the day is ticked at its due time (into one reused plan), its plan applied (the new
/// state swapped in), and its next due time asked.
fn day(e: &Engine, cs: &mut Customers, queue: &mut Queue, end: DateTime<Utc>) -> (usize, usize) {
    let (mut ticks, mut actions) = (0, 0);
    let mut plan = Plan::default();
    while let Some(&Reverse((at, i))) = queue.peek() {
        if at > end {
            break;
        }
        queue.pop();
        let i = i as usize;
        let input = TickInput::new(&cs.ids[i], &cs.records[i], &cs.states[i], at);
        e.tick_into(&input, &mut plan);
        ticks += 1;
        actions += plan.actions.len();
        for c in &plan.changes {
            if let Some(id) = e.schema().field_id(&c.field) {
                cs.records[i].set(id, c.new.clone());
            }
        }
        if let Some(s) = &mut plan.state {
            std::mem::swap(&mut cs.states[i], s);
        }
        if let Some(next) = e.next_due(&cs.records[i], &cs.states[i]) {
            queue.push(Reverse((next.max(at + Span::seconds(1)), i as u32)));
        }
    }
    (ticks, actions)
}

fn bench_day(c: &mut Criterion) {
    let e = engine();
    let n = 1_000_000;
    let day_start = start() + Span::days(20);
    // Built on the first call only (criterion calls the routine more than once).
    let mut host: Option<(Customers, Queue)> = None;
    let mut days = 0;
    let mut group = c.benchmark_group("day");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        let (cs, queue) = host.get_or_insert_with(|| {
            // 10,000 generated customers, each under 100 ids: the engine's work per
            // customer is the same, the set-up a hundred times faster.
            let base = customers(&e, 10_000);
            let cs = Customers {
                ids: (0..n).map(|i| format!("C{i:07}")).collect(),
                records: (0..n).map(|i| base.records[i % 10_000].clone()).collect(),
                states: (0..n).map(|i| base.states[i % 10_000].clone()).collect(),
            };
            let mut queue = BinaryHeap::with_capacity(n);
            for i in 0..n {
                if let Some(d) = e.next_due(&cs.records[i], &cs.states[i]) {
                    queue.push(Reverse((d.max(day_start), i as u32)));
                }
            }
            (cs, queue)
        });
        b.iter(|| {
            // Each iteration simulates the next day.
            days += 1;
            let end = day_start + Span::days(days);
            let t = std::time::Instant::now();
            let (ticks, actions) = day(&e, cs, queue, end);
            if days == 1 {
                println!(
                    "\nday 1: {ticks} ticks of {n} customers, {actions} actions, in {:.2} s",
                    t.elapsed().as_secs_f64()
                );
            }
            black_box((ticks, actions))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_next_due_and_tick, bench_day);
criterion_main!(benches);
