//! Compiled actions.

use std::collections::HashSet;

use chrono::Weekday;
use chrono_tz::Tz;

use crate::compile::{join, Compiler};
use crate::condition::{CountSpec, EventScope, Node};
use crate::duration::Duration;
use crate::name::Name;
use crate::payload::Payload;
use crate::rule::{Action, Assignment, Channel, Recipient, TaskPriority, Window};
use crate::schema::{FieldId, FieldType, ValueKind};
use crate::template::Template;
use crate::time_of_day::TimeOfDay;
use crate::value::{Number, Value};

/// A recipient with its field resolved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CompiledRecipient {
    /// The user in the owner field.
    Owner(FieldId),
    User(String),
    Role(String),
    /// The user in a member field.
    Field(FieldId),
    /// The customer, at the phone or e-mail address in a field.
    Contact(FieldId),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CompiledAssignment {
    Fixed(String),
    Table {
        field: FieldId,
        map: Vec<(String, String)>,
        default: String,
    },
    RoundRobin(Vec<String>),
    LeastLoaded(Vec<String>),
    Hash(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledWindow {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
    pub days: Vec<Weekday>,
    pub time_zone: Tz,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledStep {
    pub after: Duration,
    pub at: Option<TimeOfDay>,
    pub skip_when: Option<Node>,
    pub unless_event: Vec<String>,
    pub actions: Vec<CompiledAction>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledVariant {
    pub name: String,
    pub weight: u32,
    pub actions: Vec<CompiledAction>,
}

/// What a set-field action writes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SetValue {
    Literal(Value),
    FromNow(Duration),
    /// An attribute of the triggering event.
    FromEvent(Box<str>),
}

/// An action with fields resolved, literals typed and templates compiled.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CompiledAction {
    SetField {
        field: FieldId,
        value: SetValue,
    },
    Increment {
        field: FieldId,
        by: Number,
        /// A number attribute of the event added instead of `by`.
        by_event: Option<Box<str>>,
    },
    AddTag {
        field: FieldId,
        tag: String,
    },
    RemoveTag {
        field: FieldId,
        tag: String,
    },
    AssignOwner {
        field: FieldId,
        strategy: CompiledAssignment,
    },
    CreateTask {
        title: Template,
        description: Option<Template>,
        assignee: CompiledRecipient,
        due_in: Option<Duration>,
        priority: TaskPriority,
        window: Option<CompiledWindow>,
    },
    Notify {
        channel: Channel,
        to: Vec<CompiledRecipient>,
        cc: Vec<CompiledRecipient>,
        subject: Option<Template>,
        template: Template,
        window: Option<CompiledWindow>,
    },
    Sync {
        target: String,
        mapping: Vec<(FieldId, String)>,
    },
    RequestApproval {
        field: FieldId,
        value: Value,
        approver: CompiledRecipient,
        reason: Option<Template>,
    },
    StartSequence {
        sequence: String,
        steps: Vec<CompiledStep>,
        stop_when: Option<Node>,
    },
    AbSplit {
        experiment: String,
        variants: Vec<CompiledVariant>,
    },
    Custom {
        kind: Name,
        payload: Payload,
    },
}

/// Ids that must be unique across a rule set: sequences and experiments.
#[derive(Default)]
pub(crate) struct SetIds {
    pub sequences: HashSet<String>,
    pub experiments: HashSet<String>,
}

/// What the action compiler needs besides the compiler: the rule's time zone, the
/// rule-set-wide ids, the count slots, and how many actions the rule has so far.
pub(crate) struct ActionCtx<'s, 'a> {
    pub tz: Tz,
    /// The event attributes actions may read (none inside sequence steps).
    pub events: EventScope<'a>,
    pub ids: &'s mut SetIds,
    pub counts: &'s mut Vec<CountSpec>,
    pub total: usize,
}

const NO_EVENT_STEP: EventScope<'static> =
    EventScope::NoEvent("sequence steps run on time, not on an event");

impl<'a> Compiler<'a> {
    pub(crate) fn actions(
        &mut self,
        actions: &[Action],
        path: &str,
        cx: &mut ActionCtx<'_, 'a>,
        depth: usize,
    ) -> Option<Vec<CompiledAction>> {
        if actions.is_empty() {
            self.problem(path, "at least one action is needed");
            return None;
        }
        if depth > self.limits.max_depth {
            self.problem(
                path,
                format!(
                    "actions are nested deeper than {} levels",
                    self.limits.max_depth
                ),
            );
            return None;
        }
        cx.total += actions.len();
        if cx.total > self.limits.max_actions {
            self.problem(
                path,
                format!("the rule has more than {} actions", self.limits.max_actions),
            );
            return None;
        }
        let compiled: Vec<Option<CompiledAction>> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| self.action(a, &format!("{path}[{i}]"), cx, depth))
            .collect();
        compiled.into_iter().collect()
    }

    fn recipient(&mut self, r: &Recipient, path: &str) -> Option<CompiledRecipient> {
        match r {
            Recipient::Owner => match self.schema.owner_field() {
                Some(id) => Some(CompiledRecipient::Owner(id)),
                None => {
                    self.problem(path, "\"owner\" needs the schema to name its owner_field");
                    None
                }
            },
            Recipient::User(u) => {
                self.name(u, path, "user id");
                Some(CompiledRecipient::User(u.clone()))
            }
            Recipient::Role(r) => {
                self.name(r, path, "role");
                Some(CompiledRecipient::Role(r.clone()))
            }
            Recipient::Field(f) => self.member_field(f, path).map(CompiledRecipient::Field),
            Recipient::Contact(f) => {
                let (id, def) = self.field(f, path)?;
                if !matches!(def.field_type, FieldType::Phone | FieldType::Email) {
                    self.problem(path, format!("{f:?} is not a phone or e-mail field"));
                    return None;
                }
                Some(CompiledRecipient::Contact(id))
            }
        }
    }

    fn recipients(&mut self, rs: &[Recipient], path: &str) -> Option<Vec<CompiledRecipient>> {
        self.no_duplicates(rs, path);
        let out: Vec<Option<CompiledRecipient>> = rs
            .iter()
            .enumerate()
            .map(|(i, r)| self.recipient(r, &format!("{path}[{i}]")))
            .collect();
        out.into_iter().collect()
    }

    fn member_field(&mut self, name: &str, path: &str) -> Option<FieldId> {
        let (id, def) = self.field(name, path)?;
        if def.field_type != FieldType::Member {
            self.problem(path, format!("{name:?} is not a member field"));
            return None;
        }
        Some(id)
    }

    /// The named list field, or the schema's only tags field.
    fn tags_field(
        &mut self,
        field: Option<&String>,
        path: &str,
    ) -> Option<(FieldId, &'a crate::schema::Field)> {
        let at = join(path, "field");
        let (id, def) = match field {
            Some(name) => self.field(name, &at)?,
            None => match self.schema.default_tags_field() {
                Some(id) => {
                    let schema: &'a crate::schema::Schema = self.schema;
                    (id, schema.field(id)?)
                }
                None => {
                    self.problem(
                        &at,
                        "name the field: the schema has no single tags field to default to",
                    );
                    return None;
                }
            },
        };
        if def.field_type.kind() != ValueKind::List {
            self.problem(
                &at,
                format!("{:?} is not a tags or multiple-choice field", def.name),
            );
            return None;
        }
        Some((id, def))
    }

    fn tag(&mut self, field: Option<&String>, tag: &str, path: &str) -> Option<(FieldId, String)> {
        let (id, def) = self.tags_field(field, path)?;
        let at = join(path, "tag");
        self.name(tag, &at, "tag");
        if def.field_type == FieldType::MultipleChoice && !def.options.iter().any(|o| o == tag) {
            self.problem(&at, crate::schema::not_an_option(def, tag));
            return None;
        }
        Some((id, tag.to_owned()))
    }

    fn window(&mut self, w: Option<&Window>, path: &str, tz: Tz) -> Option<Option<CompiledWindow>> {
        let Some(w) = w else { return Some(None) };
        let time_zone = self.time_zone(w.time_zone.as_ref(), tz, &join(path, "time_zone"));
        self.no_duplicates(&w.days, &join(path, "days"));
        if w.start >= w.end {
            self.problem(
                &join(path, "end"),
                format!("the window ends ({}) before it starts ({})", w.end, w.start),
            );
            return None;
        }
        Some(Some(CompiledWindow {
            start: w.start,
            end: w.end,
            days: w.days.clone(),
            time_zone,
        }))
    }

    fn optional_template(&mut self, t: Option<&String>, path: &str) -> Option<Option<Template>> {
        match t {
            None => Some(None),
            Some(t) => self.template(t, path).map(Some),
        }
    }

    fn required_template(&mut self, t: &str, path: &str) -> Option<Template> {
        if t.trim().is_empty() {
            self.problem(path, "the template is empty");
            return None;
        }
        self.template(t, path)
    }

    fn pool(&mut self, pool: &[String], path: &str) -> Option<Vec<String>> {
        if pool.is_empty() {
            self.problem(path, "the pool is empty");
            return None;
        }
        for (i, u) in pool.iter().enumerate() {
            self.name(u, &format!("{path}[{i}]"), "user id");
            if pool[..i].contains(u) {
                self.problem(
                    &format!("{path}[{i}]"),
                    format!("{u:?} is in the pool twice"),
                );
            }
        }
        Some(pool.to_vec())
    }

    fn assignment(&mut self, s: &Assignment, path: &str) -> Option<CompiledAssignment> {
        Some(match s {
            Assignment::Fixed { user } => {
                self.name(user, &join(path, "user"), "user id");
                CompiledAssignment::Fixed(user.clone())
            }
            Assignment::Table {
                field,
                map,
                default,
            } => {
                let (id, def) = self.field(field, &join(path, "field"))?;
                if def.field_type.kind() != ValueKind::Text {
                    self.problem(
                        &join(path, "field"),
                        format!("{field:?} is not a text or single-choice field"),
                    );
                    return None;
                }
                if map.is_empty() {
                    self.problem(&join(path, "map"), "the table is empty");
                }
                for (key, user) in map {
                    let at = format!("{}.{key}", join(path, "map"));
                    if def.field_type == FieldType::SingleChoice && !def.options.contains(key) {
                        self.problem(&at, crate::schema::not_an_option(def, key));
                    }
                    self.name(user, &at, "user id");
                }
                self.name(default, &join(path, "default"), "user id");
                CompiledAssignment::Table {
                    field: id,
                    map: map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    default: default.clone(),
                }
            }
            Assignment::RoundRobin { pool } => {
                CompiledAssignment::RoundRobin(self.pool(pool, &join(path, "pool"))?)
            }
            Assignment::LeastLoaded { pool } => {
                CompiledAssignment::LeastLoaded(self.pool(pool, &join(path, "pool"))?)
            }
            Assignment::Hash { pool } => {
                CompiledAssignment::Hash(self.pool(pool, &join(path, "pool"))?)
            }
        })
    }

    fn action(
        &mut self,
        a: &Action,
        path: &str,
        cx: &mut ActionCtx<'_, 'a>,
        depth: usize,
    ) -> Option<CompiledAction> {
        Some(match a {
            Action::SetField {
                field,
                value,
                from_now,
                from_event,
            } => {
                let (id, def) = self.field(field, &join(path, "field"))?;
                let value = match (value, from_now, from_event) {
                    (Some(v), None, None) => {
                        SetValue::Literal(self.stored_value(def, v, &join(path, "value"))?)
                    }
                    (None, Some(d), None) => {
                        if !matches!(def.field_type.kind(), ValueKind::Date | ValueKind::DateTime) {
                            self.problem(
                                &join(path, "from_now"),
                                format!("{field:?} is not a date or date-time field"),
                            );
                            return None;
                        }
                        SetValue::FromNow(*d)
                    }
                    (None, None, Some(name)) => {
                        let at = join(path, "from_event");
                        let attr = self.event_attribute(name, &at, cx.events)?;
                        if let Some(attr) = attr {
                            let (from, to) = (attr.field_type.kind(), def.field_type.kind());
                            if from != to
                                && !(from == ValueKind::Integer && to == ValueKind::Number)
                            {
                                self.problem(
                                    &at,
                                    format!(
                                        "{name:?} holds a {} value; {field:?} is a {} field",
                                        attr.field_type.name(),
                                        def.field_type.name()
                                    ),
                                );
                                return None;
                            }
                        }
                        SetValue::FromEvent(name.clone().into_boxed_str())
                    }
                    _ => {
                        self.problem(
                            path,
                            "set_field needs exactly one of `value`, `from_now` and `from_event`",
                        );
                        return None;
                    }
                };
                CompiledAction::SetField { field: id, value }
            }
            Action::Increment {
                field,
                by,
                by_event,
            } => {
                let (id, def) = self.field(field, &join(path, "field"))?;
                if by.is_some() && by_event.is_some() {
                    self.problem(path, "increment takes `by` or `by_event`, not both");
                    return None;
                }
                let by = by.unwrap_or(Number::from(1));
                let by_event = match by_event {
                    None => None,
                    Some(name) => {
                        let at = join(path, "by_event");
                        let attr = self.event_attribute(name, &at, cx.events)?;
                        if let Some(attr) = attr.filter(|a| {
                            !matches!(a.field_type.kind(), ValueKind::Number | ValueKind::Integer)
                        }) {
                            self.problem(
                                &at,
                                format!(
                                    "{name:?} is a {} attribute, not a number",
                                    attr.field_type.name()
                                ),
                            );
                            return None;
                        }
                        if attr.is_none_or(|a| a.field_type.kind() != ValueKind::Integer)
                            && def.field_type.kind() == ValueKind::Integer
                        {
                            self.problem(
                                &at,
                                format!("{field:?} holds integers; {name:?} may not be one"),
                            );
                            return None;
                        }
                        Some(name.clone().into_boxed_str())
                    }
                };
                match def.field_type.kind() {
                    ValueKind::Number => {}
                    ValueKind::Integer if by.as_i64().is_some() => {}
                    ValueKind::Integer => {
                        self.problem(
                            &join(path, "by"),
                            format!("{field:?} holds integers; {by} is not one"),
                        );
                        return None;
                    }
                    _ => {
                        self.problem(
                            &join(path, "field"),
                            format!("{field:?} is not a number field"),
                        );
                        return None;
                    }
                }
                CompiledAction::Increment {
                    field: id,
                    by,
                    by_event,
                }
            }
            Action::AddTag { field, tag } => {
                let (field, tag) = self.tag(field.as_ref(), tag, path)?;
                CompiledAction::AddTag { field, tag }
            }
            Action::RemoveTag { field, tag } => {
                let (field, tag) = self.tag(field.as_ref(), tag, path)?;
                CompiledAction::RemoveTag { field, tag }
            }
            Action::AssignOwner { field, strategy } => {
                let at = join(path, "field");
                let field = match field {
                    Some(f) => self.member_field(f, &at),
                    None => {
                        let owner = self.schema.owner_field();
                        if owner.is_none() {
                            self.problem(&at, "name the field: the schema names no owner_field");
                        }
                        owner
                    }
                };
                let strategy = self.assignment(strategy, &join(path, "strategy"));
                CompiledAction::AssignOwner {
                    field: field?,
                    strategy: strategy?,
                }
            }
            Action::CreateTask(t) => {
                let title = self.required_template(&t.title, &join(path, "title"));
                let description =
                    self.optional_template(t.description.as_ref(), &join(path, "description"));
                let assignee = self.recipient(&t.assignee, &join(path, "assignee"));
                let window = self.window(t.window.as_ref(), &join(path, "window"), cx.tz);
                CompiledAction::CreateTask {
                    title: title?,
                    description: description?,
                    assignee: assignee?,
                    due_in: t.due_in,
                    priority: t.priority,
                    window: window?,
                }
            }
            Action::Notify(n) => {
                if let Channel::Custom(name) = &n.channel {
                    self.name(name, &join(path, "channel.custom"), "channel name");
                }
                if n.to.is_empty() {
                    self.problem(
                        &join(path, "to"),
                        "a notification needs at least one recipient",
                    );
                }
                let to = self.recipients(&n.to, &join(path, "to"));
                let cc = self.recipients(&n.cc, &join(path, "cc"));
                let subject = self.optional_template(n.subject.as_ref(), &join(path, "subject"));
                let template = self.required_template(&n.template, &join(path, "template"));
                let window = self.window(n.window.as_ref(), &join(path, "window"), cx.tz);
                CompiledAction::Notify {
                    channel: n.channel.clone(),
                    to: to?,
                    cc: cc?,
                    subject: subject?,
                    template: template?,
                    window: window?,
                }
            }
            Action::Sync { target, mapping } => {
                self.name(target, &join(path, "target"), "target system");
                let at = join(path, "mapping");
                if mapping.is_empty() {
                    self.problem(&at, "the mapping is empty");
                    return None;
                }
                let mut out = Vec::with_capacity(mapping.len());
                let mut targets = HashSet::new();
                for (from, to) in mapping {
                    let here = format!("{at}.{from}");
                    if let Some((id, _)) = self.field(from, &here) {
                        out.push((id, to.clone()));
                    }
                    self.name(to, &here, "target field");
                    if !targets.insert(to.as_str()) {
                        self.problem(&here, format!("two fields map to {to:?}"));
                    }
                }
                (out.len() == mapping.len()).then_some(())?;
                CompiledAction::Sync {
                    target: target.clone(),
                    mapping: out,
                }
            }
            Action::RequestApproval {
                field,
                value,
                approver,
                reason,
            } => {
                let (id, def) = self.field(field, &join(path, "field"))?;
                let value = self.stored_value(def, value, &join(path, "value"));
                let approver = self.recipient(approver, &join(path, "approver"));
                let reason = self.optional_template(reason.as_ref(), &join(path, "reason"));
                CompiledAction::RequestApproval {
                    field: id,
                    value: value?,
                    approver: approver?,
                    reason: reason?,
                }
            }
            Action::StartSequence {
                sequence,
                steps,
                stop_when,
            } => {
                let at = join(path, "sequence");
                self.name(sequence, &at, "sequence id");
                if !cx.ids.sequences.insert(sequence.clone()) {
                    self.problem(
                        &at,
                        format!("the sequence id {sequence:?} is used twice in the rule set"),
                    );
                }
                if steps.is_empty() {
                    self.problem(&join(path, "steps"), "a sequence needs at least one step");
                    return None;
                }
                let stop_when = match stop_when {
                    Some(c) => Some(self.condition(
                        c,
                        &join(path, "stop_when"),
                        NO_EVENT_STEP,
                        cx.counts,
                        0,
                    )?),
                    None => None,
                };
                let mut compiled = Vec::with_capacity(steps.len());
                for (i, step) in steps.iter().enumerate() {
                    let sp = format!("{}[{i}]", join(path, "steps"));
                    let skip_when = match &step.skip_when {
                        Some(c) => self
                            .condition(c, &join(&sp, "skip_when"), NO_EVENT_STEP, cx.counts, 0)
                            .map(Some),
                        None => Some(None),
                    };
                    for (j, e) in step.unless_event.iter().enumerate() {
                        self.event_kind(e, &format!("{}[{j}]", join(&sp, "unless_event")));
                    }
                    self.no_duplicates(&step.unless_event, &join(&sp, "unless_event"));
                    // Steps run on time: their actions have no event to read.
                    let events = std::mem::replace(&mut cx.events, NO_EVENT_STEP);
                    let actions = self.actions(&step.actions, &join(&sp, "actions"), cx, depth + 1);
                    cx.events = events;
                    if let (Some(skip_when), Some(actions)) = (skip_when, actions) {
                        compiled.push(CompiledStep {
                            after: step.after,
                            at: step.at,
                            skip_when,
                            unless_event: step.unless_event.clone(),
                            actions,
                        });
                    }
                }
                (compiled.len() == steps.len()).then_some(())?;
                CompiledAction::StartSequence {
                    sequence: sequence.clone(),
                    steps: compiled,
                    stop_when,
                }
            }
            Action::AbSplit {
                experiment,
                variants,
            } => {
                let at = join(path, "experiment");
                self.name(experiment, &at, "experiment id");
                if !cx.ids.experiments.insert(experiment.clone()) {
                    self.problem(
                        &at,
                        format!("the experiment id {experiment:?} is used twice in the rule set"),
                    );
                }
                if variants.len() < 2 {
                    self.problem(
                        &join(path, "variants"),
                        "an A/B split needs at least two variants",
                    );
                    return None;
                }
                let mut total: u64 = 0;
                let mut compiled = Vec::with_capacity(variants.len());
                for (i, v) in variants.iter().enumerate() {
                    let vp = format!("{}[{i}]", join(path, "variants"));
                    self.name(&v.name, &join(&vp, "name"), "variant name");
                    if variants[..i].iter().any(|o| o.name == v.name) {
                        self.problem(
                            &join(&vp, "name"),
                            format!("the variant name {:?} is used twice", v.name),
                        );
                    }
                    if v.weight == 0 {
                        self.problem(&join(&vp, "weight"), "the weight must be positive");
                    }
                    total += u64::from(v.weight);
                    if let Some(actions) =
                        self.actions(&v.actions, &join(&vp, "actions"), cx, depth + 1)
                    {
                        compiled.push(CompiledVariant {
                            name: v.name.clone(),
                            weight: v.weight,
                            actions,
                        });
                    }
                }
                if total > u64::from(u32::MAX) {
                    self.problem(
                        &join(path, "variants"),
                        "the weights add up to more than 4294967295",
                    );
                }
                (compiled.len() == variants.len()).then_some(())?;
                CompiledAction::AbSplit {
                    experiment: experiment.clone(),
                    variants: compiled,
                }
            }
            Action::Custom { kind, payload } => {
                self.name(kind, &join(path, "kind"), "custom action kind");
                CompiledAction::Custom {
                    kind: self.shared.text(kind).into(),
                    payload: self.shared.payload(payload),
                }
            }
        })
    }
}
