//! A small in-memory CRM host: new leads arrive from a trade fair (展会) and the web form;
//! the engine assigns them by region, creates tasks, notifies owners and moves their status
//! on; the host carries out each plan and prints what it does, step by step.
//!
//! ```text
//! cargo run --release --example new_leads
//! ```

use std::collections::BTreeMap;
use std::error::Error;

use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_rules::{
    Context, CustomerState, Engine, Event, Input, Plan, Record, ResolvedAction, ResolvedRecipient,
    RuleSet, Schema,
};

const SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "客户名称", "type": "text", "required": true},
    {"name": "手机号", "type": "phone", "sensitive": true},
    {"name": "区域", "type": "single_choice", "options": ["华东", "华南", "华北", "西南"]},
    {"name": "线索来源", "type": "single_choice", "options": ["展会", "官网表单"]},
    {"name": "客户状态", "type": "single_choice", "options": ["新客户", "已联系", "意向客户", "成交客户"]},
    {"name": "跟进次数", "type": "integer"},
    {"name": "负责人", "type": "member"},
    {"name": "标签", "type": "tags"}
  ],
  "events": [
    {"kind": "lead_created", "attributes": [
      {"name": "source", "type": "single_choice", "options": ["展会", "官网表单"]}]},
    {"kind": "call_logged", "attributes": [{"name": "outcome", "type": "single_choice", "options": ["接通", "未接通"]}]},
    {"kind": "demo_requested"}
  ]
}"#;

const RULES: &str = r#"{"time_zone": "Asia/Shanghai", "rules": [
  {"id": "expo-round-robin", "name": "展会线索轮流分配", "priority": 20, "group": "分配",
   "trigger": {"type": "event", "event": "lead_created",
               "where": {"event": "source", "op": "eq", "value": "展会"}},
   "actions": [{"type": "assign_owner", "strategy": {"type": "round_robin", "pool": ["wang", "zhao"]}},
               {"type": "add_tag", "tag": "展会线索"}]},
  {"id": "by-region", "name": "线索按区域分配", "priority": 10, "group": "分配",
   "trigger": {"type": "event", "event": "lead_created"},
   "actions": [{"type": "assign_owner", "strategy": {"type": "table", "field": "区域",
                "map": {"华东": "li", "华南": "chen"}, "default": "zhou"}}]},
  {"id": "first-contact", "name": "新线索首次联系", "priority": 0,
   "trigger": {"type": "event", "event": "lead_created"},
   "actions": [{"type": "set_field", "field": "客户状态", "value": "新客户"},
               {"type": "create_task", "title": "24小时内联系 {{客户名称}}（{{手机号}}）", "due_in": "24h", "priority": "high"},
               {"type": "notify", "channel": "in_app", "to": ["owner"], "template": "新线索：{{客户名称}}，来源 {{线索来源}}"}]},
  {"id": "contacted", "name": "接通后更新状态",
   "trigger": {"type": "event", "event": "call_logged", "where": {"event": "outcome", "op": "eq", "value": "接通"}},
   "when": {"field": "客户状态", "op": "eq", "value": "新客户"},
   "actions": [{"type": "set_field", "field": "客户状态", "value": "已联系"}, {"type": "increment", "field": "跟进次数"}]},
  {"id": "interested", "name": "申请演示即为意向客户",
   "trigger": {"type": "event", "event": "demo_requested"},
   "actions": [{"type": "set_field", "field": "客户状态", "value": "意向客户"}]},
  {"id": "notify-interest", "name": "意向客户通知负责人",
   "trigger": {"type": "field_changed", "field": "客户状态", "to": "意向客户"},
   "actions": [{"type": "create_task", "title": "为 {{客户名称}} 准备演示", "due_in": "2d"},
               {"type": "notify", "channel": "email", "to": ["owner"], "cc": [{"role": "销售经理"}],
                "subject": "{{客户名称}} 申请演示", "template": "{{客户名称}} 已成为意向客户，请安排演示。"}]}
]}"#;

/// What the host keeps: customers with their engine state, a task list, an outbox.
struct Host {
    engine: Engine,
    customers: BTreeMap<String, (Record, CustomerState)>,
    context: Context,
    tasks: Vec<String>,
    outbox: Vec<String>,
}

fn who(r: &ResolvedRecipient) -> String {
    match r {
        ResolvedRecipient::User(u) => u.clone(),
        ResolvedRecipient::Role(r) => format!("role {r}"),
        ResolvedRecipient::Contact(f) => format!("the customer's {f}"),
        ResolvedRecipient::Unassigned(f) => format!("nobody yet ({f} empty)"),
        _ => "?".into(),
    }
}

impl Host {
    fn new_lead(
        &mut self,
        id: &str,
        fields: serde_json::Value,
        source: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Box<dyn Error>> {
        let record = self.engine.schema().validate_json(&fields, at)?;
        self.customers
            .insert(id.to_owned(), (record, CustomerState::new()));
        let event =
            Event::new("lead_created", format!("{id}-created"), at).attribute("source", source);
        self.handle(id, event)
    }

    fn handle(&mut self, id: &str, event: Event) -> Result<(), Box<dyn Error>> {
        let (record, state) = self.customers.get(id).ok_or("unknown customer")?;
        let plan = self
            .engine
            .evaluate(&Input::new(id, record, state, &event, event.time).context(&self.context));
        println!(
            "\n[{}] {id} {}",
            event.time.format("%m-%d %H:%M"),
            event.kind
        );
        self.carry_out(id, plan)
    }

    /// Runs a plan as a host does: actions in order, then the net changes and the state.
    fn carry_out(&mut self, id: &str, plan: Plan) -> Result<(), Box<dyn Error>> {
        for a in &plan.actions {
            let line = match &a.action {
                ResolvedAction::AssignOwner { user, strategy, .. } => {
                    format!("assign to {user} ({strategy})")
                }
                ResolvedAction::SetField { field, value } => format!("set {field} = {value}"),
                ResolvedAction::Increment { field, value, .. } => format!("{field} → {value}"),
                ResolvedAction::AddTag { tag, .. } => format!("tag {tag}"),
                ResolvedAction::CreateTask {
                    title,
                    assignee,
                    due,
                    ..
                } => {
                    let due = due
                        .map(|d| d.format(" due %m-%d %H:%M UTC").to_string())
                        .unwrap_or_default();
                    self.tasks.push(format!("{} → {title}{due}", who(assignee)));
                    format!("task for {}: {title}{due}", who(assignee))
                }
                ResolvedAction::Notify {
                    channel,
                    to,
                    cc,
                    message,
                    ..
                } => {
                    let to: Vec<String> = to.iter().chain(cc).map(who).collect();
                    self.outbox
                        .push(format!("{channel:?} → {}: {message}", to.join(", ")));
                    format!("notify {} via {channel:?}: {message}", to.join(", "))
                }
                other => format!("{other:?}"),
            };
            println!("  {:<16} {line}", a.rule_name);
        }
        for s in &plan.suppressed {
            println!(
                "  (rule {} suppressed: group {} already assigned by {})",
                s.rule_id, s.group, s.by_rule
            );
        }
        let (record, state) = self.customers.get_mut(id).ok_or("unknown customer")?;
        for change in &plan.changes {
            if let Some(field) = self.engine.schema().field_id(&change.field) {
                record.set(field, change.new.clone());
            }
        }
        if let Some(new_state) = plan.state {
            *state = new_state;
        }
        for (pool, counter) in plan.counters {
            self.context.counters.insert(pool, counter);
        }
        if plan.actions.is_empty() {
            println!("  (nothing to do)");
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let schema = Schema::from_json(SCHEMA)?;
    let engine = Engine::builder(schema)
        .rules(RuleSet::from_json(RULES)?)
        .build()?;
    let mut host = Host {
        engine,
        customers: BTreeMap::new(),
        context: Context::default(),
        tasks: Vec::new(),
        outbox: Vec::new(),
    };
    let t0 = Utc
        .with_ymd_and_hms(2024, 5, 20, 1, 0, 0)
        .single()
        .ok_or("bad time")?;
    let at = |minutes: i64| t0 + Duration::minutes(minutes);

    let fair = [
        ("L001", "华为技术", "13812345678", "华东"),
        ("L002", "比亚迪", "13911112222", "华南"),
    ];
    for (i, (id, name, phone, region)) in fair.into_iter().enumerate() {
        let fields = serde_json::json!({"客户名称": name, "手机号": phone, "区域": region, "线索来源": "展会"});
        host.new_lead(id, fields, "展会", at(i as i64 * 5))?;
    }
    let web = [
        ("L003", "美的集团", "13700001111", "华南"),
        ("L004", "长安汽车", "13600002222", "西南"),
    ];
    for (i, (id, name, phone, region)) in web.into_iter().enumerate() {
        let fields = serde_json::json!({"客户名称": name, "手机号": phone, "区域": region, "线索来源": "官网表单"});
        host.new_lead(id, fields, "官网表单", at(30 + i as i64 * 5))?;
    }
    host.handle(
        "L001",
        Event::new("call_logged", "L001-call-1", at(120)).attribute("outcome", "未接通"),
    )?;
    host.handle(
        "L001",
        Event::new("call_logged", "L001-call-2", at(240)).attribute("outcome", "接通"),
    )?;
    host.handle(
        "L003",
        Event::new("call_logged", "L003-call-1", at(250)).attribute("outcome", "接通"),
    )?;
    host.handle("L003", Event::new("demo_requested", "L003-demo", at(600)))?;

    println!("\n== customers");
    let schema = host.engine.schema();
    for (id, (record, _)) in &host.customers {
        let show = |name: &str| {
            schema
                .field_id(name)
                .map(|f| schema.show(f, record.get(f)))
                .unwrap_or_default()
        };
        println!(
            "{id} {} 负责人={} 状态={} 跟进次数={} 手机={}",
            show("客户名称"),
            show("负责人"),
            show("客户状态"),
            show("跟进次数"),
            show("手机号")
        );
    }
    println!(
        "\n== {} tasks, {} messages sent; round-robin counters: {:?}",
        host.tasks.len(),
        host.outbox.len(),
        host.context.counters
    );
    Ok(())
}
