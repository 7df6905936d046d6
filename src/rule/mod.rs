//! The authoring model of rules: what administrators write, as JSON or with builders.

mod action;
mod condition;
mod load;
mod trigger;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use action::{
    Action, Assignment, Channel, Notification, Recipient, Step, Task, TaskPriority, Variant, Window,
};
pub use condition::{CompareBuilder, Condition, Count, Op, Operand};
pub use trigger::{Every, Trigger};

use crate::duration::Duration;

/// When a rule fires on its trigger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FireMode {
    /// Every time the trigger happens and the condition holds (the default).
    #[default]
    EveryTime,
    /// Only when the condition becomes true: it was false before the event and holds
    /// after it ("created, and any time it's edited to subsequently meet criteria").
    WhenBecomesTrue,
}

/// When a rule stops applying (失效条件), and how often it may fire per customer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expiry {
    /// The rule does not fire for events before this instant.
    #[serde(
        default,
        deserialize_with = "instant",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_from: Option<DateTime<Utc>>,
    /// The rule does not fire for events at or after this instant.
    #[serde(
        default,
        deserialize_with = "instant",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<DateTime<Utc>>,
    /// Once this holds for a customer, the rule no longer fires for that customer and its
    /// pending timers and steps are cancelled ("stop once the customer is 成交客户").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_when: Option<Condition>,
    /// The most times the rule fires per customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fires: Option<u32>,
    /// The least time between two fires for one customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<Duration>,
}

impl Expiry {
    fn is_default(&self) -> bool {
        *self == Expiry::default()
    }
}

/// Reads an optional JSON literal so that a present `null` is `Some(Null)` (clear the
/// field, compare with nothing) rather than the same as a missing key.
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// Reads a JSON object into an ordered map, refusing a key given twice (serde would keep
/// the last one silently).
pub(crate) fn unique_keys<'de, D, T>(d: D) -> Result<indexmap::IndexMap<String, T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Keys<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Keys<T> {
        type Value = indexmap::IndexMap<String, T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = indexmap::IndexMap::new();
            while let Some((key, value)) = map.next_entry::<String, T>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!(
                        "the key {key:?} is given twice"
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Keys(std::marker::PhantomData))
}

/// Reads an optional RFC 3339 instant with a message that says what is expected.
pub(crate) fn instant<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "expected an RFC 3339 date-time such as 2024-05-20T09:00:00+08:00, found {text:?}"
            ))
        })
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// A rule: when its trigger happens for a customer in its scope and its condition holds,
/// its actions are planned.
///
/// JSON keys: `id`, `name`, `description`, `enabled` (default true), `trigger`, `scope`,
/// `when`, `actions`, `priority` (default 0; higher runs first), `group` (an exclusive
/// group: only the highest-priority matching rule of a group fires), `fire`
/// (`every_time` or `when_becomes_true`), `expiry`, `repeat_in_cascade` (default false:
/// a rule fires at most once per customer within one evaluation).
///
/// ```
/// use crm_rules::{Action, Condition, Duration, Rule, Trigger};
/// let rule = Rule::new("followup-3d", "新客户3天未跟进提醒", Trigger::after("创建时间", Duration::days(3).ok_or("range")?))
///     .when(Condition::field("客户状态").eq("新客户"))
///     .action(Action::task("跟进 {{客户名称}}"))
///     .stop_when(Condition::field("客户状态").eq("成交客户"))
///     .priority(10);
/// assert_eq!(rule.priority, 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The id, unique within the rule set.
    pub id: String,
    /// The name that says what the rule is for.
    pub name: String,
    /// A longer description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Disabled rules never fire.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// What makes the rule run.
    pub trigger: Trigger,
    /// The customers the rule applies to (生效范围); all when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Condition>,
    /// The condition; always true when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// What the rule does, in order.
    pub actions: Vec<Action>,
    /// Higher runs first; ties go to the earlier rule in the set.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    /// The exclusive group: of the matching rules of one group only the first by
    /// priority fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// When the rule fires on its trigger.
    #[serde(default, skip_serializing_if = "is_every_time")]
    pub fire: FireMode,
    /// Validity, stop condition and limits.
    #[serde(default, skip_serializing_if = "Expiry::is_default")]
    pub expiry: Expiry,
    /// Lets the rule fire more than once per customer within one evaluation's cascade.
    #[serde(default, skip_serializing_if = "is_false")]
    pub repeat_in_cascade: bool,
}

fn is_every_time(m: &FireMode) -> bool {
    *m == FireMode::EveryTime
}

impl Rule {
    /// An enabled rule with an id, a name and a trigger, no condition and no actions.
    pub fn new(id: impl Into<String>, name: impl Into<String>, trigger: Trigger) -> Rule {
        Rule {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            enabled: true,
            trigger,
            scope: None,
            when: None,
            actions: Vec::new(),
            priority: 0,
            group: None,
            fire: FireMode::EveryTime,
            expiry: Expiry::default(),
            repeat_in_cascade: false,
        }
    }

    /// Sets the condition.
    pub fn when(mut self, c: Condition) -> Rule {
        self.when = Some(c);
        self
    }

    /// Sets the scope.
    pub fn scope(mut self, c: Condition) -> Rule {
        self.scope = Some(c);
        self
    }

    /// Adds an action.
    pub fn action(mut self, a: impl Into<Action>) -> Rule {
        self.actions.push(a.into());
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, p: i32) -> Rule {
        self.priority = p;
        self
    }

    /// Puts the rule in an exclusive group.
    pub fn group(mut self, g: impl Into<String>) -> Rule {
        self.group = Some(g.into());
        self
    }

    /// Sets the fire mode.
    pub fn fire(mut self, m: FireMode) -> Rule {
        self.fire = m;
        self
    }

    /// Sets the stop condition.
    pub fn stop_when(mut self, c: Condition) -> Rule {
        self.expiry.stop_when = Some(c);
        self
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Rule {
        self.description = d.into();
        self
    }

    /// Disables the rule.
    pub fn disabled(mut self) -> Rule {
        self.enabled = false;
        self
    }
}

/// A rule set: the rules of a tenant, in order, and the default time zone of their
/// schedules and local times.
///
/// JSON: `{"time_zone": "Asia/Shanghai", "rules": [...]}`. Read one with
/// [`RuleSet::from_json`], check and compile it with [`RuleSet::compile`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// The IANA time zone of local times in the rules (UTC when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The rules, in order; the order breaks priority ties.
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// A rule set of the given rules, times in UTC.
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> RuleSet {
        RuleSet {
            time_zone: None,
            rules: rules.into_iter().collect(),
        }
    }

    /// The rule set's JSON form, pretty-printed.
    ///
    /// # Errors
    /// A condition nested deeper than 60 levels (only Rust builders can make one; such a
    /// rule set would not compile either).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}
