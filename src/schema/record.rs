//! Customer records: one value per schema field, read by position.

use super::{FieldId, Schema};
use crate::keys::Key;
use crate::value::{Value, ABSENT};

/// A customer's field values, one per field of the schema it was made for, read by
/// [`FieldId`] without hashing a name.
///
/// Make one with [`Schema::record`] or [`Schema::record_from_json`]. A field the record
/// has no value for reads as [`Value::Absent`]; so does a [`FieldId`] of another schema
/// that lies past the record's end (reading never panics).
///
/// ```
/// use crm_rules::{Field, FieldType, Schema, Value};
/// let schema = Schema::new([Field::new("预算", FieldType::Number)])?;
/// let mut record = schema.record([("预算", 500_000)])?;
/// let budget = schema.field_id("预算").ok_or("no field")?;
/// assert_eq!(record.get(budget), &Value::from(500_000));
/// record.set(budget, Value::Absent);
/// assert!(record.get(budget).is_absent());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A record holds the values on the heap, and beside them a 16-byte summary of each that
/// conditions compare first (reading a text only when its summary matches). Those of the
/// first twelve fields of the schema are held in the record itself, so that a condition
/// on one of them reads no memory but the record's own: when the host's records are not
/// in cache, that is one cache miss an event instead of two. A record spans 248 bytes (on
/// a 64-bit target) whatever the number of fields; put the fields rules test most often first in the
/// schema.
#[derive(Clone, Default)]
pub struct Record {
    values: Vec<Value>,
    keys: Keys,
}

/// How many keys a record holds in itself: three cache lines of them.
const INLINE_KEYS: usize = 12;

/// Each value's [key](Value::key), kept with it: either one for every value, or none
/// (after the values were written in place), when [`Record::key`] computes them. The
/// first [`INLINE_KEYS`] are held in place, the rest on the heap.
#[derive(Clone, Default)]
struct Keys {
    /// How many are kept.
    len: usize,
    head: [Key; INLINE_KEYS],
    rest: Vec<Key>,
}

impl Keys {
    /// `n` keys of absent values.
    fn absent(n: usize) -> Keys {
        Keys {
            len: n,
            head: [Key::NONE; INLINE_KEYS],
            rest: vec![Key::NONE; n.saturating_sub(INLINE_KEYS)],
        }
    }

    /// Keeps none.
    fn clear(&mut self) {
        self.len = 0;
        self.rest.clear();
    }

    /// Keeps `n` (more than kept now), the new ones of absent values.
    fn grow(&mut self, n: usize) {
        for key in self.head.iter_mut().take(n).skip(self.len) {
            *key = Key::NONE;
        }
        if n > INLINE_KEYS {
            self.rest.resize(n - INLINE_KEYS, Key::NONE);
        }
        self.len = n;
    }

    /// The key at `i`, if kept.
    #[inline(always)]
    fn get(&self, i: usize) -> Option<Key> {
        if i >= self.len {
            None
        } else if i < INLINE_KEYS {
            self.head.get(i).copied()
        } else {
            self.rest.get(i - INLINE_KEYS).copied()
        }
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Key> {
        if i >= self.len {
            None
        } else if i < INLINE_KEYS {
            self.head.get_mut(i)
        } else {
            self.rest.get_mut(i - INLINE_KEYS)
        }
    }

    /// The kept keys held in place, then those on the heap.
    fn parts(&self) -> (&[Key], &[Key]) {
        (&self.head[..self.len.min(INLINE_KEYS)], &self.rest)
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        // The keys follow from the values.
        self.values == other.values
    }
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("values", &self.values)
            .finish()
    }
}

impl Record {
    /// A record of `schema` with every field absent.
    pub fn new(schema: &Schema) -> Record {
        Record::absent(schema.fields().len())
    }

    /// A record with every one of `n` fields absent, written directly (no cloning of an
    /// `Absent` per field, as `vec![Value::Absent; n]` does): the import path makes one
    /// per row.
    pub(crate) fn absent(n: usize) -> Record {
        Record {
            values: std::iter::repeat_with(|| Value::Absent).take(n).collect(),
            keys: Keys::absent(n),
        }
    }

    /// Every value, sized to `n` fields, to be written in place: the import path refills
    /// the records of a report it reuses, keeping the buffers of their texts. The record
    /// keeps no keys after this (they are computed when read).
    pub(crate) fn values_mut(&mut self, n: usize) -> &mut [Value] {
        self.keys.clear();
        self.values.resize_with(n, || Value::Absent);
        &mut self.values
    }

    /// The value of a field.
    #[inline]
    pub fn get(&self, id: FieldId) -> &Value {
        self.values.get(id.index()).unwrap_or(&ABSENT)
    }

    /// Sets the value of a field and returns the previous one.
    pub fn set(&mut self, id: FieldId, value: Value) -> Value {
        let i = id.index();
        if i >= self.values.len() {
            if self.keys.len == self.values.len() {
                self.keys.grow(i + 1);
            }
            self.values.resize(i + 1, Value::Absent);
        }
        if let Some(key) = self.keys.get_mut(i) {
            *key = value.key();
        }
        std::mem::replace(&mut self.values[i], value)
    }

    /// The [key](Value::key) of a field's value (none past the record's end): kept, or
    /// computed from the value when the record's keys were dropped.
    #[inline]
    pub(crate) fn key(&self, id: FieldId) -> Key {
        let i = id.index();
        match self.keys.get(i) {
            Some(key) => key,
            None => self.values.get(i).map_or(Key::NONE, Value::key),
        }
    }

    /// Starts the loads of every cache line of the record's keys before a scan needs
    /// them, so that their misses overlap rather than each wait on the check before; what
    /// it reads is folded together and returned, to be discarded.
    #[inline(always)]
    pub(crate) fn warm_keys(&self) -> u64 {
        // A key is 16 bytes: one in four starts on every 64-byte line but perhaps the
        // last, which the last key is on.
        let (head, rest) = self.keys.parts();
        let lines = |keys: &[Key]| {
            let last = keys.last().map_or(0, |k| k.lo);
            keys.iter().step_by(4).fold(last, |n, k| n ^ k.lo)
        };
        lines(head) ^ lines(rest)
    }

    /// Every value, in schema order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_values_kept_or_written_in_place() {
        let texts = [
            Value::from("新客户"),
            Value::from(vec!["VIP", "展会"]),
            Value::from(3),
        ];
        let mut record = Record::absent(3);
        for (i, v) in texts.iter().enumerate() {
            record.set(FieldId(i as u32), v.clone());
        }
        let kept: Vec<Key> = (0..4).map(|i| record.key(FieldId(i))).collect();
        assert_eq!(kept[0], Key::text("新客户"));
        assert_eq!(kept[2], Key::int(3));
        assert_eq!(kept[3], Key::NONE);
        let mut refilled = Record::absent(0);
        refilled.values_mut(3).clone_from_slice(&texts);
        let computed: Vec<Key> = (0..4).map(|i| refilled.key(FieldId(i))).collect();
        assert_eq!(computed, kept);
        refilled.set(FieldId(5), Value::from("x"));
        assert_eq!(refilled.key(FieldId(5)), Value::from("x").key());
        assert_eq!(refilled.key(FieldId(0)), kept[0]);
    }

    /// Keys past those held in place (the twelfth field on) read as those before: kept
    /// in a record made whole, grown by a write past its end, and computed after the
    /// values were written in place.
    #[test]
    fn keys_past_those_held_in_place_follow_their_values() {
        let value = |i: usize| match i % 3 {
            0 => Value::from(format!("客户{i}")),
            1 => Value::from(i as i64),
            _ => Value::from(vec![format!("t{i}")]),
        };
        let n = 3 * INLINE_KEYS;
        let want: Vec<Key> = (0..n).map(|i| value(i).key()).collect();
        let keys = |r: &Record| (0..n).map(|i| r.key(FieldId(i as u32))).collect::<Vec<_>>();
        let mut whole = Record::absent(n);
        let mut grown = Record::absent(2);
        for i in 0..n {
            whole.set(FieldId(i as u32), value(i));
            grown.set(FieldId(i as u32), value(i));
        }
        assert_eq!(keys(&whole), want);
        assert_eq!(keys(&grown), want);
        assert_eq!(grown.keys.len, n);
        let mut refilled = whole.clone();
        for (i, v) in refilled.values_mut(n).iter_mut().enumerate() {
            *v = value(n - 1 - i);
        }
        let reversed: Vec<Key> = want.iter().rev().copied().collect();
        assert_eq!(keys(&refilled), reversed);
        // A write past the end of a record without kept keys keeps none.
        refilled.set(FieldId(n as u32 + 3), Value::from(7));
        assert_eq!(refilled.keys.len, 0);
        assert_eq!(refilled.key(FieldId(n as u32 + 3)), Key::int(7));
        assert_eq!(refilled.key(FieldId(n as u32 + 2)), Key::NONE);
        // As the type's docs say.
        #[cfg(target_pointer_width = "64")]
        assert_eq!(std::mem::size_of::<Record>(), 248);
    }
}
