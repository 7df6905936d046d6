//! Customer data quality: normalization, batch import reports, invalid-data flags,
//! duplicates and merges, customer numbers.
//!
//! The host owns storage; this module owns the decisions. A [`Checker`] is compiled once
//! from a [`Schema`](crate::Schema) (whose optional `quality` section, [`Config`],
//! configures flags, match keys and the merge policy) and then normalizes and validates
//! rows, flags implausible values, finds duplicates and plans merges. All of it is pure
//! and deterministic: no clock (`now` is an argument), no I/O, output in a fixed order.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use crm_rules::{quality::Checker, Schema};
//! use serde_json::json;
//!
//! let schema = Schema::from_json(r#"{
//!   "fields": [
//!     {"name": "客户名称", "type": "text", "required": true},
//!     {"name": "联系人", "type": "text"},
//!     {"name": "手机号", "type": "phone", "sensitive": true},
//!     {"name": "邮箱", "type": "email"},
//!     {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户", "成交客户"]},
//!     {"name": "标签", "type": "tags"}
//!   ],
//!   "quality": {
//!     "match_keys": [["手机号"], ["邮箱"], ["客户名称", "联系人"]],
//!     "merge": {"fields": {"客户名称": "primary"}}
//!   }
//! }"#)?;
//! let checker = Checker::new(&schema);
//! let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
//!
//! let rows = [
//!     json!({"客户名称": "华为技术", "联系人": "王芳", "手机号": "+86 139-5286-7341", "客户状态": "新客户"}),
//!     json!({"客户名称": "华为 技术", "联系人": "王芳", "邮箱": "WF@163.com", "标签": "VIP，展会"}),
//!     json!({"客户名称": "小米科技", "手机号": "１３９５２８６７３４１", "邮箱": "wf@163.com", "客户状态": "成交客戶"}),
//!     json!({"客户名称": "", "手机号": "1390000"}),
//! ];
//! let report = checker.report(&rows, now);
//! assert_eq!(report.to_string(), "4 rows: 2 succeeded, 2 failed; 0 flagged
//! problems per field:
//!   客户名称: 1
//!   手机号: 1
//!   客户状态: 1");
//! let problems: Vec<String> = report.problems().map(|(row, p)| format!("row {row}: {p}")).collect();
//! assert_eq!(problems, [
//!     "row 3: 客户状态 (成交客戶): \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?",
//!     "row 4: 客户名称: is required",
//!     "row 4: 手机号 (***): must be 11 digits",
//! ]);
//!
//! // The two valid rows name the same company and contact (white space aside): duplicates.
//! let records: Vec<_> = report.records().cloned().collect();
//! let groups = checker.find_duplicates(&records);
//! assert_eq!(groups[0].to_string(), "records 0, 1: 客户名称+联系人 华为技术 + 王芳 (0, 1)");
//! let plan = checker.merge_plan(&groups[0].pick(&records))?;
//! assert_eq!(plan.to_string(), "merge record 1 into record 0; 1 conflict resolved
//!   客户名称 (primary): kept 华为技术 from record 0; discarded 华为 技术 (record 1)
//!   邮箱 (most recent): kept wf@163.com from record 1
//!   标签 (union): kept VIP, 展会 from record 1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Normalization
//!
//! Each value of a row is normalized by its field's type before it is validated; the
//! decisions are made once per schema. Normalizing a normalized value changes nothing.
//! `null`, blank texts and empty lists become absent.
//!
//! | field type | normalization | example |
//! |---|---|---|
//! | `text`, `member` | invisible characters (zero-width space, BOM) removed; full-width digits and letters made ASCII; white space (including `　` U+3000) trimmed and each run made one space | `" 华为　 技术 "` → `"华为 技术"`, `"ＡＢＣ１２３"` → `"ABC123"` |
//! | `long_text` | line breaks made `\n`; each line as `text`; blank lines at the ends removed | |
//! | `phone` | full-width characters made ASCII; spaces, dashes, dots and parentheses removed; `+86`, `0086`, or `86` before a number of the field's length removed | `"+86 138-1234-5678"` → `"13812345678"`, `"１３８"` → `"138"` |
//! | `email` | full-width characters made ASCII, trimmed, ASCII letters lower-cased | `" Li.Wei@Example.COM"` → `"li.wei@example.com"` |
//! | `single_choice` | as `text`, then matched exactly against the options (normalized alike); the option is kept as the dictionary writes it | `" 成交客户 "` → `"成交客户"` |
//! | `multiple_choice`, `tags` | an array of texts, or one text split at `,` `，` `、` `;` `；` `\|` and line breaks; each item as `text`; empty and repeated items dropped; choices matched as `single_choice` | `"VIP，展会、VIP"` → `["VIP", "展会"]` |
//! | `number`, `integer`, `rating` | a JSON number, or a text: optional sign, digits (full-width allowed, optionally grouped by commas in threes), optional fraction | `"500,000"` → `500000` |
//! | `bool` | `true`/`false`, or `true`, `false`, `yes`, `no`, `y`, `n`, `是`, `否`, `1`, `0` | `"是"` → `true` |
//! | `date` | `2024-03-15`, `2024/3/15`, `2024.3.15`, `2024年3月15日` (month and day of 1 or 2 digits; full-width digits allowed) → ISO | `"2024年3月15日"` → `2024-03-15` |
//! | `date_time` | RFC 3339, or a date as above followed by `10:30` or `10:30:00` (after a space or `T`) and optionally an offset (`Z`, `+08:00`); without an offset it is read in the `quality.time_zone` (UTC by default), without a time it is midnight | `"2024/3/15 10:30"` in Asia/Shanghai → `2024-03-15T02:30:00Z` |
//!
//! A spreadsheet that gives a number for a text field (a phone number read as
//! `13812345678`) is read as the number's digits.
//!
//! # Problems
//!
//! [`Checker::check_row`] and [`Checker::report`] give every problem of a row, in schema
//! order, then unknown columns. Each is a [`FieldError`](crate::FieldError): the field, the value as shown
//! (masked when the field is sensitive: `138****5678`) and the message:
//!
//! | problem | message |
//! |---|---|
//! | a required field missing or blank | `is required` |
//! | a column the schema does not have | `unknown field` |
//! | a row that is not an object | `expected an object of field values, found a list` (no field) |
//! | a JSON value of the wrong kind | `expected a text, found an object` (the value named unless sensitive) |
//! | a phone number of the wrong length | `must be 11 digits` (the field's `phone_digits`) |
//! | a malformed e-mail address | `is not a valid e-mail address` |
//! | a choice value not in the dictionary | `"成交客戶" is not an option of 客户状态; did you mean "成交客户"?` (or `(options: …)` when nothing is close) |
//! | a number, integer or boolean that cannot be read | `is not a number`, `is not an integer`, `is not true or false (accepted: …)` |
//! | a date or date-time in no accepted form | `is not a date (accepted: 2024-03-15, 2024/3/15, 2024年3月15日)`, `is not a date-time (accepted: …)` |
//! | a local time skipped by a clock change | `does not exist in America/New_York (the clocks skip it)` |
//! | ranges, lengths, ratings, dates | as [`Schema::validate`](crate::Schema::validate): `must be at least 0`, `must have at most 100 characters`, `must not be before today (2024-05-20)` … |
//!
//! # Flags
//!
//! Values that are well-formed but implausible are flagged, not rejected ([`Flag`]):
//! placeholder phone numbers (`13800000000`), phone numbers with long runs of repeated or
//! sequential digits (`13888888888`, `12345678901`), e-mail addresses at test domains
//! (`example.com`, `test.com`), test names (`测试`, `test`). The lists live in the
//! schema ([`Flags`]).
//!
//! # Match keys
//!
//! Two records are duplicates when they share the key of a match key (by default each
//! phone field and each e-mail field; configured in the schema as lists of fields, such
//! as company name + contact). A key is made of the fields' values in key form: phone
//! numbers canonical as above, e-mail addresses lower-cased, texts with every full-width
//! ASCII character made ASCII, white space removed and ASCII letters lower-cased (so
//! `华为 技术（深圳）` and `华为技术(深圳)` match), numbers and dates as written. A key
//! with an empty field is no key, and neither is a flagged value: fifty customers typed
//! in with `13800000000` are not one customer.
//!
//! [`Checker::find_duplicates`] groups a batch transitively; [`KeyIndex`] checks one
//! incoming record against the keys of existing ones; [`Checker::match_keys`] gives a
//! record's keys for a host that indexes them in its own storage.
//!
//! # Merges
//!
//! [`Checker::merge_plan`] proposes how to merge a group: the survivor ([`Survivor`]:
//! the first record, the oldest, the most recent or the most complete) and per field the value to
//! keep ([`FieldPolicy`]): `most_recent` (the most recent non-empty value; the default),
//! `primary` (the survivor's, or the most recent non-empty when it has none), `union`
//! (tags and multiple choices, by default: every item once, the survivor's first).
//! Recency is the order of a date field when the policy names one (`recency_field`), the
//! order in the group otherwise (later is more recent). The plan lists every conflict it
//! resolved and the values it discarded ([`MergePlan`]).
//!
//! # Cost
//!
//! Every per-field decision is made once, in [`Checker::new`]. Checking a row costs
//! O(fields) with no hashing of column names when rows share their column order (every
//! row of a spreadsheet); a batch report is linear in rows. [`Checker::find_duplicates`]
//! costs O(n log n) per match key; [`KeyIndex::matches`] O(k log n) for k match keys.
//! For very large imports, report in chunks of about a thousand rows as they are read,
//! into one report ([`Checker::report_into`]): the rows and records of a chunk then stay
//! in the processor's cache, and each chunk's records are written over the previous
//! chunk's instead of being allocated anew (row numbers count from 1 within each chunk).
//!
//! # Customer numbers
//!
//! [`CustomerNumbers`] makes numbers such as `CUST20240520001`: prefix, date, sequence;
//! the host passes the last sequence and stores the next. A sequence too wide for its
//! digits is an error, never a wrap.

mod checker;
mod config;
mod customer_number;
mod dates;
mod duplicates;
mod flags;
mod index;
mod merge;
mod normalize;
mod recheck;
mod report;
mod text;

pub use checker::Checker;
pub use config::Config;
pub use customer_number::{CustomerNumber, CustomerNumberError, CustomerNumbers};
pub use duplicates::{DuplicateGroup, KeyMatch, MatchKey};
pub use flags::{Flag, FlagKind, Flags};
pub use index::{KeyIndex, Match};
pub use merge::{
    Discarded, FieldDecision, FieldPolicy, MergeError, MergePlan, MergePolicy, Survivor,
};
pub use report::{Outcome, Report, RowReport, Totals};
