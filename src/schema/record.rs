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
#[derive(Clone, Default)]
pub struct Record {
    values: Vec<Value>,
    /// Each value's [key](Value::key), kept with it: conditions compare keys first, and
    /// read a text only when its key matches. Either one for every value, or none (after
    /// the values were written in place), when [`Record::key`] computes them.
    keys: Vec<Key>,
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
            keys: vec![Key::NONE; n],
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
            if self.keys.len() == self.values.len() {
                self.keys.resize(i + 1, Key::NONE);
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
            Some(key) => *key,
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
        let last = self.keys.last().map_or(0, |k| k.lo);
        self.keys.iter().step_by(4).fold(last, |n, k| n ^ k.lo)
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
}
