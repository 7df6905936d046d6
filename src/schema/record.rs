//! Customer records: one value per schema field, read by position.

use super::{FieldId, Schema};
use crate::value::Value;

static ABSENT: Value = Value::Absent;

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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    values: Vec<Value>,
}

impl Record {
    /// A record of `schema` with every field absent.
    pub fn new(schema: &Schema) -> Record {
        Record {
            values: vec![Value::Absent; schema.fields().len()],
        }
    }

    /// A record with every one of `n` fields absent, written directly (no cloning of an
    /// `Absent` per field, as `vec![Value::Absent; n]` does): the import path makes one
    /// per row.
    pub(crate) fn absent(n: usize) -> Record {
        Record {
            values: std::iter::repeat_with(|| Value::Absent).take(n).collect(),
        }
    }

    /// Every value, sized to `n` fields, to be written in place: the import path refills
    /// the records of a report it reuses, keeping the buffers of their texts.
    pub(crate) fn values_mut(&mut self, n: usize) -> &mut [Value] {
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
            self.values.resize(i + 1, Value::Absent);
        }
        std::mem::replace(&mut self.values[i], value)
    }

    /// Every value, in schema order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
}
