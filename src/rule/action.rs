//! What a rule does: the actions of the authoring model.

use chrono::Weekday;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::condition::Condition;
use crate::duration::Duration;
use crate::time_of_day::TimeOfDay;
use crate::value::Number;

/// Who receives a task, a notification or an approval request.
///
/// JSON: `"owner"`, `{"user": "li.wei"}`, `{"role": "销售经理"}`, `{"field": "客户经理"}`
/// (the user in a member field of the customer), or `{"contact": "手机号"}` (the customer
/// itself, at the phone or e-mail address in that field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The customer's owner (the schema's `owner_field`).
    Owner,
    /// A user, by id.
    User(String),
    /// Everyone with a role, resolved by the host.
    Role(String),
    /// The user held in a member field of the customer.
    Field(String),
    /// The customer, at the phone number or e-mail address held in a field.
    Contact(String),
}

/// A notification channel. JSON: `"in_app"`, `"sms"`, `"email"` or `{"custom": "wechat"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A message inside the CRM.
    InApp,
    /// A text message.
    Sms,
    /// An e-mail.
    Email,
    /// A channel the host defines (WeChat Work, DingTalk…).
    Custom(String),
}

/// A task's priority.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskPriority {
    /// Low.
    Low,
    /// Normal (the default).
    #[default]
    Normal,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

/// The hours in which a task or notification may be delivered ("09:00–20:00 on working
/// days"); one falling outside moves to the next allowed instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The start, local time.
    pub start: TimeOfDay,
    /// The end, local time (after `start`).
    pub end: TimeOfDay,
    /// The allowed days; every day when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Weekday>,
    /// The IANA time zone; the rule set's when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// How an owner is chosen. JSON: an object with `"type"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Assignment {
    /// Always the same user.
    Fixed {
        /// The user.
        user: String,
    },
    /// By the value of a field ("区域 华东 → 王"), with a default for other values.
    Table {
        /// The field looked up.
        field: String,
        /// Field value → user.
        #[serde(deserialize_with = "super::unique_keys")]
        map: IndexMap<String, String>,
        /// The user for values not in the map (and for an absent value).
        default: String,
    },
    /// In turn over a pool; the host keeps the pool's counter.
    RoundRobin {
        /// The users, in order.
        pool: Vec<String>,
    },
    /// The user of the pool with the fewest open items, as the host reports them.
    LeastLoaded {
        /// The users.
        pool: Vec<String>,
    },
    /// A stable hash of the customer id over the pool: an even spread without state.
    Hash {
        /// The users.
        pool: Vec<String>,
    },
}

/// A task to create.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The title, a template (`"回访 {{客户名称}}"`).
    pub title: String,
    /// The description, a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who does it.
    #[serde(default = "owner")]
    pub assignee: Recipient,
    /// Due this long after the rule fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_in: Option<Duration>,
    /// The priority.
    #[serde(default)]
    pub priority: TaskPriority,
    /// When it may be delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

fn owner() -> Recipient {
    Recipient::Owner
}

/// A notification to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// The channel.
    pub channel: Channel,
    /// The recipients (at least one).
    pub to: Vec<Recipient>,
    /// Copied recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<Recipient>,
    /// The subject (e-mail), a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The message, a template.
    pub template: String,
    /// When it may be delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// One step of a sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// How long after the previous step (or the start) this step is due.
    pub after: Duration,
    /// Moves the due time to this local time of day, on the day reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<TimeOfDay>,
    /// Skip this step (go on to the next) when this holds at its due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_when: Option<Condition>,
    /// An exception step: run only if none of these event kinds arrived since the previous
    /// step ("no reply within 24 h → second reminder").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_event: Vec<String>,
    /// What the step does.
    pub actions: Vec<Action>,
}

/// One variant of an A/B split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The variant's name, reported in the plan (`"A"`).
    pub name: String,
    /// Its relative weight (positive).
    pub weight: u32,
    /// What the variant does.
    pub actions: Vec<Action>,
}

/// What a rule does. JSON: an object with `"type"` naming the variant.
///
/// ```
/// use crm_rules::Action;
/// let a: Action = serde_json::from_str(r#"{"type": "set_field", "field": "客户状态", "value": "已联系"}"#)?;
/// assert_eq!(a, Action::set("客户状态", "已联系"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Action {
    /// Sets a field to a literal (`value`), to a time relative to now (`from_now`, for
    /// date and date-time fields: `"0s"` is now), or to an attribute of the triggering
    /// event (`from_event`: a survey's score into 满意度评分). Exactly one of the three.
    SetField {
        /// The field.
        field: String,
        /// The literal (`null` clears the field).
        #[serde(
            default,
            deserialize_with = "super::present",
            skip_serializing_if = "Option::is_none"
        )]
        value: Option<serde_json::Value>,
        /// The time from now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_now: Option<Duration>,
        /// The event attribute copied.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_event: Option<String>,
    },
    /// Adds to a number field (an absent value counts as 0): "跟进次数 + 1", or "累计消费
    /// + the order's amount" with `by_event`.
    Increment {
        /// The field.
        field: String,
        /// The amount (1 when neither `by` nor `by_event` is given; may be negative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Number>,
        /// A number attribute of the triggering event to add (an absent one adds nothing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by_event: Option<String>,
    },
    /// Adds a tag (to the schema's only tags field when `field` is not given).
    AddTag {
        /// The tags or multiple-choice field.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// The tag.
        tag: String,
    },
    /// Removes a tag.
    RemoveTag {
        /// The tags or multiple-choice field.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// The tag.
        tag: String,
    },
    /// Assigns an owner (to the schema's `owner_field` when `field` is not given).
    AssignOwner {
        /// The member field written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// How the user is chosen.
        strategy: Assignment,
    },
    /// Creates a task.
    CreateTask(Task),
    /// Sends a notification.
    Notify(Notification),
    /// Pushes fields to another system, renamed by a mapping ("客户名称 → 公司名称").
    Sync {
        /// The target system, as the host names it.
        target: String,
        /// Customer field → field name in the target, in order.
        #[serde(deserialize_with = "super::unique_keys")]
        mapping: IndexMap<String, String>,
    },
    /// Asks for approval before a field change applies ("状态 → 流失客户 needs the
    /// department manager").
    RequestApproval {
        /// The field to change.
        field: String,
        /// The value it would get.
        value: serde_json::Value,
        /// Who approves.
        approver: Recipient,
        /// Why, a template.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Starts a sequence of timed steps.
    StartSequence {
        /// The sequence id, unique within the rule set.
        sequence: String,
        /// The steps, in order.
        steps: Vec<Step>,
        /// Stops the remaining steps when this holds ("the customer replied").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stop_when: Option<Condition>,
    },
    /// Splits customers between weighted variants by a stable hash.
    AbSplit {
        /// The experiment id, unique within the rule set.
        experiment: String,
        /// The variants (at least two).
        variants: Vec<Variant>,
    },
    /// A host-defined action with a JSON payload, passed through.
    Custom {
        /// The host's name for the action.
        kind: String,
        /// The payload.
        #[serde(default)]
        payload: serde_json::Value,
    },
}

impl Action {
    /// Sets a field to a literal.
    pub fn set(field: impl Into<String>, value: impl Into<serde_json::Value>) -> Action {
        Action::SetField {
            field: field.into(),
            value: Some(value.into()),
            from_now: None,
            from_event: None,
        }
    }

    /// Sets a date or date-time field to now plus `d`.
    pub fn set_from_now(field: impl Into<String>, d: Duration) -> Action {
        Action::SetField {
            field: field.into(),
            value: None,
            from_now: Some(d),
            from_event: None,
        }
    }

    /// Adds 1 to a number field.
    pub fn increment(field: impl Into<String>) -> Action {
        Action::Increment {
            field: field.into(),
            by: None,
            by_event: None,
        }
    }

    /// Adds a tag to the schema's tags field.
    pub fn add_tag(tag: impl Into<String>) -> Action {
        Action::AddTag {
            field: None,
            tag: tag.into(),
        }
    }

    /// Removes a tag from the schema's tags field.
    pub fn remove_tag(tag: impl Into<String>) -> Action {
        Action::RemoveTag {
            field: None,
            tag: tag.into(),
        }
    }

    /// Assigns the owner.
    pub fn assign(strategy: Assignment) -> Action {
        Action::AssignOwner {
            field: None,
            strategy,
        }
    }

    /// Creates a task for the owner with a title template and no due time.
    pub fn task(title: impl Into<String>) -> Task {
        Task {
            title: title.into(),
            description: None,
            assignee: Recipient::Owner,
            due_in: None,
            priority: TaskPriority::Normal,
            window: None,
        }
    }

    /// Notifies recipients on a channel with a message template.
    pub fn notify(
        channel: Channel,
        to: impl IntoIterator<Item = Recipient>,
        template: impl Into<String>,
    ) -> Notification {
        Notification {
            channel,
            to: to.into_iter().collect(),
            cc: Vec::new(),
            subject: None,
            template: template.into(),
            window: None,
        }
    }

    /// The name of the action kind (`"create_task"`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Action::SetField { .. } => "set_field",
            Action::Increment { .. } => "increment",
            Action::AddTag { .. } => "add_tag",
            Action::RemoveTag { .. } => "remove_tag",
            Action::AssignOwner { .. } => "assign_owner",
            Action::CreateTask(_) => "create_task",
            Action::Notify(_) => "notify",
            Action::Sync { .. } => "sync",
            Action::RequestApproval { .. } => "request_approval",
            Action::StartSequence { .. } => "start_sequence",
            Action::AbSplit { .. } => "ab_split",
            Action::Custom { .. } => "custom",
        }
    }
}

impl Task {
    /// Sets who does the task.
    pub fn assignee(mut self, r: Recipient) -> Task {
        self.assignee = r;
        self
    }

    /// Sets the due time, relative to when the rule fires.
    pub fn due_in(mut self, d: Duration) -> Task {
        self.due_in = Some(d);
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, p: TaskPriority) -> Task {
        self.priority = p;
        self
    }
}

impl From<Task> for Action {
    fn from(t: Task) -> Action {
        Action::CreateTask(t)
    }
}

impl Notification {
    /// Adds copied recipients.
    pub fn cc(mut self, cc: impl IntoIterator<Item = Recipient>) -> Notification {
        self.cc.extend(cc);
        self
    }

    /// Sets the subject template.
    pub fn subject(mut self, s: impl Into<String>) -> Notification {
        self.subject = Some(s.into());
        self
    }
}

impl From<Notification> for Action {
    fn from(n: Notification) -> Action {
        Action::Notify(n)
    }
}
