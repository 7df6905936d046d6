//! The time-based rules of an engine, indexed when it is built, and when each is due for a
//! customer.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::hash;
use super::named::name_hash;
use super::state::{CustomerState, FieldMark};
use crate::bytes::{same, word};
use crate::condition::Node;
use crate::duration::Duration;
use crate::keys::Key;
use crate::ruleset::{CompiledAction, CompiledRules, CompiledStep, CompiledTrigger};
use crate::schedule::recurrence::LocalSecond;
use crate::schedule::{local::Zone, relative, Recurrence, Ts};
use crate::schema::{FieldId, Record, Schema};
use crate::time_of_day::TimeOfDay;
use crate::value::Value;

/// What the engine needs of its time-based rules and sequences, built once.
#[derive(Clone, Debug)]
pub(crate) struct Timing {
    /// The time-based rules, in priority order (higher first, ties by position).
    pub rules: Vec<Timed>,
    /// Event kinds whose latest time the customer state keeps, sorted, with the hash of
    /// each ([`name_hash`]).
    pub kinds: Vec<(Arc<str>, u64)>,
    /// Fields whose latest change the customer state keeps, with their names and the hash
    /// of each.
    pub fields: Vec<(FieldId, Arc<str>, u64)>,
    /// Whether two watched kinds, or two watched fields, have the same name hash (then
    /// they are found by name).
    pub collide: bool,
    /// Sequence id → its definition.
    pub sequences: HashMap<String, SequenceDef>,
    /// Whether some rule counts from when the engine first saw the customer (schedules,
    /// inactivity, time in stage).
    pub since: bool,
    /// The rule set's time zone, which sequence steps count in.
    pub zone: Zone,
    /// The fixed offset (from when, in seconds) of the zone the first schedule counts
    /// in, when it keeps one: each call reads its local calendar once for the schedules
    /// in that zone ([`Clock`]).
    clock_zone: Option<(i64, i32)>,
}

/// A time-in-stage limit: the stage's value hash ([`value_hash`]) and key, the stage,
/// the limit in seconds.
type Limit = (u32, Key, String, i64);

/// A time-based rule: what its due times are computed from, copied out of the compiled
/// rule so that computing them reads nothing else.
#[derive(Clone, Debug)]
pub(crate) struct Timed {
    pub rule: u32,
    id: Arc<str>,
    enabled: bool,
    /// Whether the rule has a stop condition (and so may be stopped for a customer).
    stoppable: bool,
    /// Enabled, without a stop condition: active for every customer.
    plain: bool,
    /// Enabled, and its gates keep no state for a customer (no stop condition, fire
    /// limit, cooldown, behaviour count or `when_becomes_true`): considering a due
    /// occurrence that does not fire changes nothing.
    pub stateless: bool,
    /// The rule's validity period.
    valid_from: Option<Ts>,
    valid_until: Option<Ts>,
    kind: Kind,
}

/// What a time-based rule's due times are computed from.
#[derive(Clone, Debug)]
enum Kind {
    Schedule {
        r: Recurrence,
        /// Whether it counts in [`Timing::clock_zone`], and has no validity period.
        plain: bool,
    },
    Relative {
        field: FieldId,
        /// Seconds after the field's time (negative: before).
        offset: i64,
        at: Option<TimeOfDay>,
        zone: Zone,
    },
    Inactivity {
        /// The places of its event kinds in [`Timing::kinds`].
        kinds: Vec<usize>,
        /// The same as bits (place `i`: bit `i`), when [`Seen`] holds every watched kind.
        mask: Option<u8>,
        /// The place of its field in [`Timing::fields`].
        field: Option<usize>,
        secs: i64,
    },
    Stage {
        field: FieldId,
        /// The place of the field in [`Timing::fields`].
        place: usize,
        /// Per stage with a limit, its [`Limit`].
        limits: Vec<Limit>,
    },
}

impl Timed {
    /// Whether the rule counts for the customer: enabled and not stopped (one test for
    /// the common rule, enabled without a stop condition).
    #[inline]
    pub fn active(&self, state: &CustomerState) -> bool {
        self.plain || (self.enabled && !(self.stoppable && state.is_stopped(&self.id)))
    }
}

/// A sequence, as the rule that starts it defines it.
#[derive(Clone, Debug)]
pub(crate) struct SequenceDef {
    pub rule: u32,
    pub steps: Vec<CompiledStep>,
    pub stop_when: Option<Node>,
}

/// When a time-based rule is next due for a customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// At this time.
    At(Ts),
    /// At once (this time is in the past): a tick must first look at the customer,
    /// because the engine has not seen it yet, or a watched field changed without the
    /// engine being shown the change.
    Look(Ts),
}

/// The due occurrences of a rule in a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// The latest due time.
    pub last: DateTime<Utc>,
    /// The occurrences within the maximum lateness: how many and the latest.
    pub fresh: Option<(u32, DateTime<Utc>)>,
    /// The occurrences later than it: how many and the latest.
    pub missed: Option<(u32, DateTime<Utc>)>,
}

fn sequences_in(actions: &[CompiledAction], rule: u32, out: &mut HashMap<String, SequenceDef>) {
    for a in actions {
        match a {
            CompiledAction::StartSequence {
                sequence,
                steps,
                stop_when,
            } => {
                out.insert(
                    sequence.clone(),
                    SequenceDef {
                        rule,
                        steps: steps.clone(),
                        stop_when: stop_when.clone(),
                    },
                );
                for s in steps {
                    sequences_in(&s.actions, rule, out);
                }
            }
            CompiledAction::AbSplit { variants, .. } => {
                for v in variants {
                    sequences_in(&v.actions, rule, out);
                }
            }
            _ => {}
        }
    }
}

impl Timing {
    /// Whether evaluations have nothing to record for time-based rules: no schedules,
    /// inactivity or stage rules, no watched kinds or fields.
    pub fn is_idle(&self) -> bool {
        !self.since && self.kinds.is_empty() && self.fields.is_empty()
    }

    pub fn new(rules: &CompiledRules, schema: &Schema) -> Timing {
        // Each zone is searched for its last offset change once.
        let mut zones: Vec<Zone> = Vec::new();
        let mut zone = |tz: chrono_tz::Tz| match zones.iter().find(|z| z.tz() == tz) {
            Some(z) => *z,
            None => {
                let z = Zone::new(tz);
                zones.push(z);
                z
            }
        };
        let mut t = Timing {
            rules: Vec::new(),
            kinds: Vec::new(),
            fields: Vec::new(),
            collide: false,
            sequences: HashMap::new(),
            since: false,
            zone: Zone::from(rules.time_zone),
            clock_zone: None,
        };
        let mut kinds: Vec<&str> = Vec::new();
        let mut fields = Vec::new();
        for (r, rule) in rules.rules.iter().enumerate() {
            let r = r as u32;
            sequences_in(&rule.actions, r, &mut t.sequences);
            let kind = match &rule.trigger {
                CompiledTrigger::Schedule {
                    every,
                    days,
                    day_of_month,
                    at,
                    time_zone,
                } => Kind::Schedule {
                    r: Recurrence::new(
                        *every,
                        days,
                        *day_of_month,
                        at.to_naive(),
                        zone(*time_zone),
                    ),
                    plain: false,
                },
                CompiledTrigger::Relative {
                    field,
                    offset,
                    at,
                    time_zone,
                } => Kind::Relative {
                    field: *field,
                    offset: *offset,
                    at: *at,
                    zone: zone(*time_zone),
                },
                CompiledTrigger::Inactivity {
                    events,
                    field,
                    duration,
                } => {
                    kinds.extend(events.iter().map(String::as_str));
                    fields.extend(*field);
                    Kind::Inactivity {
                        kinds: Vec::new(),
                        mask: None,
                        field: None,
                        secs: duration.as_seconds(),
                    }
                }
                CompiledTrigger::StageTime { field, limits } => {
                    fields.push(*field);
                    Kind::Stage {
                        field: *field,
                        place: 0,
                        limits: limits
                            .iter()
                            .map(|(stage, d)| {
                                let hash = value_hash(&Value::Text(stage.clone()));
                                (hash, Key::text(stage), stage.clone(), d.as_seconds())
                            })
                            .collect(),
                    }
                }
                CompiledTrigger::Event { .. } | CompiledTrigger::FieldChanged { .. } => continue,
            };
            if !matches!(kind, Kind::Relative { .. }) {
                t.since = true;
            }
            t.rules.push(Timed {
                rule: r,
                id: rule.state_id.clone(),
                enabled: rule.enabled,
                stoppable: rule.stop_when.is_some(),
                plain: rule.enabled && rule.stop_when.is_none(),
                stateless: rule.enabled
                    && rule.stop_when.is_none()
                    && rule.max_fires.is_none()
                    && rule.cooldown.is_none()
                    && rule.counts.is_empty()
                    && rule.fire == crate::rule::FireMode::EveryTime,
                valid_from: rule.valid_from.map(Ts::of),
                valid_until: rule.valid_until.map(Ts::of),
                kind,
            });
        }
        for def in t.sequences.values() {
            for step in &def.steps {
                kinds.extend(step.unless_event.iter().map(String::as_str));
            }
        }
        kinds.sort_unstable();
        kinds.dedup();
        t.kinds = kinds
            .into_iter()
            .map(|k| (Arc::from(k), name_hash(k)))
            .collect();
        fields.sort();
        fields.dedup();
        t.fields = fields
            .into_iter()
            .filter_map(|f| {
                let name = &schema.field(f)?.name;
                Some((f, Arc::from(name.as_str()), name_hash(name)))
            })
            .collect();
        let distinct = |hashes: &mut Vec<u64>| {
            hashes.sort_unstable();
            hashes.windows(2).all(|w| w[0] != w[1])
        };
        t.collide = !distinct(&mut t.kinds.iter().map(|k| k.1).collect())
            || !distinct(&mut t.fields.iter().map(|f| f.2).collect());
        let order = |r: &Timed| {
            (
                std::cmp::Reverse(rules.rules[r.rule as usize].priority),
                r.rule,
            )
        };
        t.rules.sort_by_key(order);
        let mut timed = std::mem::take(&mut t.rules);
        for one in &mut timed {
            let place = |f: FieldId| t.fields.iter().position(|(g, _, _)| *g == f);
            match (&mut one.kind, &rules.rules[one.rule as usize].trigger) {
                (
                    Kind::Inactivity {
                        kinds, mask, field, ..
                    },
                    CompiledTrigger::Inactivity {
                        events,
                        field: watched,
                        ..
                    },
                ) => {
                    *kinds = events.iter().filter_map(|k| t.watched(k)).collect();
                    *mask = (t.kinds.len() <= SMALL).then(|| {
                        kinds
                            .iter()
                            .fold(0u8, |m, &k| m | u8::try_from(k).map_or(0, |k| 1 << (k & 7)))
                    });
                    *field = watched.and_then(place);
                }
                (
                    Kind::Stage {
                        field, place: p, ..
                    },
                    _,
                ) => *p = place(*field).unwrap_or(0),
                _ => {}
            }
        }
        t.clock_zone = timed.iter().find_map(|one| match &one.kind {
            Kind::Schedule { r, .. } => r.zone().fixed(),
            _ => None,
        });
        for one in &mut timed {
            let bounded = one.valid_from.is_some() || one.valid_until.is_some();
            if let Kind::Schedule { r, plain } = &mut one.kind {
                *plain = !bounded && t.clock_zone.is_some() && r.zone().fixed() == t.clock_zone;
            }
        }
        t.rules = timed;
        if !t.rules.is_empty() || !t.sequences.is_empty() {
            // Sequence steps count in the rule set's zone; an engine without time-based
            // rules does not search it.
            t.zone = zone(rules.time_zone);
        }
        t
    }

    /// The place in [`Timing::kinds`] of an event kind whose latest time the state keeps.
    pub fn watched(&self, kind: &str) -> Option<usize> {
        self.kinds.binary_search_by(|(k, _)| (**k).cmp(kind)).ok()
    }

    /// The latest time of the `i`th watched kind in a state.
    pub fn last_event(&self, state: &CustomerState, i: usize) -> Option<DateTime<Utc>> {
        let (name, hash) = self.kinds.get(i)?;
        match self.collide {
            false => state.last_events.get_hashed(*hash).copied(),
            true => state.last_events.get(name).copied(),
        }
    }

    /// The latest time of every watched kind in a state, into their places (as
    /// [`Timing::last_event`] of each, in one pass over the state's entries when no two
    /// watched kinds share a name hash: the first entry of a kind's hash is its time).
    fn last_events_into(&self, state: &CustomerState, out: &mut [Option<Ts>]) {
        if self.collide {
            for (i, slot) in out.iter_mut().enumerate().take(self.kinds.len()) {
                *slot = self.last_event(state, i).map(Ts::of);
            }
            return;
        }
        for (hash, at) in state.last_events.stamps() {
            if let Some(i) = self.kinds.iter().position(|(_, k)| *k == hash) {
                if let Some(slot @ None) = out.get_mut(i) {
                    *slot = Some(at);
                }
            }
        }
    }

    /// [`Timing::last_change`] as the instant and value hash of the mark, read from the
    /// instant the state keeps beside it.
    fn last_mark(&self, state: &CustomerState, i: usize) -> Option<(Ts, u32)> {
        let (_, name, hash) = self.fields.get(i)?;
        match (self.collide, state.last_changes.get_index_stamped(i)) {
            (true, _) => state.last_changes.get(name).copied().map(mark),
            (false, Some((h, m, at))) if h == *hash => Some((at, m.value)),
            (false, _) => state
                .last_changes
                .get_hashed_stamped(*hash)
                .map(|(m, at)| (at, m.value)),
        }
    }

    /// The mark of the `i`th watched field in a state (marks are kept in the order of the
    /// watched fields: its place is tried first).
    pub fn last_change(&self, state: &CustomerState, i: usize) -> Option<FieldMark> {
        let (_, name, hash) = self.fields.get(i)?;
        match (self.collide, state.last_changes.get_index(i)) {
            (true, _) => state.last_changes.get(name).copied(),
            (false, Some((h, m))) if h == *hash => Some(*m),
            (false, _) => state.last_changes.get_hashed(*hash).copied(),
        }
    }
}

/// A stable hash of bytes, eight at a time (faster than FNV-1a on the short texts of
/// stages and dates, which every due-time computation hashes).
#[inline]
fn words(tag: u8, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = K ^ (u64::from(tag) << 56) ^ (bytes.len() as u64);
    let whole = bytes.len() & !7;
    let (chunks, rest) = (
        bytes.get(..whole).unwrap_or_default(),
        bytes.get(whole..).unwrap_or_default(),
    );
    match <&[u8; 8]>::try_from(chunks) {
        // One whole word (texts of 8 to 15 bytes: most stages, four-character names),
        // without the loop's set-up.
        Ok(c) => h = (h ^ u64::from_le_bytes(*c)).wrapping_mul(K).rotate_left(29),
        Err(_) => {
            for c in chunks.chunks_exact(8) {
                h = (h ^ word(c)).wrapping_mul(K).rotate_left(29);
            }
        }
    }
    (h ^ word(rest)).wrapping_mul(K)
}

/// A stable 32-bit hash of a value, to notice that a watched field changed. Part of the
/// stored state: it must not change between releases.
#[inline]
pub(crate) fn value_hash(v: &Value) -> u32 {
    let h = match v {
        Value::Absent => words(0, &[]),
        Value::Text(t) => words(1, t.as_bytes()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => words(2, &i.to_le_bytes()),
            None => words(3, &n.as_f64().to_bits().to_le_bytes()),
        },
        Value::Bool(b) => words(4, &[u8::from(*b)]),
        Value::Date(d) => words(5, &chrono::Datelike::num_days_from_ce(d).to_le_bytes()),
        Value::DateTime(t) => return date_time_hash(*t),
        Value::List(items) => items
            .iter()
            .fold(words(7, &[]), |h, i| hash::mix(h ^ words(1, i.as_bytes()))),
    };
    let h = hash::mix(h);
    (h ^ (h >> 32)) as u32
}

/// [`value_hash`] of a date-time: [`words`] of its Unix seconds then nanoseconds
/// (little-endian, 12 bytes: one whole word, then four), without the general loop.
#[inline(always)]
fn date_time_hash(t: DateTime<Utc>) -> u32 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let h = K ^ (6u64 << 56) ^ 12;
    let h = (h ^ t.timestamp() as u64).wrapping_mul(K).rotate_left(29);
    let h = (h ^ u64::from(t.timestamp_subsec_nanos())).wrapping_mul(K);
    let h = hash::mix(h);
    (h ^ (h >> 32)) as u32
}

/// [`value_hash`] of a field's value, from the record's key when that holds the whole text
/// (the text's bytes, as [`words`] reads them: its first eight in `lo`, the rest in the
/// low bytes of `hi`), without reading the text; of the value otherwise.
#[inline]
pub(crate) fn field_hash(record: &Record, field: FieldId) -> u32 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let key = record.key(field);
    let Some(n) = key.short_len() else {
        return match record.get(field) {
            // Watched date-times (a last follow-up time) are common: hashed in line.
            Value::DateTime(t) => date_time_hash(*t),
            v => value_hash(v),
        };
    };
    // `words(1, text)`: one whole word for 8 bytes or more, then the rest.
    let mut h = K ^ (1u64 << 56) ^ n;
    let rest = match n >= 8 {
        true => {
            h = (h ^ key.lo).wrapping_mul(K).rotate_left(29);
            key.hi & 0x00ff_ffff_ffff_ffff
        }
        false => key.lo,
    };
    let h = hash::mix((h ^ rest).wrapping_mul(K));
    (h ^ (h >> 32)) as u32
}

/// What the due times of a customer are read from.
#[derive(Clone, Copy)]
pub(crate) struct Customer<'a> {
    pub record: &'a Record,
    pub state: &'a CustomerState,
    pub seen: &'a Seen,
    pub clock: &'a Clock,
}

/// What the schedules of one call share, read once: the bound their due occurrences lie
/// after (the latest tick; else just before when the engine first saw the customer, or
/// `Look` when it has not) and its next second on the local calendar of
/// [`Timing::clock_zone`], when the fast path holds there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    after: Result<Ts, When>,
    local: Option<LocalSecond>,
}

impl Clock {
    #[inline]
    pub fn new(timing: &Timing, seen: &Seen) -> Clock {
        let after = match seen.ticked {
            Some(h) => Ok(h),
            None => seen.since().map(Ts::just_before),
        };
        let local = match (after, timing.clock_zone) {
            (Ok(a), Some(zone)) => a
                .secs()
                .checked_add(1)
                .and_then(|s| LocalSecond::new(s, zone)),
            _ => None,
        };
        Clock { after, local }
    }
}

/// How many watched kinds and fields [`Seen`] holds; a rule set that watches more (rare)
/// is read entry by entry.
const SMALL: usize = 8;

/// What the customer's state says, read once per call so that each rule finds it by
/// place: when the engine first saw the customer and last ticked it, the latest time of
/// each watched kind, each watched field's mark and the hash of its current value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    pub since: Option<Ts>,
    ticked: Option<Ts>,
    kinds: [Option<Ts>; SMALL],
    marks: [Option<(Ts, u32)>; SMALL],
    hashes: [u32; SMALL],
}

fn mark(m: FieldMark) -> (Ts, u32) {
    (Ts::of(m.at), m.value)
}

impl Seen {
    /// Nothing read yet: [`Seen::read`] fills it in place (a `Seen` is a few hundred
    /// bytes, which returning one by value would copy).
    pub const EMPTY: Seen = Seen {
        since: None,
        ticked: None,
        kinds: [None; SMALL],
        marks: [None; SMALL],
        hashes: [0; SMALL],
    };

    /// Reads what the customer's state and record say into an [`Seen::EMPTY`].
    pub fn read(&mut self, timing: &Timing, record: &Record, state: &CustomerState) {
        warm(record, state);
        self.since = state.since.map(Ts::of);
        self.ticked = state.ticked.map(Ts::of);
        if timing.fields.len() <= SMALL {
            for ((field, _, _), hash) in timing.fields.iter().zip(self.hashes.iter_mut()) {
                *hash = field_hash(record, *field);
            }
            for (i, mark_of) in self.marks.iter_mut().enumerate().take(timing.fields.len()) {
                *mark_of = timing.last_mark(state, i);
            }
        }
        if timing.kinds.len() <= SMALL {
            timing.last_events_into(state, &mut self.kinds);
        }
    }

    /// The latest time of the `i`th watched kind.
    #[inline(always)]
    fn kind(&self, timing: &Timing, state: &CustomerState, i: usize) -> Option<Ts> {
        if timing.kinds.len() <= SMALL {
            return self.kinds.get(i).copied().flatten();
        }
        timing.last_event(state, i).map(Ts::of)
    }

    /// The mark of the `i`th watched field (when and the value's hash), and the hash of
    /// its current value.
    #[inline(always)]
    fn mark(&self, timing: &Timing, c: Customer<'_>, i: usize) -> Option<(Option<(Ts, u32)>, u32)> {
        if timing.fields.len() <= SMALL {
            return Some((*self.marks.get(i)?, *self.hashes.get(i)?));
        }
        let (field, _, _) = timing.fields.get(i)?;
        let m = timing.last_change(c.state, i).map(mark);
        Some((m, value_hash(c.record.get(*field))))
    }

    /// Whether there is nothing to record of the customer as it is: the engine has seen
    /// it (or no rule counts from then), and every watched field's mark shows its value.
    pub fn settled(&self, timing: &Timing) -> bool {
        (self.since.is_some() || !timing.since)
            && self.holds_fields(timing)
            && (0..timing.fields.len()).all(|i| self.changed(i).is_none())
    }

    /// Whether the marks and hashes of every watched field are held.
    pub fn holds_fields(&self, timing: &Timing) -> bool {
        timing.fields.len() <= SMALL
    }

    /// The hash of the `i`th watched field's value, when its mark does not show that
    /// value (the field changed since the engine last saw it, or was never seen).
    pub fn changed(&self, i: usize) -> Option<u32> {
        let hash = *self.hashes.get(i)?;
        match self.marks.get(i)? {
            Some((_, value)) if *value == hash => None,
            _ => Some(hash),
        }
    }

    /// Notes a new mark of the `i`th watched field.
    pub fn set_mark(&mut self, i: usize, at: Ts) {
        if let (Some(m), Some(h)) = (self.marks.get_mut(i), self.hashes.get(i)) {
            *m = Some((at, *h));
        }
    }

    /// The clock start, or `Look` at the Unix epoch when the engine has not seen the
    /// customer.
    fn since(&self) -> Result<Ts, When> {
        self.since.ok_or(When::Look(Ts::EPOCH))
    }
}

/// Starts the loads of what due times read of a customer before any of them is needed:
/// every cache line of the record's values and of the state, and the state's entries
/// (the texts of watched fields are not read when their keys hold them whole, as stages
/// mostly are). The record and state of one customer ticked among
/// many are rarely in cache, and misses started together overlap rather than each wait on
/// the one before. What is read is folded by `^` (nothing can overflow) and discarded.
#[inline(always)]
fn warm(record: &Record, state: &CustomerState) {
    let values = record.values();
    // A value is 32 bytes: one in two lies on each 64-byte line.
    let mut seen = values
        .iter()
        .step_by(2)
        .fold(0u64, |n, v| n ^ u64::from(matches!(v, Value::Absent)));
    // The state's maps (read by every tick: running sequences, stopped rules; and copied
    // when a tick writes its latest time): a pointer each, and the map of each that holds
    // entries.
    for len in [
        state.rules.len(),
        state.counters.len(),
        state.sequences.len(),
        state.experiments.len(),
        state.scores.len(),
    ] {
        seen ^= len as u64;
    }
    seen ^= state.last_events.hashed().next().map_or(0, |(h, _)| h);
    seen ^= state.last_changes.hashed().next().map_or(0, |(h, _)| h);
    std::hint::black_box(seen);
}

/// The one due time of a relative, inactivity or time-in-stage rule for the customer as
/// it is (whether or not a tick handled it); `None` when it has none (an absent date, a
/// stage with no limit).
#[inline(always)]
fn single(timing: &Timing, t: &Timed, c: Customer<'_>) -> Option<When> {
    match &t.kind {
        Kind::Schedule { .. } => None,
        Kind::Relative {
            field,
            offset,
            at,
            zone,
        } => relative::due(c.record.get(*field), *offset, *at, *zone).map(When::At),
        Kind::Inactivity {
            kinds,
            mask,
            field,
            secs,
        } => idle(timing, c, (kinds, *mask), *field, *secs),
        Kind::Stage {
            field,
            place,
            limits,
        } => stage(timing, c, *field, *place, limits),
    }
}

/// [`single`] of an inactivity rule: `secs` after the latest activity.
#[inline(always)]
fn idle(
    timing: &Timing,
    c: Customer<'_>,
    (kinds, mask): (&[usize], Option<u8>),
    field: Option<usize>,
    secs: i64,
) -> Option<When> {
    let mut anchor = match c.seen.since() {
        Ok(t) => t,
        Err(look) => return Some(look),
    };
    match mask {
        // Each kind's time held in `Seen`, found by its bit.
        Some(mut bits) => {
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(Some(t)) = c.seen.kinds.get(k) {
                    if t.secs() >= anchor.secs() && *t > anchor {
                        anchor = *t;
                    }
                }
            }
        }
        None => {
            for &k in kinds {
                if let Some(t) = c.seen.kind(timing, c.state, k) {
                    anchor = anchor.max(t);
                }
            }
        }
    }
    if let Some(i) = field {
        match c.seen.mark(timing, c, i)? {
            (Some((at, value)), hash) if value == hash => anchor = anchor.max(at),
            (Some((at, _)), _) => return Some(When::Look(at)),
            (None, _) => return Some(When::Look(anchor)),
        }
    }
    Some(When::At(anchor.plus(secs)))
}

/// [`single`] of a time-in-stage rule: the current stage's limit after the field took
/// its value.
#[inline(always)]
fn stage(
    timing: &Timing,
    c: Customer<'_>,
    field: FieldId,
    place: usize,
    limits: &[Limit],
) -> Option<When> {
    let stage = c.record.get(field).as_text()?;
    let (mark, hash) = c.seen.mark(timing, c, place)?;
    // Found by hash, then told by the key when it holds the whole stage (without
    // reading the text), else by the text.
    let key = c.record.key(field);
    let mut limit = None;
    for (h, k, s, secs) in limits {
        if *h == hash
            && (if key.is_exact() {
                *k == key
            } else {
                same(s, stage)
            })
        {
            limit = Some(*secs);
            break;
        }
    }
    let limit = limit?;
    match mark {
        Some((at, value)) if value == hash => Some(When::At(at.plus(limit))),
        Some((at, _)) => Some(When::Look(at)),
        None => Some(match c.seen.since() {
            Ok(t) => When::Look(t),
            Err(look) => look,
        }),
    }
}

/// Whether a due time lies in the rule's validity period.
fn valid(t: &Timed, at: Ts) -> bool {
    t.valid_from.is_none_or(|f| at >= f) && t.valid_until.is_none_or(|u| at < u)
}

/// The bounds of a schedule's due occurrences: after the first (exclusive), up to the
/// second (inclusive).
fn bounds(t: &Timed, seen: &Seen) -> Result<(Ts, Ts), When> {
    let mut after = match seen.ticked {
        Some(h) => h,
        None => seen.since()?.just_before(),
    };
    if let Some(from) = t.valid_from {
        after = after.max(from.just_before());
    }
    let until = t.valid_until.map_or(Ts::new(i64::MAX, 0), Ts::just_before);
    Ok((after, until))
}

/// When a time-based rule is next due for the customer: its first due time after the
/// latest tick ([`CustomerState::ticked`]; for a schedule never ticked, at or after when
/// the engine first saw the customer), within its validity period; `None` when it has
/// none.
#[inline(always)]
pub(crate) fn next(timing: &Timing, t: &Timed, c: Customer<'_>) -> Option<When> {
    if let Kind::Schedule { r, plain } = &t.kind {
        return scheduled(t, r, *plain, c);
    }
    match single(timing, t, c)? {
        When::At(d) if handled(c.seen, d) || !valid(t, d) => None,
        w => Some(w),
    }
}

/// Whether the latest tick handled a due time (it was at or before the tick).
#[inline(always)]
fn handled(seen: &Seen, d: Ts) -> bool {
    seen.ticked.is_some_and(|h| d.not_after(h))
}

/// [`next`] of a schedule.
#[inline(always)]
fn scheduled(t: &Timed, r: &Recurrence, plain: bool, c: Customer<'_>) -> Option<When> {
    if plain {
        // No validity period: after the call's bound, read once on the zone's calendar
        // (up to the end of time, which every occurrence found is before).
        let after = match c.clock.after {
            Ok(a) => a,
            Err(look) => return Some(look),
        };
        if let Some(found) = c.clock.local.as_ref().and_then(|l| r.first_from(l)) {
            return found.map(|secs| When::At(Ts::new(secs, 0)));
        }
        return r.next_after(after).map(When::At);
    }
    let (after, until) = match bounds(t, c.seen) {
        Ok(b) => b,
        Err(look) => return Some(look),
    };
    let o = r.next_after(after)?;
    (o <= until).then_some(When::At(o))
}

/// The first due time of a time-based rule not yet handled ([`next`]), when it is due at
/// `now` (at or before it); `None` when nothing is due.
#[inline(always)]
pub(crate) fn due_by(timing: &Timing, t: &Timed, c: Customer<'_>, now: Ts) -> Option<Ts> {
    if let Kind::Schedule { .. } = &t.kind {
        return match next(timing, t, c)? {
            When::At(first) if first.not_after(now) => Some(first),
            _ => None,
        };
    }
    window(t, c, single(timing, t, c)?, now)
}

/// A relative, inactivity or time-in-stage rule's due time `w` when [`next`] gives it and
/// it is due at `now`, tested against `now` first: most rules are not due, and most of
/// those are due after it.
#[inline(always)]
fn window(t: &Timed, c: Customer<'_>, w: When, now: Ts) -> Option<Ts> {
    let When::At(d) = w else {
        return None;
    };
    if !d.not_after(now) || handled(c.seen, d) || !valid(t, d) {
        return None;
    }
    Some(d)
}

/// The time of a tick, and the earliest due time it still fires (the maximum lateness
/// before it, as [`Duration::before`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TickTime {
    now: DateTime<Utc>,
    lateness: Duration,
    /// Both as instants, when `now` is not a leap second (then they order against other
    /// instants as dates do); `None` on one, when they are compared as dates.
    instants: Option<(Ts, Ts)>,
}

impl TickTime {
    pub fn new(now: DateTime<Utc>, lateness: Duration) -> TickTime {
        let instants = (now.timestamp_subsec_nanos() < 1_000_000_000).then(|| {
            let at = Ts::of(now);
            let oldest = at.plus(-lateness.as_seconds());
            // Past the earliest instant chrono holds: that one, as `before` gives.
            (
                at,
                if oldest.representable() {
                    oldest
                } else {
                    Ts::MIN
                },
            )
        });
        TickTime {
            now,
            lateness,
            instants,
        }
    }

    /// The earliest due time still fired, as a date.
    fn oldest(&self) -> DateTime<Utc> {
        match self.instants.and_then(|(_, o)| o.to_date_time()) {
            Some(o) => o,
            None => self.lateness.before(self.now),
        }
    }

    /// Whether a due time (not a leap second) is within the lateness.
    fn fresh(&self, due: Ts, date: DateTime<Utc>) -> bool {
        match self.instants {
            Some((_, oldest)) => due >= oldest,
            None => date >= self.oldest(),
        }
    }
}

/// The due occurrences of a time-based rule at a tick, the first of them at `first` (its
/// [`due_by`]): those after the latest tick and up to the tick's time, split by whether
/// they are due within the maximum lateness. `None` when nothing is due.
pub(crate) fn span(t: &Timed, seen: &Seen, first: Ts, at: &TickTime) -> Option<Span> {
    if let Kind::Schedule { r, .. } = &t.kind {
        let (after, until) = bounds(t, seen).ok()?;
        if !after.representable() {
            return None;
        }
        if let Some((now, _)) = at.instants {
            let until = match until.representable() {
                true => until.min(now),
                false => now,
            };
            if r.only(first, until) {
                return single_span(first, at);
            }
        }
        let now = at.now;
        let (after, until) = (
            after.to_date_time()?,
            until.to_date_time().unwrap_or(now).min(now),
        );
        let oldest = at.oldest();
        let count = |c: u64| u32::try_from(c).unwrap_or(u32::MAX);
        let before_oldest = oldest
            .checked_sub_signed(chrono::TimeDelta::nanoseconds(1))
            .unwrap_or(oldest);
        let fresh = r
            .count(after.max(before_oldest), until)
            .map(|c| (count(c.count), c.last));
        let missed = r
            .count(after, until.min(before_oldest))
            .map(|c| (count(c.count), c.last));
        let last = fresh.or(missed)?.1;
        return Some(Span {
            last,
            fresh,
            missed,
        });
    }
    single_span(first, at)
}

/// One due occurrence at `first`: fresh when within the lateness, else missed.
fn single_span(first: Ts, at: &TickTime) -> Option<Span> {
    let d = first.to_date_time()?;
    let one = Some((1, d));
    let fresh = at.fresh(first, d);
    Some(Span {
        last: d,
        fresh: if fresh { one } else { None },
        missed: if fresh { None } else { one },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_hashes_tell_values_apart() {
        let values = [
            Value::Absent,
            Value::from("商务谈判"),
            Value::from("方案提交"),
            Value::from(3),
            Value::Number(crate::value::Number::decimal(3.5).unwrap()),
            Value::Bool(true),
            Value::Bool(false),
            Value::from(vec!["a", "b"]),
            Value::from(vec!["ab"]),
        ];
        for (i, a) in values.iter().enumerate() {
            assert_eq!(value_hash(a), value_hash(&a.clone()));
            for b in &values[i + 1..] {
                assert_ne!(value_hash(a), value_hash(b), "{a:?} {b:?}");
            }
        }
        // Part of the stored state: fixed across runs, machines and releases.
        assert_eq!(value_hash(&Value::from("商务谈判")), GOLDEN[0]);
        assert_eq!(value_hash(&Value::Absent), GOLDEN[1]);
        assert_eq!(value_hash(&Value::from(vec!["VIP", "展会"])), GOLDEN[2]);
    }

    proptest::proptest! {
        /// A field's hash read from the record's key is its value's hash, for texts of
        /// every length around the 15 bytes a key holds (ASCII and Chinese) and for other
        /// values.
        #[test]
        fn field_hashes_are_value_hashes(
            text in proptest::prop_oneof![
                "[a-z]{0,20}",
                "[商务谈判方案提交合同签订]{0,7}",
                "[a-z0-9]{0,3}[方案]{0,3}[a-z]{0,4}",
            ],
            number in proptest::num::i64::ANY,
        ) {
            let schema = crate::Schema::from_json(
                r#"{"fields": [{"name": "阶段", "type": "text"}, {"name": "数", "type": "number"},
                  {"name": "日", "type": "date"}, {"name": "标签", "type": "tags"},
                  {"name": "时", "type": "date_time"}]}"#,
            )
            .unwrap();
            let record = schema
                .record_from_json(&serde_json::json!({
                    "阶段": text, "数": number, "日": "2024-05-20", "标签": [text.clone(), "VIP"],
                    "时": DateTime::from_timestamp(number >> 30, (number & 0x3fff_ffff) as u32 % 1_000_000_000)
                        .unwrap_or(DateTime::UNIX_EPOCH)
                        .to_rfc3339(),
                }))
                .unwrap();
            for f in ["阶段", "数", "日", "标签", "时"] {
                let id = schema.field_id(f).unwrap();
                proptest::prop_assert_eq!(field_hash(&record, id), value_hash(record.get(id)), "{}", f);
            }
            let key = crate::keys::Key::text(&text);
            proptest::prop_assert_eq!(
                key.short_len(),
                (text.len() <= 15).then_some(text.len() as u64)
            );
            let empty = crate::schema::Record::new(&schema);
            let id = schema.field_id("阶段").unwrap();
            proptest::prop_assert_eq!(field_hash(&empty, id), value_hash(&Value::Absent));
        }
    }

    proptest::proptest! {
        /// A date-time's hash is that of its 12 bytes (Unix seconds, then nanoseconds,
        /// little-endian) by [`words`], as first written.
        #[test]
        fn date_time_hashes_are_the_words_of_their_bytes(
            secs in DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
            nanos in proptest::prop_oneof![proptest::strategy::Just(0u32), 0u32..1_000_000_000],
        ) {
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let mut b = [0u8; 12];
            b[..8].copy_from_slice(&t.timestamp().to_le_bytes());
            b[8..].copy_from_slice(&t.timestamp_subsec_nanos().to_le_bytes());
            let h = hash::mix(words(6, &b));
            proptest::prop_assert_eq!(value_hash(&Value::DateTime(t)), (h ^ (h >> 32)) as u32);
        }
    }

    #[test]
    fn words_are_the_word_by_word_hash() {
        // The hash as first written: every whole word in turn, then the rest.
        fn by_words(tag: u8, bytes: &[u8]) -> u64 {
            const K: u64 = 0x9e37_79b9_7f4a_7c15;
            let mut h = K ^ (u64::from(tag) << 56) ^ (bytes.len() as u64);
            let mut chunks = bytes.chunks_exact(8);
            for c in &mut chunks {
                h = (h ^ word(c)).wrapping_mul(K).rotate_left(29);
            }
            (h ^ word(chunks.remainder())).wrapping_mul(K)
        }
        let bytes: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for len in 0..bytes.len() {
            for tag in [0, 1, 7] {
                assert_eq!(
                    words(tag, &bytes[..len]),
                    by_words(tag, &bytes[..len]),
                    "{len}"
                );
            }
        }
    }

    #[test]
    fn tick_times_judge_lateness_as_dates_do() {
        use chrono::TimeZone;
        let day = Duration::days(1).unwrap();
        let now = Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 59).unwrap();
        // 23:59:60.5, a leap second, and ordinary instants around it.
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        assert!(leap.timestamp_subsec_nanos() >= 1_000_000_000);
        for now in [now, leap, now + chrono::TimeDelta::nanoseconds(7)] {
            let at = TickTime::new(now, day);
            let oldest = day.before(now);
            assert_eq!(at.oldest(), oldest, "{now}");
            for shift in [-2_000_000_000, -1, 0, 1, 500_000_000, 1_000_000_000] {
                let due = oldest + chrono::TimeDelta::nanoseconds(shift);
                let due = Ts::of(due).to_date_time().unwrap();
                assert_eq!(at.fresh(Ts::of(due), due), due >= oldest, "{now} {shift}");
            }
        }
        let far = TickTime::new(DateTime::<Utc>::MIN_UTC, day);
        assert_eq!(far.oldest(), DateTime::<Utc>::MIN_UTC);
    }

    proptest::proptest! {
        /// The watched kinds' times read in one pass over the state's entries are each
        /// kind's [`Timing::last_event`], whatever kinds (watched or not) the state holds
        /// and in whatever order.
        #[test]
        fn seen_kinds_are_each_kinds_last_event(
            entries in proptest::collection::vec((0usize..8, 0i64..4_000_000_000), 0..12),
        ) {
            let engine = kinds_engine();
            let timing = &engine.timing;
            let mut state = CustomerState::new();
            for (k, secs) in entries {
                let name: Arc<str> = Arc::from(KINDS[k]);
                let at = DateTime::from_timestamp(secs, 0).unwrap();
                state.last_events.insert(&name, name_hash(&name), at);
            }
            let record = engine.schema().record::<_, &str>([]).unwrap();
            let mut seen = Seen::EMPTY;
            seen.read(timing, &record, &state);
            proptest::prop_assert!(!timing.kinds.is_empty());
            for i in 0..timing.kinds.len() {
                proptest::prop_assert_eq!(
                    seen.kind(timing, &state, i),
                    timing.last_event(&state, i).map(Ts::of)
                );
            }
            for i in timing.kinds.len()..SMALL {
                proptest::prop_assert_eq!(seen.kinds[i], None);
            }
        }
    }

    /// Event kinds: the first five watched by the engine of [`kinds_engine`], the rest not.
    const KINDS: [&str; 8] = [
        "login",
        "email_opened",
        "customer_replied",
        "order_placed",
        "page_visited",
        "x",
        "购买",
        "y",
    ];

    fn kinds_engine() -> crate::Engine {
        let schema =
            crate::Schema::from_json(r#"{"fields": [{"name": "标签", "type": "tags"}]}"#).unwrap();
        let rule = |id: &str, events: &[&str]| {
            serde_json::json!({"id": id, "name": id,
              "trigger": {"type": "inactivity", "events": events, "for": "7d"},
              "actions": [{"type": "add_tag", "tag": "x"}]})
        };
        let rules = serde_json::json!({"rules": [
            rule("a", &KINDS[..2]),
            rule("b", &KINDS[2..5]),
            rule("c", &KINDS[1..4]),
        ]});
        let rules = crate::RuleSet::from_json(&rules.to_string()).unwrap();
        crate::Engine::builder(schema).rules(rules).build().unwrap()
    }

    /// Computed independently (a Python transcription of `words` and `mix`).
    const GOLDEN: [u32; 3] = [2_256_728_108, 3_235_318_258, 2_699_664_438];
}
