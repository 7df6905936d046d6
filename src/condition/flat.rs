//! Conditions flattened for the evaluation loop. The common shape of a rule's condition,
//! comparisons of customer fields with text, tag and integer literals under one `all` or
//! `any`, is compiled to small checks, and the checks of all the candidates of an event
//! kind form one [`Program`]: each check says where to go when it holds and when it does
//! not (the next check, the next candidate, or "stop at this candidate"). Scanning the
//! candidates of an event is then one tight loop over checks in memory order that
//! compares the record's [keys](Key) in line, and reads a value only when its key does
//! not decide (a long text whose key matches, a tag list that may hold the tag, a
//! decimal).
//! Every other condition keeps its tree ([`Shape::Tree`]); both give the same answer.

use std::cmp::Ordering;

use super::{Keyed, Node, Src, Test};
use crate::keys::{same_text, Key};
use crate::schema::{FieldId, Record};
use crate::value::{Number, Value};

/// A jump target that stops the scan at a candidate (its index in the low bits).
const STOP: u32 = 1 << 31;

/// One comparison of a customer field, as it is now, with a literal, and where the scan
/// goes next: 32 bytes, two to a cache line. A field past the first 65,536 or an `in`
/// list of more than 255 texts has no flat form.
#[derive(Clone, Debug, PartialEq)]
struct Check {
    field: u16,
    op: CheckOp,
    /// How many texts an `in` list has.
    len: u8,
    /// The literal's place in the texts (text and tag comparisons).
    at: u32,
    /// The literal: a text's key, the union of an `in` list's [key bits](Key::bit) (in
    /// `lo`), a tag's bit (in `lo`), or the integer's key.
    lit: Key,
    /// Where to go when the check holds, and when it does not: a check's index, or
    /// [`STOP`] with a candidate's.
    yes: u32,
    no: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CheckOp {
    /// Holds without reading anything: a candidate the caller decides.
    Stop,
    /// Equal to a short text: equal keys decide.
    TextIs,
    /// Not equal to a short text.
    TextIsNot,
    TextEq,
    TextNe,
    TextIn,
    TextNotIn,
    HasTag,
    IntEq,
    IntNe,
    IntLt,
    IntLte,
    IntGt,
    IntGte,
}

/// How a candidate's condition is evaluated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Shape {
    /// By the program: when the scan stops at the candidate, its condition holds.
    Flat,
    /// By its tree, which the caller evaluates when the scan stops at the candidate.
    Tree,
}

/// The candidates of an event kind, in order, their conditions as one program of checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Program {
    checks: Vec<Check>,
    texts: Vec<Keyed>,
    /// Each candidate's first check.
    first: Vec<u32>,
}

impl Program {
    /// Adds the next candidate. With `decide` false (a rule with more to check than its
    /// condition), or a condition with no flat form, the scan always stops at it and the
    /// caller decides; else the scan stops at it only when its condition holds.
    pub fn add(&mut self, condition: Option<&Node>, decide: bool) -> Shape {
        let candidate = self.first.len() as u32;
        let (start, texts) = (self.checks.len(), self.texts.len());
        self.first.push(start as u32);
        let stop = STOP | candidate;
        if decide && self.flatten(condition, stop) {
            return Shape::Flat;
        }
        self.checks.truncate(start);
        self.texts.truncate(texts);
        self.checks.push(Check {
            field: 0,
            op: CheckOp::Stop,
            len: 0,
            at: 0,
            lit: Key::NONE,
            yes: stop,
            no: stop,
        });
        if condition.is_some() && decide {
            Shape::Tree
        } else {
            Shape::Flat
        }
    }

    /// Appends the checks of a condition, jumping to `stop` when it holds and to the next
    /// candidate when not; false when it has no flat form.
    fn flatten(&mut self, condition: Option<&Node>, stop: u32) -> bool {
        let Some(node) = condition else {
            return false;
        };
        let (items, any) = match node {
            Node::All(items) => (&items[..], false),
            Node::Any(items) => (&items[..], true),
            Node::Test { .. } => (std::slice::from_ref(node), false),
            _ => return false,
        };
        // The comparisons are pure, so their order does not change the answer, only how
        // soon the scan knows it: under `all` the likeliest to fail go first, under `any`
        // the likeliest to hold.
        let mut order: Vec<&Node> = items.iter().collect();
        if any {
            order.sort_by_key(|n| std::cmp::Reverse(pass_rank(n)));
        } else {
            order.sort_by_key(|n| pass_rank(n));
        }
        let start = self.checks.len();
        let end = (start + items.len()) as u32;
        for (i, item) in order.into_iter().enumerate() {
            let next = (start + i + 1) as u32;
            let last = next == end;
            let (yes, no) = match (any, last) {
                (false, false) => (next, end),
                (false, true) => (stop, end),
                (true, false) => (stop, next),
                (true, true) => (stop, end),
            };
            if self.push(item, yes, no).is_none() {
                return false;
            }
        }
        true
    }

    /// Appends the check for one comparison; `None` when it has none.
    fn push(&mut self, node: &Node, yes: u32, no: u32) -> Option<()> {
        let Node::Test {
            src: Src::Field(field),
            test,
        } = node
        else {
            return None;
        };
        let at = self.texts.len() as u32;
        let mut len = 0;
        let (op, lit) = match test {
            Test::EqText(l) | Test::NeText(l) => {
                self.texts.push(l.clone());
                let op = match (matches!(test, Test::EqText(_)), l.key.is_exact()) {
                    (true, true) => CheckOp::TextIs,
                    (true, false) => CheckOp::TextEq,
                    (false, true) => CheckOp::TextIsNot,
                    (false, false) => CheckOp::TextNe,
                };
                (op, l.key)
            }
            Test::InText(ls) | Test::NotInText(ls) => {
                len = u8::try_from(ls.len()).ok()?;
                self.texts.extend(ls.iter().cloned());
                let op = if matches!(test, Test::InText(_)) {
                    CheckOp::TextIn
                } else {
                    CheckOp::TextNotIn
                };
                (op, bits(ls.iter().fold(0, |m, l| m | l.key.bit())))
            }
            Test::HasTag(tag, bit) => {
                self.texts.push(Keyed::new(tag.as_str().into()));
                (CheckOp::HasTag, bits(*bit))
            }
            Test::EqNum(n) => (CheckOp::IntEq, int_literal(*n)?),
            Test::NeNum(n) => (CheckOp::IntNe, int_literal(*n)?),
            Test::LtNum(n) => (CheckOp::IntLt, int_literal(*n)?),
            Test::LteNum(n) => (CheckOp::IntLte, int_literal(*n)?),
            Test::GtNum(n) => (CheckOp::IntGt, int_literal(*n)?),
            Test::GteNum(n) => (CheckOp::IntGte, int_literal(*n)?),
            _ => return None,
        };
        self.checks.push(Check {
            field: u16::try_from(field.0).ok()?,
            op,
            len,
            at,
            lit,
            yes,
            no,
        });
        Some(())
    }

    /// The first check of the candidate after `candidate` (the end after the last).
    #[inline]
    pub fn after(&self, candidate: u32) -> usize {
        self.first
            .get(candidate as usize + 1)
            .map_or(self.checks.len(), |&f| f as usize)
    }

    /// Runs the program from check `pc` on a record: the candidate it stops at, or `None`
    /// when it runs off the end.
    #[inline(never)]
    pub fn next(&self, mut pc: usize, record: &Record) -> Option<u32> {
        while let Some(c) = self.checks.get(pc) {
            let to = if self.check(c, record) { c.yes } else { c.no };
            if to & STOP != 0 {
                return Some(to & !STOP);
            }
            pc = to as usize;
        }
        None
    }

    /// Whether one check holds: the same answer as the test it was made from.
    #[inline(always)]
    fn check(&self, c: &Check, record: &Record) -> bool {
        let field = FieldId(u32::from(c.field));
        let key = record.key(field);
        let int = || match key.as_int() {
            Some(i) => Some(i.cmp(&(c.lit.lo as i64))),
            None if key.is_decimal() => decimal(record.get(field), c.lit.lo as i64),
            None => None,
        };
        match c.op {
            CheckOp::Stop => true,
            CheckOp::TextIs => key == c.lit,
            CheckOp::TextIsNot => key != c.lit,
            CheckOp::TextEq => key == c.lit && self.text_is(record.get(field), c.at),
            CheckOp::TextNe => !(key == c.lit && self.text_is(record.get(field), c.at)),
            CheckOp::TextIn => self.in_texts(c, key, record.get(field)),
            CheckOp::TextNotIn => !self.in_texts(c, key, record.get(field)),
            CheckOp::HasTag => {
                key.tags() & c.lit.lo != 0
                    && self.texts.get(c.at as usize).is_some_and(|tag| {
                        record
                            .get(field)
                            .as_list()
                            .is_some_and(|l| l.iter().any(|x| same_text(x, &tag.text)))
                    })
            }
            CheckOp::IntEq => int().is_some_and(Ordering::is_eq),
            CheckOp::IntNe => !int().is_some_and(Ordering::is_eq),
            CheckOp::IntLt => int().is_some_and(Ordering::is_lt),
            CheckOp::IntLte => int().is_some_and(Ordering::is_le),
            CheckOp::IntGt => int().is_some_and(Ordering::is_gt),
            CheckOp::IntGte => int().is_some_and(Ordering::is_ge),
        }
    }

    /// Whether the field's value is one of an `in` list's texts: none is when the key's
    /// bit is not among the list's; an equal exact key is.
    #[inline(always)]
    fn in_texts(&self, c: &Check, key: Key, value: &Value) -> bool {
        if key.bit() & c.lit.lo == 0 {
            return false;
        }
        let at = c.at as usize;
        let texts = self
            .texts
            .get(at..at + usize::from(c.len))
            .unwrap_or_default();
        for l in texts {
            if l.key == key && (key.is_exact() || is_text(value, &l.text)) {
                return true;
            }
        }
        false
    }

    #[inline(always)]
    fn text_is(&self, v: &Value, at: u32) -> bool {
        self.texts
            .get(at as usize)
            .is_some_and(|l| is_text(v, &l.text))
    }
}

/// How likely a comparison is to hold, as a rank (lower: likelier to fail), by its
/// operator alone: an equality picks one value of many, a tag one of a customer's few, an
/// `in` list or a range about half, an inequality most. Among equally likely ones the
/// cheaper comes first (a tag may read the list). An `all` is checked in this order, an
/// `any` in the reverse.
fn pass_rank(node: &Node) -> u8 {
    let Node::Test { test, .. } = node else {
        return u8::MAX;
    };
    match test {
        Test::EqText(_) | Test::EqNum(_) => 0,
        Test::HasTag(..) => 1,
        Test::InText(_) => 2,
        Test::LtNum(_) | Test::LteNum(_) | Test::GtNum(_) | Test::GteNum(_) => 3,
        Test::NotInText(_) => 4,
        _ => 5,
    }
}

/// An integer literal's key; `None` for a decimal (which has no flat form).
fn int_literal(n: Number) -> Option<Key> {
    n.int().map(Key::int)
}

/// Bits of a bloom filter as a literal.
fn bits(lo: u64) -> Key {
    Key { lo, hi: 0 }
}

#[inline(always)]
fn is_text(v: &Value, text: &str) -> bool {
    matches!(v, Value::Text(t) if same_text(t, text))
}

/// How a decimal value compares with an integer; `None` when it is not a number.
#[cold]
fn decimal(v: &Value, lit: i64) -> Option<Ordering> {
    match v {
        Value::Number(n) => Some(n.cmp(&Number::from(lit))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(field: u32, test: Test) -> Node {
        Node::Test {
            src: Src::Field(FieldId(field)),
            test,
        }
    }

    #[test]
    fn all_checks_the_likeliest_to_fail_first_and_any_the_likeliest_to_hold() {
        let schema = crate::Schema::new([
            crate::Field::new("status", crate::FieldType::Text),
            crate::Field::new("budget", crate::FieldType::Integer),
        ])
        .unwrap();
        let items = || {
            vec![
                test(0, Test::NeText(Keyed::new("lost".into()))),
                test(1, Test::GteNum(Number::from(100))),
                test(0, Test::EqText(Keyed::new("hot".into()))),
            ]
        };
        let (mut all, mut any) = (Program::default(), Program::default());
        assert_eq!(all.add(Some(&Node::All(items().into())), true), Shape::Flat);
        assert_eq!(any.add(Some(&Node::Any(items().into())), true), Shape::Flat);
        let ops = |p: &Program| p.checks.iter().map(|c| c.op).collect::<Vec<_>>();
        use CheckOp::*;
        assert_eq!(ops(&all), [TextIs, IntGte, TextIsNot]);
        assert_eq!(ops(&any), [TextIsNot, IntGte, TextIs]);
        // The answers are those of the conditions as written.
        for (status, budget, all_holds, any_holds) in [
            ("hot", 500, true, true),
            ("hot", 50, false, true),
            ("lost", 500, false, true),
            ("lost", 50, false, false),
            ("new", 500, false, true),
        ] {
            let r = schema
                .record([
                    ("status", crate::Value::from(status)),
                    ("budget", budget.into()),
                ])
                .unwrap();
            assert_eq!(
                all.next(0, &r).is_some(),
                all_holds,
                "all: {status} {budget}"
            );
            assert_eq!(
                any.next(0, &r).is_some(),
                any_holds,
                "any: {status} {budget}"
            );
        }
    }

    #[test]
    fn checks_fit_two_to_a_cache_line() {
        // The scan streams through checks: their size is its memory traffic.
        assert_eq!(std::mem::size_of::<Check>(), 32);
    }
}
