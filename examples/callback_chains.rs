//! Callback chains (seed 004, 客户关系管理与回访自动化系统) over 90 simulated days:
//!
//! - 新购客户: the 7th day after the first order, at 10:00, a satisfaction callback task;
//! - 沉睡客户: no order for 90 days, a win-back offer;
//! - 售后问题客户: a callback within 24 hours of a resolved complaint, and if the callback
//!   is not logged within 24 hours, an escalation to the service lead;
//! - 新签约客户: the signing chain — 3 days after signing the guide, a week later (once
//!   live) the go-live call, at the quarter's end the survey with a renewal offer, and no
//!   answer in 24 hours, a second reminder — stopped if the customer churns;
//! - 外呼失败: calls failing 3 days running, with no call answered, flag 需人工跟进 and tell
//!   the manager;
//! - 续约前客户: reminders 60 and 30 days before the contract ends, at 09:00; at 60 days an
//!   A/B test of two renewal offers (续约立减 70 %, 赠送服务月 30 %), whose variant the plan
//!   names so that the host can measure response rates per variant.
//!
//! 1,000 customers with histories before the simulated start; the host keeps one timer per
//! customer (`Engine::next_due`) and ticks a customer only when it is due. The program
//! prints, per day, what fired, then the A/B response rates.
//!
//! ```text
//! cargo run --release --example callback_chains
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::error::Error;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use crm_rules::{
    CustomerState, Engine, Event, Input, OccurrenceStatus, Plan, Record, ResolvedAction, RuleSet,
    Schema, TickInput, Value,
};

const SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "客户名称", "type": "text", "required": true},
    {"name": "负责人", "type": "member"},
    {"name": "客服专员", "type": "member"},
    {"name": "销售经理", "type": "member"},
    {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户", "成交客户", "流失客户"]},
    {"name": "跟进阶段", "type": "single_choice", "options": ["需求确认", "商务谈判", "合同签订"]},
    {"name": "标签", "type": "tags"},
    {"name": "首次下单时间", "type": "date_time"},
    {"name": "最近下单时间", "type": "date_time"},
    {"name": "上线日期", "type": "date"},
    {"name": "合同到期日", "type": "date"}
  ]
}"#;

const RULES: &str = r#"{"time_zone": "Asia/Shanghai", "rules": [
  {"id": "order", "name": "下单记录", "priority": 10,
   "trigger": {"type": "event", "event": "order_placed"},
   "actions": [{"type": "set_field", "field": "最近下单时间", "from_now": "0s"}]},
  {"id": "first-order", "name": "首次下单记录", "priority": 20,
   "trigger": {"type": "event", "event": "order_placed"},
   "when": {"field": "首次下单时间", "op": "is_empty"},
   "actions": [{"type": "set_field", "field": "首次下单时间", "from_now": "0s"}, {"type": "add_tag", "tag": "新购客户"}]},
  {"id": "new-buyer-day7", "name": "新购客户7天满意度回访",
   "trigger": {"type": "relative", "field": "首次下单时间", "after": "7d", "at": "10:00"},
   "actions": [{"type": "create_task", "title": "满意度回访 {{客户名称}}", "assignee": {"field": "客服专员"}, "due_in": "8h"},
               {"type": "custom", "kind": "sms", "payload": {"template": "SURVEY_NEW_BUYER"}}]},
  {"id": "sleeping-90d", "name": "沉睡客户唤醒",
   "trigger": {"type": "inactivity", "events": ["order_placed"], "for": "90d"},
   "scope": {"field": "客户状态", "op": "eq", "value": "成交客户"},
   "actions": [{"type": "add_tag", "tag": "沉睡客户"},
               {"type": "custom", "kind": "sms", "payload": {"template": "WIN_BACK_COUPON"}}]},
  {"id": "after-sales", "name": "售后问题回访",
   "trigger": {"type": "event", "event": "complaint_resolved"},
   "actions": [{"type": "start_sequence", "sequence": "after-sales", "steps": [
     {"after": "0s", "actions": [{"type": "create_task", "title": "售后回访 {{客户名称}}", "assignee": {"field": "客服专员"},
                                  "due_in": "24h", "priority": "high"}]},
     {"after": "24h", "unless_event": ["callback_logged"],
      "actions": [{"type": "notify", "channel": "in_app", "to": [{"role": "客服主管"}],
                   "template": "{{客户名称}} 售后回访超过24小时未完成", "window": {"start": "09:00", "end": "21:00"}}]}
   ]}]},
  {"id": "signed", "name": "签约后分阶段回访",
   "trigger": {"type": "field_changed", "field": "跟进阶段", "to": "合同签订"},
   "actions": [{"type": "start_sequence", "sequence": "post-signing",
     "stop_when": {"field": "客户状态", "op": "eq", "value": "流失客户"},
     "steps": [
       {"after": "3d", "at": "10:00", "actions": [{"type": "notify", "channel": "email", "to": [{"field": "客服专员"}],
                                                  "template": "请向 {{客户名称}} 发送产品使用指南"}]},
       {"after": "1w", "at": "10:00", "skip_when": {"field": "上线日期", "op": "is_empty"},
        "actions": [{"type": "create_task", "title": "上线一周电话回访 {{客户名称}}", "assignee": {"field": "客服专员"}, "due_in": "1d"}]},
       {"after": "11w", "at": "09:30", "actions": [{"type": "custom", "kind": "survey", "payload": {"name": "季度满意度"}},
                                                  {"type": "custom", "kind": "renewal_offer", "payload": {}}]},
       {"after": "24h", "unless_event": ["survey_answered"],
        "actions": [{"type": "custom", "kind": "survey", "payload": {"name": "季度满意度", "reminder": true}}]}
     ]}]},
  {"id": "call-streak", "name": "连续3天未接通转人工",
   "trigger": {"type": "event", "event": "call_failed"},
   "when": {"not": {"field": "标签", "op": "has_any", "value": ["外呼跟进中", "需人工跟进"]}},
   "actions": [{"type": "add_tag", "tag": "外呼跟进中"}, {"type": "start_sequence", "sequence": "call-streak", "steps": [
     {"after": "2d", "at": "20:00", "unless_event": ["call_connected"],
      "skip_when": {"not": {"count": "call_failed", "days_in_a_row": 3}},
      "actions": [{"type": "add_tag", "tag": "需人工跟进"},
                  {"type": "notify", "channel": "in_app", "to": [{"field": "销售经理"}], "cc": ["owner"],
                   "template": "{{客户名称}} 连续3天电话未接通，请安排人工跟进"}]},
     {"after": "0s", "actions": [{"type": "remove_tag", "tag": "外呼跟进中"}]}
   ]}]},
  {"id": "renewal-60d", "name": "合同到期前60天续约提醒",
   "trigger": {"type": "relative", "field": "合同到期日", "before": "60d", "at": "09:00"},
   "scope": {"field": "客户状态", "op": "eq", "value": "成交客户"},
   "actions": [{"type": "create_task", "title": "续约沟通 {{客户名称}}（{{合同到期日}} 到期）", "due_in": "14d"},
               {"type": "ab_split", "experiment": "renewal-offer", "variants": [
                 {"name": "续约立减", "weight": 70, "actions": [{"type": "custom", "kind": "sms", "payload": {"template": "RENEW_DISCOUNT"}}]},
                 {"name": "赠送服务月", "weight": 30, "actions": [{"type": "custom", "kind": "sms", "payload": {"template": "RENEW_BONUS_MONTH"}}]}
               ]}]},
  {"id": "renewal-30d", "name": "合同到期前30天续约提醒",
   "trigger": {"type": "relative", "field": "合同到期日", "before": "30d", "at": "09:00"},
   "scope": {"field": "客户状态", "op": "eq", "value": "成交客户"},
   "when": {"not": {"field": "标签", "op": "has_tag", "value": "已续约"}},
   "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"], "cc": [{"field": "销售经理"}],
                "template": "{{客户名称}} 合同30天后到期，尚未续约"}]},
  {"id": "renewed", "name": "续约登记", "trigger": {"type": "event", "event": "renewal_accepted"},
   "actions": [{"type": "add_tag", "tag": "已续约"}]}
]}"#;

const DAYS: i64 = 90;
const CUSTOMERS: usize = 1_000;

/// A small deterministic generator, so that every run prints the same table.
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
        self.next() % n.max(1)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn days(&mut self, from: i64, to: i64) -> Duration {
        Duration::minutes(from * 1440 + self.below(((to - from).max(1) * 1440) as u64) as i64)
    }
}

/// What happens next: the customer's timer rings, an event (kind, field changes), or the
/// customer goes live (an update of 上线日期).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    Due,
    Event(&'static str, Vec<(&'static str, &'static str)>),
    Live(NaiveDate),
}

/// The columns printed per day, and what each counts: (rule, sequence step) pairs.
const COLUMNS: [(&str, &str, Option<usize>); 10] = [
    ("首单7日", "new-buyer-day7", None),
    ("沉睡唤醒", "sleeping-90d", None),
    ("售后回访", "after-sales", Some(0)),
    ("售后升级", "after-sales", Some(1)),
    ("指南", "signed", Some(0)),
    ("上线回访", "signed", Some(1)),
    ("季末问卷", "signed", Some(2)),
    ("问卷提醒", "signed", Some(3)),
    ("人工跟进", "call-streak", Some(0)),
    ("续约60/30", "renewal", None),
];

struct Host {
    engine: Engine,
    start: DateTime<Utc>,
    records: Vec<Record>,
    states: Vec<CustomerState>,
    timers: Vec<Option<DateTime<Utc>>>,
    queue: BinaryHeap<Reverse<(DateTime<Utc>, usize, Happening)>>,
    /// Per day: column → fired count; and events, ticks.
    fired: Vec<[u32; 10]>,
    events: Vec<u32>,
    ticks: Vec<u32>,
    /// Variant → (customers offered, customers who renewed).
    ab: BTreeMap<String, (u32, u32)>,
    rng: Rng,
    event_ids: u64,
}

impl Host {
    fn day(&self, at: DateTime<Utc>) -> Option<usize> {
        let d = (at - self.start).num_days();
        (0..DAYS).contains(&d).then_some(d as usize)
    }

    fn apply(&mut self, c: usize, plan: Plan, at: DateTime<Utc>) {
        for change in &plan.changes {
            if let Some(id) = self.engine.schema().field_id(&change.field) {
                self.records[c].set(id, change.new.clone());
            }
        }
        if let Some(state) = plan.state {
            self.states[c] = state;
        }
        if let Some(d) = self.day(at) {
            for o in plan
                .occurrences
                .iter()
                .filter(|o| o.status == OccurrenceStatus::Fired)
            {
                let column = COLUMNS.iter().position(|(_, rule, step)| {
                    (*rule == &*o.rule_id && *step == o.step)
                        || (*rule == "renewal" && o.rule_id.starts_with("renewal-"))
                });
                if let Some(k) = column {
                    self.fired[d][k] += o.count;
                }
            }
        }
        // The host measures the A/B test: which variant each customer got, and whether
        // the customer renewed within two weeks (simulated: 35 % for 续约立减, 22 % for
        // 赠送服务月).
        for a in &plan.actions {
            if let ResolvedAction::AbSplit { variant, .. } = &a.action {
                let entry = self.ab.entry(variant.clone()).or_default();
                entry.0 += 1;
                let rate = if variant == "续约立减" { 35 } else { 22 };
                if self.rng.percent(rate) {
                    entry.1 += 1;
                    let when = at + self.rng.days(0, 14);
                    self.queue.push(Reverse((
                        when,
                        c,
                        Happening::Event("renewal_accepted", vec![]),
                    )));
                }
            }
        }
        self.timers[c] = self.engine.next_due(&self.records[c], &self.states[c]);
        if let Some(due) = self.timers[c] {
            self.queue.push(Reverse((due.max(at), c, Happening::Due)));
        }
    }

    fn send(&mut self, c: usize, kind: &str, changes: &[(&str, Value)], at: DateTime<Utc>) {
        self.event_ids += 1;
        let mut event = Event::new(kind, format!("e{}", self.event_ids), at);
        for (field, value) in changes {
            event = event.change(*field, value.clone());
        }
        let id = format!("C{c:04}");
        let plan = self.engine.evaluate(&Input::new(
            &id,
            &self.records[c],
            &self.states[c],
            &event,
            at,
        ));
        if let Some(d) = self.day(at) {
            self.events[d] += 1;
        }
        self.apply(c, plan, at);
    }

    fn at(&mut self, t: DateTime<Utc>, c: usize, kind: &'static str) {
        self.queue
            .push(Reverse((t, c, Happening::Event(kind, vec![]))));
    }

    /// A customer's history before the start and its script for the 90 days.
    fn script(&mut self, c: usize) {
        let s = self.start;
        let buyer = self.rng.percent(60);
        if buyer {
            // Past orders; some stop ordering (they will fall asleep).
            let mut t = s - self.rng.days(30, 200);
            while t < s {
                self.at(t, c, "order_placed");
                t += self.rng.days(10, 80);
            }
            if self.rng.percent(50) {
                let mut t = s + self.rng.days(0, 30);
                while t < s + Duration::days(DAYS) {
                    self.at(t, c, "order_placed");
                    t += self.rng.days(15, 60);
                }
            }
        } else if self.rng.percent(40) {
            // A first order during the 90 days.
            let t = s + self.rng.days(0, 80);
            self.at(t, c, "order_placed");
        }
        if self.rng.percent(15) {
            let t = s + self.rng.days(0, 85);
            self.at(t, c, "complaint_resolved");
            if self.rng.percent(70) {
                let callback = t + self.rng.days(0, 2);
                self.at(callback, c, "callback_logged");
            }
        }
        if self.rng.percent(20) {
            let signed = s + self.rng.days(-60, 60);
            self.queue.push(Reverse((
                signed,
                c,
                Happening::Event("profile_updated", vec![("跟进阶段", "合同签订")]),
            )));
            if self.rng.percent(75) {
                let live = (signed + self.rng.days(2, 9)).date_naive();
                self.queue.push(Reverse((
                    signed + Duration::days(9),
                    c,
                    Happening::Live(live),
                )));
            }
            // The survey goes out 87 days after the signing day, at 09:30 Shanghai (01:30
            // UTC); 60 % answer within the day.
            let local_day = (signed + Duration::hours(8)).date_naive() + Duration::days(87);
            let survey =
                Utc.from_utc_datetime(&local_day.and_hms_opt(1, 30, 0).unwrap_or_default());
            if self.rng.percent(60) {
                let answered = survey + self.rng.days(0, 1);
                self.at(answered, c, "survey_answered");
            }
            if self.rng.percent(5) {
                let churned = signed + self.rng.days(5, 60);
                self.queue.push(Reverse((
                    churned,
                    c,
                    Happening::Event("profile_updated", vec![("客户状态", "流失客户")]),
                )));
            }
        }
        if self.rng.percent(10) {
            let first = s + self.rng.days(0, 80);
            let answered = self.rng.percent(30);
            for day in 0..3 {
                let t = first + Duration::days(day);
                if answered && day == 1 {
                    self.at(t, c, "call_connected");
                } else {
                    self.at(t, c, "call_failed");
                }
            }
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let schema = Schema::from_json(SCHEMA)?;
    let engine = Engine::builder(schema)
        .rules(RuleSet::from_json(RULES)?)
        .build()?;
    let start = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    let end = start + Duration::days(DAYS);
    let mut host = Host {
        engine,
        start,
        records: Vec::with_capacity(CUSTOMERS),
        states: vec![CustomerState::new(); CUSTOMERS],
        timers: vec![None; CUSTOMERS],
        queue: BinaryHeap::new(),
        fired: vec![[0; 10]; DAYS as usize],
        events: vec![0; DAYS as usize],
        ticks: vec![0; DAYS as usize],
        ab: BTreeMap::new(),
        rng: Rng(2024_0601),
        event_ids: 0,
    };
    for c in 0..CUSTOMERS {
        let won = host.rng.percent(70);
        let ends = start + host.rng.days(20, 200);
        let owner = ["wang", "li", "zhao"][host.rng.below(3) as usize];
        let record = host.engine.schema().record([
            ("客户名称", Value::from(format!("客户{c:04}"))),
            ("负责人", Value::from(owner)),
            ("客服专员", Value::from("service.liu")),
            ("销售经理", Value::from("manager.sun")),
            (
                "客户状态",
                Value::from(if won { "成交客户" } else { "意向客户" }),
            ),
            ("合同到期日", Value::Date(ends.date_naive())),
        ])?;
        host.records.push(record);
        // The engine first sees every customer 200 days before the start (an import).
        host.queue.push(Reverse((
            start - Duration::days(200),
            c,
            Happening::Event("imported", vec![]),
        )));
        host.script(c);
    }

    // The simulated clock: the next happening, in time order.
    while let Some(Reverse((at, c, what))) = host.queue.pop() {
        if at >= end {
            break;
        }
        match what {
            Happening::Event(kind, changes) => {
                let changes: Vec<(&str, Value)> =
                    changes.iter().map(|(f, v)| (*f, Value::from(*v))).collect();
                host.send(c, kind, &changes, at);
            }
            Happening::Live(date) => {
                host.send(c, "profile_updated", &[("上线日期", Value::Date(date))], at)
            }
            Happening::Due => {
                if host.timers[c].is_none_or(|t| t > at) {
                    continue;
                }
                let id = format!("C{c:04}");
                let plan =
                    host.engine
                        .tick(&TickInput::new(&id, &host.records[c], &host.states[c], at));
                if let Some(d) = host.day(at) {
                    host.ticks[d] += 1;
                }
                host.apply(c, plan, at);
            }
        }
    }

    print!("day  date        events ticks |");
    for (name, _, _) in COLUMNS {
        print!(" {name}");
    }
    println!();
    let mut totals = [0u32; 10];
    for d in 0..DAYS as usize {
        let date = (start + Duration::days(d as i64)).date_naive();
        print!(
            "{:>3}  {date}  {:>6} {:>5} |",
            d + 1,
            host.events[d],
            host.ticks[d]
        );
        for (k, (name, _, _)) in COLUMNS.iter().enumerate() {
            // Right-align under the (double-width) Chinese headings.
            let width = name.chars().count() * 2 - usize::from(name.contains('/')) * 2;
            print!(" {:>width$}", host.fired[d][k]);
            totals[k] += host.fired[d][k];
        }
        println!();
    }
    println!(
        "\n{} events, {} ticks over {} days for {CUSTOMERS} customers",
        host.events.iter().sum::<u32>(),
        host.ticks.iter().sum::<u32>(),
        DAYS
    );
    for (k, (name, _, _)) in COLUMNS.iter().enumerate() {
        println!("  {name}: {}", totals[k]);
    }
    println!("\nA/B test renewal-offer (the variant named in each plan):");
    for (variant, (offered, renewed)) in &host.ab {
        println!(
            "  {variant}: {offered} customers, {renewed} renewed ({:.1} %)",
            100.0 * f64::from(*renewed) / f64::from((*offered).max(1))
        );
    }
    Ok(())
}
