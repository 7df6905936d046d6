//! Batch validation: rows in, per row the normalized record or every problem, plus totals.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use indexmap::IndexMap;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use super::checker::Inner;
use super::flags::Flag;
use super::normalize::normalize_into;
use super::Checker;
use crate::error::{FieldError, ValidationError};
use crate::keys::same_text;
use crate::schema::{check_value, describe_json, mask, FieldId, Record};
use crate::value::Value;

/// Where a problem sorts: schema fields in schema order, then unknown columns in the
/// row's order.
type Problems = Vec<(usize, FieldError)>;

/// Remembers, by column position, which field the previous row's column named, so rows
/// with the same columns (every row of a spreadsheet) resolve names without hashing; and
/// which fields the current row gives a value for.
#[derive(Default)]
struct Columns {
    ids: Vec<Option<FieldId>>,
    given: Vec<bool>,
}

impl Columns {
    #[inline]
    fn resolve(&mut self, inner: &Inner, position: usize, name: &str) -> Option<FieldId> {
        if let Some(Some(id)) = self.ids.get(position) {
            if same_text(&inner.schema.fields()[id.index()].name, name) {
                return Some(*id);
            }
        }
        let id = inner.schema.field_id(name);
        if position >= self.ids.len() {
            self.ids.resize(position + 1, None);
        }
        self.ids[position] = id;
        id
    }
}

impl Inner {
    /// Normalizes and validates one row into `record`, writing over the values it holds
    /// (their buffers are reused); returns every problem, sorted.
    fn check_into(
        &self,
        row: &Json,
        today: NaiveDate,
        columns: &mut Columns,
        record: &mut Record,
    ) -> Problems {
        let mut problems: Problems = Vec::new();
        let fields = self.schema.fields();
        let values = record.values_mut(fields.len());
        let Some(object) = row.as_object() else {
            values.fill_with(|| Value::Absent);
            problems.push((
                0,
                FieldError {
                    field: String::new(),
                    value: String::new(),
                    message: format!(
                        "expected an object of field values, found {}",
                        describe_json(row)
                    ),
                },
            ));
            return problems;
        };
        columns.given.clear();
        columns.given.resize(fields.len(), false);
        for (position, (name, cell)) in object.iter().enumerate() {
            let Some(id) = columns.resolve(self, position, name) else {
                problems.push((
                    fields.len() + position,
                    FieldError {
                        field: name.clone(),
                        value: String::new(),
                        message: "unknown field".into(),
                    },
                ));
                continue;
            };
            let i = id.index();
            columns.given[i] = true;
            let slot = &mut values[i];
            if let Err(failure) = normalize_into(&self.plans[i], &fields[i], self.zone, cell, slot)
            {
                *slot = Value::Absent;
                for message in failure.messages {
                    problems.push((
                        i,
                        FieldError {
                            field: fields[i].name.clone(),
                            value: failure.value.clone(),
                            message,
                        },
                    ));
                }
            }
        }
        let unread = problems.len();
        for (i, (field, value)) in fields.iter().zip(values.iter_mut()).enumerate() {
            if !columns.given[i] {
                *value = Value::Absent;
            }
            if unread > 0 && problems[..unread].iter().any(|(at, _)| *at == i) {
                continue; // reported once, when it was read
            }
            // Normalization makes blank texts and empty lists absent.
            if value.is_absent() {
                if field.required {
                    problems.push((
                        i,
                        FieldError {
                            field: field.name.clone(),
                            value: String::new(),
                            message: "is required".into(),
                        },
                    ));
                }
                continue;
            }
            if self.checks[i].passes(value) {
                continue;
            }
            for message in check_value(field, value, today) {
                problems.push((
                    i,
                    FieldError {
                        field: field.name.clone(),
                        value: self.schema.show(FieldId(i as u32), value),
                        message,
                    },
                ));
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|(at, _)| *at);
        }
        problems
    }

    /// Checks one row of a batch into `record`: the problems (empty when the row
    /// succeeded) and the flags.
    fn check_for_report(
        &self,
        row: &Json,
        today: NaiveDate,
        columns: &mut Columns,
        record: &mut Record,
    ) -> (Vec<FieldError>, Vec<Flag>) {
        let problems = self.check_into(row, today, columns, record);
        if problems.is_empty() {
            (Vec::new(), self.flags_where(record, true, |_| true))
        } else {
            // Flag what is well-formed: fields without a problem.
            let flags = self.flags_where(record, true, |id| {
                !problems.iter().any(|(at, _)| *at == id.index())
            });
            (problems.into_iter().map(|(_, e)| e).collect(), flags)
        }
    }
}

/// What became of one row: its normalized record, or every problem found in it.
// Most rows succeed: a boxed record would cost each an allocation to save a failed row
// the span of a record.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The row is valid; this is its normalized record, ready to store.
    Succeeded(Record),
    /// The row is invalid: every problem, in schema order, then unknown columns.
    Failed(Vec<FieldError>),
}

/// One row of a [`Report`].
#[derive(Clone, Debug, PartialEq)]
pub struct RowReport {
    /// The row's number, counting the first row given as 1 (add the header rows of a
    /// spreadsheet to find the line a person sees).
    pub row: usize,
    /// The normalized record or the problems.
    pub outcome: Outcome,
    /// The flags of its well-formed values (see [`Flags`](crate::quality::Flags)): a
    /// failed row's valid fields are flagged too.
    pub flags: Vec<Flag>,
}

impl RowReport {
    /// The normalized record, when the row succeeded.
    pub fn record(&self) -> Option<&Record> {
        match &self.outcome {
            Outcome::Succeeded(r) => Some(r),
            Outcome::Failed(_) => None,
        }
    }

    /// The problems (empty when the row succeeded).
    pub fn problems(&self) -> &[FieldError] {
        match &self.outcome {
            Outcome::Succeeded(_) => &[],
            Outcome::Failed(p) => p,
        }
    }
}

/// The counts of a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Rows given.
    pub rows: usize,
    /// Rows that became records.
    pub succeeded: usize,
    /// Rows with at least one problem.
    pub failed: usize,
    /// Rows with at least one flag, succeeded or failed.
    pub flagged: usize,
    /// Problems (not rows) per field: schema fields in schema order, then unknown
    /// columns in the order first met, then `(row)` for rows that are not objects.
    pub problems_per_field: IndexMap<String, usize>,
    /// Flags per field, in schema order.
    pub flags_per_field: IndexMap<String, usize>,
}

/// The result of validating a batch of rows: each row's normalized record or problems,
/// with totals. [`Checker::report`] makes one; [`Checker::report_into`] refills one with
/// the next batch of a chunked import.
///
/// The JSON form (`serde_json::to_string(&report)`) is for showing and logging:
/// `{"totals": {...}, "rows": [{"row": 1, "status": "succeeded", "record": {...},
/// "flags": [...]}, {"row": 2, "status": "failed", "problems": [{"field", "value",
/// "message"}], "flags": [...]}]}`, with sensitive values masked everywhere, records
/// included. Store the records from [`Report::rows`], which hold the real values.
///
/// Its text ([`Display`](fmt::Display)) is the summary:
/// ```text
/// 200 rows: 160 succeeded, 40 failed; 12 flagged
/// problems per field:
///   手机号: 9
///   客户状态: 6
/// flags per field:
///   手机号: 7
/// ```
pub struct Report {
    checker: Checker,
    rows: Vec<RowReport>,
    totals: Totals,
    /// Records to write the next rows over, from the rows of an earlier batch (see
    /// [`Checker::report_into`]) and from rows that failed.
    spare: Vec<Record>,
}

impl Clone for Report {
    fn clone(&self) -> Report {
        Report {
            checker: self.checker.clone(),
            rows: self.rows.clone(),
            totals: self.totals.clone(),
            spare: Vec::new(),
        }
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("totals", &self.totals)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Report {
    /// An empty report of no rows, to be filled by [`Checker::report_into`].
    ///
    /// ```
    /// use crm_rules::{quality::{Checker, Report}, Schema};
    /// let schema = Schema::from_json(r#"{"fields": [{"name": "客户名称", "type": "text"}]}"#)?;
    /// let report = Report::new(&Checker::new(&schema));
    /// assert_eq!(report.to_string(), "0 rows: 0 succeeded, 0 failed; 0 flagged");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(checker: &Checker) -> Report {
        Report {
            checker: checker.clone(),
            rows: Vec::new(),
            totals: Totals::default(),
            spare: Vec::new(),
        }
    }

    /// Every row, in the order given.
    pub fn rows(&self) -> &[RowReport] {
        &self.rows
    }

    /// The counts.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The records of the rows that succeeded, in order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.rows.iter().filter_map(RowReport::record)
    }

    /// Every problem with its row number, in order.
    pub fn problems(&self) -> impl Iterator<Item = (usize, &FieldError)> {
        self.rows
            .iter()
            .flat_map(|r| r.problems().iter().map(move |p| (r.row, p)))
    }

    /// Every flag with its row number, in order.
    pub fn flags(&self) -> impl Iterator<Item = (usize, &Flag)> {
        self.rows
            .iter()
            .flat_map(|r| r.flags.iter().map(move |f| (r.row, f)))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.totals;
        write!(
            f,
            "{} row{}: {} succeeded, {} failed; {} flagged",
            t.rows,
            if t.rows == 1 { "" } else { "s" },
            t.succeeded,
            t.failed,
            t.flagged
        )?;
        for (title, counts) in [
            ("problems per field", &t.problems_per_field),
            ("flags per field", &t.flags_per_field),
        ] {
            if !counts.is_empty() {
                write!(f, "\n{title}:")?;
                for (field, n) in counts {
                    write!(f, "\n  {field}: {n}")?;
                }
            }
        }
        Ok(())
    }
}

/// A field error in the report's JSON form.
struct ProblemJson<'a>(&'a FieldError);

impl Serialize for ProblemJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Problem", 3)?;
        s.serialize_field("field", &self.0.field)?;
        s.serialize_field("value", &self.0.value)?;
        s.serialize_field("message", &self.0.message)?;
        s.end()
    }
}

/// A record in the report's JSON form: non-empty fields in schema order, sensitive ones
/// masked.
struct RecordJson<'a>(&'a Inner, &'a Record);

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let RecordJson(inner, record) = self;
        let mut map = serializer.serialize_map(None)?;
        for (field, value) in inner.schema.fields().iter().zip(record.values()) {
            if value.is_absent() {
                continue;
            }
            if field.sensitive {
                map.serialize_entry(&field.name, &mask(value))?;
            } else {
                map.serialize_entry(&field.name, &value.to_json())?;
            }
        }
        map.end()
    }
}

struct RowJson<'a>(&'a Inner, &'a RowReport);

impl Serialize for RowJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let RowJson(inner, row) = self;
        let mut s = serializer.serialize_struct("Row", 4)?;
        s.serialize_field("row", &row.row)?;
        match &row.outcome {
            Outcome::Succeeded(record) => {
                s.serialize_field("status", "succeeded")?;
                s.serialize_field("record", &RecordJson(inner, record))?;
            }
            Outcome::Failed(problems) => {
                s.serialize_field("status", "failed")?;
                let problems: Vec<ProblemJson<'_>> = problems.iter().map(ProblemJson).collect();
                s.serialize_field("problems", &problems)?;
            }
        }
        s.serialize_field("flags", &row.flags)?;
        s.end()
    }
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let inner = &*self.checker.inner;
        let rows: Vec<RowJson<'_>> = self.rows.iter().map(|r| RowJson(inner, r)).collect();
        let mut s = serializer.serialize_struct("Report", 2)?;
        s.serialize_field("totals", &self.totals)?;
        s.serialize_field("rows", &rows)?;
        s.end()
    }
}

/// Reads the first byte of every key and string value of a row. Called on the next row
/// before the current one is checked: the loads are independent, so the processor has
/// them all in flight at once and the next row is in the cache when its turn comes,
/// instead of waiting for each of its scattered allocations in turn.
fn touch(row: &Json) -> usize {
    let Some(object) = row.as_object() else {
        return 0;
    };
    let mut sum = 0;
    let first = |s: &str| usize::from(s.as_bytes().first().copied().unwrap_or(0));
    for (key, value) in object {
        sum += first(key);
        match value {
            Json::String(s) => sum += first(s),
            Json::Array(items) => {
                sum += items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(first)
                    .sum::<usize>()
            }
            _ => {}
        }
    }
    sum
}

/// Counts per field: schema fields in schema order, then other names in the order met.
struct Counter {
    by_field: Vec<usize>,
    others: IndexMap<String, usize>,
}

impl Counter {
    fn new(n: usize) -> Counter {
        Counter {
            by_field: vec![0; n],
            others: IndexMap::new(),
        }
    }

    fn add(&mut self, inner: &Inner, name: &str) {
        match inner.schema.field_id(name) {
            Some(id) => self.by_field[id.index()] += 1,
            None if name.is_empty() => *self.others.entry("(row)".into()).or_default() += 1,
            None => *self.others.entry(name.to_owned()).or_default() += 1,
        }
    }

    fn finish(self, inner: &Inner) -> IndexMap<String, usize> {
        let mut out: IndexMap<String, usize> = inner
            .schema
            .fields()
            .iter()
            .zip(self.by_field)
            .filter(|(_, n)| *n > 0)
            .map(|(f, n)| (f.name.clone(), n))
            .collect();
        out.extend(self.others);
        out
    }
}

impl Checker {
    /// Normalizes and validates one row, as an intake form does on submit: every value
    /// normalized by its field's type, then checked against every rule of the schema
    /// (required, formats, options, ranges, lengths, "not before today", today being
    /// the UTC date of `now`).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{quality::Checker, Schema};
    /// use serde_json::json;
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "客户名称", "type": "text", "required": true},
    ///     {"name": "手机号", "type": "phone", "sensitive": true},
    ///     {"name": "签约日期", "type": "date"}
    /// ]}"#)?;
    /// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let err = Checker::new(&schema)
    ///     .check_row(&json!({"手机号": "138 1234 567", "签约日期": "2024/2/30", "来源": "展会"}), now)
    ///     .unwrap_err();
    /// let messages: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
    /// assert_eq!(messages, [
    ///     "客户名称: is required",
    ///     "手机号 (138***4567): must be 11 digits",
    ///     "签约日期 (2024/2/30): is not a date (accepted: 2024-03-15, 2024/3/15, 2024年3月15日)",
    ///     "来源: unknown field",
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Every problem of the row at once, in schema order, then unknown columns: see the
    /// [module documentation](crate::quality#problems) for the messages.
    pub fn check_row(&self, row: &Json, now: DateTime<Utc>) -> Result<Record, ValidationError> {
        let inner = &*self.inner;
        let mut record = Record::absent(inner.schema.fields().len());
        let problems =
            inner.check_into(row, now.date_naive(), &mut Columns::default(), &mut record);
        if problems.is_empty() {
            Ok(record)
        } else {
            Err(ValidationError::new(
                problems.into_iter().map(|(_, e)| e).collect(),
            ))
        }
    }

    /// Validates a batch of rows (JSON objects, as an import reads them from a
    /// spreadsheet): each row is normalized and checked on its own, so one bad row never
    /// stops the batch, and every row is either succeeded or failed.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{quality::Checker, Schema};
    /// use serde_json::json;
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "客户名称", "type": "text", "required": true},
    ///     {"name": "手机号", "type": "phone", "sensitive": true},
    ///     {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]}
    /// ]}"#)?;
    /// let rows = [
    ///     json!({"客户名称": "华为", "手机号": "１３９５２８６７３４１", "客户状态": "新客户"}),
    ///     json!({"客户名称": "", "手机号": "1381234567", "客户状态": "成交客戶"}),
    ///     json!({"客户名称": "测试", "手机号": "13800000000"}),
    /// ];
    /// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let report = Checker::new(&schema).report(&rows, now);
    /// assert_eq!(report.to_string(), "3 rows: 2 succeeded, 1 failed; 1 flagged
    /// problems per field:
    ///   客户名称: 1
    ///   手机号: 1
    ///   客户状态: 1
    /// flags per field:
    ///   客户名称: 1
    ///   手机号: 1");
    /// let json = serde_json::to_value(&report)?;
    /// assert_eq!(json["rows"][0]["record"]["手机号"], "139****7341");
    /// assert_eq!(json["rows"][1]["problems"][1]["message"], "must be 11 digits");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report<'a>(
        &self,
        rows: impl IntoIterator<Item = &'a Json>,
        now: DateTime<Utc>,
    ) -> Report {
        let mut report = Report::new(self);
        self.report_into(&mut report, rows, now);
        report
    }

    /// As [`Checker::report`], into a report that is reused: its rows are replaced by the
    /// new batch's, and the records of the rows it held are written over (their texts'
    /// buffers reused), so an import that reports chunk after chunk into one report
    /// allocates little more than the texts normalization changes. The report is then
    /// exactly the one [`Checker::report`] gives for the batch (row numbers count from 1
    /// again). It keeps the records of its largest batch for reuse: drop it to free them.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{quality::{Checker, Report}, Schema};
    /// use serde_json::json;
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "客户名称", "type": "text", "required": true},
    ///     {"name": "手机号", "type": "phone", "sensitive": true}
    /// ]}"#)?;
    /// let checker = Checker::new(&schema);
    /// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let rows = [
    ///     json!({"客户名称": "华为", "手机号": "+86 139 5286 7341"}),
    ///     json!({"客户名称": "小米", "手机号": "13761234590"}),
    ///     json!({"手机号": "13761234591"}),
    /// ];
    /// let mut report = Report::new(&checker);
    /// let mut stored = Vec::new();
    /// for chunk in rows.chunks(2) {
    ///     checker.report_into(&mut report, chunk, now);
    ///     // Store the chunk's records (here, their JSON) before the next chunk.
    ///     stored.extend(report.records().map(|r| schema.record_to_json(r)));
    /// }
    /// assert_eq!(report.to_string(), "1 row: 0 succeeded, 1 failed; 0 flagged
    /// problems per field:
    ///   客户名称: 1");
    /// assert_eq!(stored, [
    ///     json!({"客户名称": "华为", "手机号": "13952867341"}),
    ///     json!({"客户名称": "小米", "手机号": "13761234590"}),
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report_into<'a>(
        &self,
        report: &mut Report,
        rows: impl IntoIterator<Item = &'a Json>,
        now: DateTime<Utc>,
    ) {
        let inner = &*self.inner;
        let today = now.date_naive();
        let n = inner.schema.fields().len();
        if !Arc::ptr_eq(&report.checker.inner, &self.inner) {
            report.checker = self.clone();
        }
        // The records of the previous rows, the first on top, to be written over.
        let previous = report.rows.drain(..).rev();
        report
            .spare
            .extend(previous.filter_map(|r| match r.outcome {
                Outcome::Succeeded(record) => Some(record),
                Outcome::Failed(_) => None,
            }));
        let mut columns = Columns::default();
        let mut problems = Counter::new(n);
        let mut flagged = Counter::new(n);
        let mut totals = Totals::default();
        let mut rows = rows.into_iter().peekable();
        report.rows.reserve(rows.size_hint().0);
        while let Some(row) = rows.next() {
            if let Some(next) = rows.peek() {
                std::hint::black_box(touch(next));
            }
            let mut record = report.spare.pop().unwrap_or_default();
            let (list, flags) = inner.check_for_report(row, today, &mut columns, &mut record);
            totals.rows += 1;
            let outcome = if list.is_empty() {
                totals.succeeded += 1;
                Outcome::Succeeded(record)
            } else {
                totals.failed += 1;
                for p in &list {
                    problems.add(inner, &p.field);
                }
                report.spare.push(record);
                Outcome::Failed(list)
            };
            if !flags.is_empty() {
                totals.flagged += 1;
                for f in &flags {
                    flagged.add(inner, &f.field);
                }
            }
            report.rows.push(RowReport {
                row: totals.rows,
                outcome,
                flags,
            });
        }
        totals.problems_per_field = problems.finish(inner);
        totals.flags_per_field = flagged.finish(inner);
        report.totals = totals;
    }
}
