//! Follow-up reminders (seed 000, 客户跟进提醒规则配置表) over 90 simulated days:
//!
//! - 新客户3天未跟进提醒: 3 days after 创建时间, a customer still 新客户 gets an in-app
//!   reminder to its owner (only between 09:00 and 20:00) and a 首次联系 task; the rule
//!   stops for good once the customer is 成交客户 (失效条件).
//! - 意向客户7天未回访提醒: an 意向客户 whose 最近跟进时间 has not changed for 7 days gets a
//!   回访 task (due on a working day, 09:00–18:00) and a notice to its owner, cc the sales
//!   manager; again every 7 quiet days; stopped once the customer is won or lost.
//!
//! 1,000 customers arrive over the first 60 days. The host keeps one timer per customer
//! (`Engine::next_due`) and ticks a customer only when it is due; owners log follow-ups,
//! customers become interested, win or churn, as events at random times. A simulated clock
//! moves from event to event; the program prints, per day, what fired.
//!
//! ```text
//! cargo run --release --example follow_up_reminders
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::error::Error;

use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_rules::{
    CustomerState, Engine, Event, Input, OccurrenceStatus, Plan, Record, ResolvedAction, RuleSet,
    Schema, TickInput, Value,
};

const SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "客户名称", "type": "text", "required": true},
    {"name": "负责人", "type": "member"},
    {"name": "销售经理", "type": "member"},
    {"name": "客户状态", "type": "single_choice", "options": ["新客户", "已联系", "意向客户", "成交客户", "流失客户"]},
    {"name": "创建时间", "type": "date_time"},
    {"name": "最近跟进时间", "type": "date_time"},
    {"name": "跟进次数", "type": "integer"}
  ]
}"#;

const RULES: &str = r#"{"time_zone": "Asia/Shanghai", "rules": [
  {"id": "new-3d", "name": "新客户3天未跟进提醒",
   "trigger": {"type": "relative", "field": "创建时间", "after": "3d"},
   "when": {"field": "客户状态", "op": "eq", "value": "新客户"},
   "expiry": {"stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}},
   "actions": [
     {"type": "notify", "channel": "in_app", "to": ["owner"],
      "template": "新客户 {{客户名称}} 创建已满3天仍未跟进，请尽快联系。",
      "window": {"start": "09:00", "end": "20:00"}},
     {"type": "create_task", "title": "首次联系 {{客户名称}}", "due_in": "1d", "priority": "high"}
   ]},
  {"id": "intent-7d", "name": "意向客户7天未回访提醒",
   "trigger": {"type": "inactivity", "field": "最近跟进时间", "for": "7d"},
   "scope": {"field": "客户状态", "op": "eq", "value": "意向客户"},
   "expiry": {"stop_when": {"field": "客户状态", "op": "in", "value": ["成交客户", "流失客户"]}},
   "actions": [
     {"type": "create_task", "title": "回访意向客户 {{客户名称}}", "due_in": "2d", "priority": "high",
      "window": {"start": "09:00", "end": "18:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}},
     {"type": "notify", "channel": "in_app", "to": ["owner"], "cc": [{"field": "销售经理"}],
      "template": "意向客户 {{客户名称}} 已7天未回访，请尽快安排。"}
   ]},
  {"id": "follow-up-logged", "name": "记录跟进",
   "trigger": {"type": "event", "event": "follow_up_logged"},
   "actions": [
     {"type": "increment", "field": "跟进次数"},
     {"type": "set_field", "field": "最近跟进时间", "from_now": "0s"}
   ]},
  {"id": "first-contact", "name": "首次跟进后改为已联系", "priority": 10,
   "trigger": {"type": "event", "event": "follow_up_logged"},
   "when": {"field": "客户状态", "op": "eq", "value": "新客户"},
   "actions": [{"type": "set_field", "field": "客户状态", "value": "已联系"}]}
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

    /// A whole number below `n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `p` percent.
    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    /// A random span of up to `hours`.
    fn within(&mut self, hours: i64) -> Duration {
        Duration::minutes(self.below(hours.max(1) as u64 * 60) as i64)
    }
}

/// What happens next in the simulation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    /// The customer's engine timer rings.
    Due,
    /// The customer arrives (a lead is created).
    Arrive,
    /// An event for the customer: its kind and, for status changes, the new status.
    Event(&'static str, Option<&'static str>),
}

/// What fired on one day.
#[derive(Default)]
struct Day {
    arrived: u32,
    events: u32,
    ticks: u32,
    by_rule: BTreeMap<(String, &'static str), u32>,
    tasks: u32,
    notices: u32,
    deferred: u32,
}

struct Host {
    engine: Engine,
    start: DateTime<Utc>,
    records: Vec<Record>,
    states: Vec<CustomerState>,
    timers: Vec<Option<DateTime<Utc>>>,
    queue: BinaryHeap<Reverse<(DateTime<Utc>, usize, Happening)>>,
    days: Vec<Day>,
    rng: Rng,
    event_ids: u64,
}

impl Host {
    fn day(&mut self, at: DateTime<Utc>) -> &mut Day {
        let i = ((at - self.start).num_days().clamp(0, DAYS - 1)) as usize;
        &mut self.days[i]
    }

    /// Carries out a plan as a CRM backend would: field changes, the new state, and the
    /// actions (counted here); then sets the customer's one timer.
    fn apply(&mut self, c: usize, plan: Plan, at: DateTime<Utc>) {
        for change in &plan.changes {
            if let Some(id) = self.engine.schema().field_id(&change.field) {
                self.records[c].set(id, change.new.clone());
            }
        }
        if let Some(state) = plan.state {
            self.states[c] = state;
        }
        let day = self.day(at);
        for o in &plan.occurrences {
            let status = match o.status {
                OccurrenceStatus::Fired => "fired",
                OccurrenceStatus::NotFired => "not fired",
                OccurrenceStatus::Missed => "missed",
                _ => "other",
            };
            *day.by_rule
                .entry((o.rule_id.to_string(), status))
                .or_default() += o.count;
        }
        for a in &plan.actions {
            match a.action {
                ResolvedAction::CreateTask { .. } => day.tasks += 1,
                ResolvedAction::Notify { .. } => day.notices += 1,
                _ => {}
            }
            if a.not_before.is_some() {
                day.deferred += 1;
            }
        }
        self.timers[c] = self.engine.next_due(&self.records[c], &self.states[c]);
        if let Some(due) = self.timers[c] {
            // A time in the past means "tick now".
            self.queue.push(Reverse((due.max(at), c, Happening::Due)));
        }
    }

    fn send(&mut self, c: usize, kind: &str, status: Option<&str>, at: DateTime<Utc>) {
        self.event_ids += 1;
        let mut event = Event::new(kind, format!("e{}", self.event_ids), at);
        if let Some(s) = status {
            event = event.change("客户状态", s);
        }
        let id = format!("C{c:04}");
        let plan = self.engine.evaluate(&Input::new(
            &id,
            &self.records[c],
            &self.states[c],
            &event,
            at,
        ));
        self.day(at).events += 1;
        self.apply(c, plan, at);
    }

    /// What a customer will do: some follow-ups by the owner, and maybe a change of status.
    fn script(&mut self, c: usize, created: DateTime<Utc>) {
        // 60 % get a first follow-up within 5 days, the rest are forgotten for a while.
        let first = if self.rng.percent(60) {
            created + self.rng.within(5 * 24)
        } else {
            created + Duration::days(4) + self.rng.within(20 * 24)
        };
        self.queue.push(Reverse((
            first,
            c,
            Happening::Event("follow_up_logged", None),
        )));
        if self.rng.percent(55) {
            let interested = first + self.rng.within(6 * 24);
            self.queue.push(Reverse((
                interested,
                c,
                Happening::Event("status_changed", Some("意向客户")),
            )));
            // Interested customers get follow-ups every 3 to 12 days, until the outcome.
            let mut t = interested;
            let outcome = interested + Duration::days(10) + self.rng.within(40 * 24);
            while t < outcome {
                t += Duration::days(3) + self.rng.within(9 * 24);
                self.queue
                    .push(Reverse((t, c, Happening::Event("follow_up_logged", None))));
            }
            let result = if self.rng.percent(50) {
                "成交客户"
            } else {
                "流失客户"
            };
            self.queue.push(Reverse((
                outcome,
                c,
                Happening::Event("status_changed", Some(result)),
            )));
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let schema = Schema::from_json(SCHEMA)?;
    let engine = Engine::builder(schema)
        .rules(RuleSet::from_json(RULES)?)
        .build()?;
    let start = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(); // 08:00 Shanghai
    let end = start + Duration::days(DAYS);
    let mut host = Host {
        engine,
        start,
        records: Vec::with_capacity(CUSTOMERS),
        states: vec![CustomerState::new(); CUSTOMERS],
        timers: vec![None; CUSTOMERS],
        queue: BinaryHeap::new(),
        days: (0..DAYS).map(|_| Day::default()).collect(),
        rng: Rng(2024_0301),
        event_ids: 0,
    };
    let owners = ["wang", "li", "zhao", "chen", "zhou"];
    for c in 0..CUSTOMERS {
        let created = start + host.rng.within(60 * 24);
        let owner = owners[host.rng.below(owners.len() as u64) as usize];
        let record = host.engine.schema().record([
            ("客户名称", Value::from(format!("客户{c:04}"))),
            ("负责人", Value::from(owner)),
            ("销售经理", Value::from("manager.sun")),
            ("客户状态", Value::from("新客户")),
            ("创建时间", Value::DateTime(created)),
        ])?;
        host.records.push(record);
        host.queue.push(Reverse((created, c, Happening::Arrive)));
    }

    // The simulated clock: the next happening, in time order.
    while let Some(Reverse((at, c, what))) = host.queue.pop() {
        if at >= end {
            break;
        }
        match what {
            Happening::Arrive => {
                host.day(at).arrived += 1;
                host.send(c, "lead_created", None, at);
                host.script(c, at);
            }
            Happening::Event(kind, status) => host.send(c, kind, status, at),
            Happening::Due => {
                // Only the latest timer counts (an earlier one was replaced).
                if host.timers[c].is_none_or(|t| t > at) {
                    continue;
                }
                let id = format!("C{c:04}");
                let plan =
                    host.engine
                        .tick(&TickInput::new(&id, &host.records[c], &host.states[c], at));
                host.day(at).ticks += 1;
                host.apply(c, plan, at);
            }
        }
    }

    println!("day  date        arrived events ticks | 新客户3天 fired/not | 意向7天 fired | tasks notices deferred");
    let mut totals = Day::default();
    for (i, d) in host.days.iter().enumerate() {
        let date = (start + Duration::days(i as i64)).date_naive();
        let n = |rule: &str, status: &'static str| {
            d.by_rule
                .get(&(rule.to_owned(), status))
                .copied()
                .unwrap_or(0)
        };
        println!(
            "{:>3}  {date}  {:>7} {:>6} {:>5} | {:>9} / {:<5} | {:>12} | {:>5} {:>7} {:>8}",
            i + 1,
            d.arrived,
            d.events,
            d.ticks,
            n("new-3d", "fired"),
            n("new-3d", "not fired"),
            n("intent-7d", "fired"),
            d.tasks,
            d.notices,
            d.deferred
        );
        totals.arrived += d.arrived;
        totals.events += d.events;
        totals.ticks += d.ticks;
        totals.tasks += d.tasks;
        totals.notices += d.notices;
        totals.deferred += d.deferred;
        for (k, v) in &d.by_rule {
            *totals.by_rule.entry(k.clone()).or_default() += v;
        }
    }
    println!(
        "\n{} customers, {} events, {} ticks; {} tasks, {} notices ({} held until the window opened)",
        totals.arrived, totals.events, totals.ticks, totals.tasks, totals.notices, totals.deferred
    );
    for ((rule, status), n) in &totals.by_rule {
        println!("  {rule:<10} {status:<10} {n}");
    }
    let stopped = host
        .states
        .iter()
        .filter(|s| s.is_stopped("new-3d") || s.is_stopped("intent-7d"))
        .count();
    println!("  {stopped} customers have a reminder stopped by its 失效条件");
    Ok(())
}
