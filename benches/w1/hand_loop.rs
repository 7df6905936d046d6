//! The hand-written loop W1's README measures other engines against ("interned fields,
//! rules indexed by kind"), written here so that `benches/engine.rs` runs it in the same
//! window as the engine: the machines' speed swings more than twofold between hours,
//! and the target ("at least a third of the hand loop") is a ratio.
//!
//! It knows the W1 fields at compile time: each customer is five interned choices, four
//! integers and a tag bit set; each rule a list of conditions on those, filed under its
//! event kind; it produces nothing but the matching rules' numbers.

use serde_json::Value as Json;

/// The W1 choice fields, in the order a customer holds them.
const CHOICES: [&str; 5] = ["status", "industry", "region", "source", "grade"];
/// The W1 integer fields, in the order a customer holds them.
const INTS: [&str; 4] = ["budget", "employees", "follow_ups", "days_since_created"];

/// A customer with every value interned.
pub struct Customer {
    choices: [u8; 5],
    ints: [i64; 4],
    tags: u64,
}

/// One condition on a customer.
enum Cond {
    Is(usize, u8),
    IsNot(usize, u8),
    /// One of the choices whose bits are set.
    OneOf(usize, u64),
    AtLeast(usize, i64),
    AtMost(usize, i64),
    Tagged(u64),
}

impl Cond {
    #[inline(always)]
    fn holds(&self, c: &Customer) -> bool {
        match *self {
            Cond::Is(f, v) => c.choices[f] == v,
            Cond::IsNot(f, v) => c.choices[f] != v,
            Cond::OneOf(f, bits) => bits >> c.choices[f] & 1 == 1,
            Cond::AtLeast(f, v) => c.ints[f] >= v,
            Cond::AtMost(f, v) => c.ints[f] <= v,
            Cond::Tagged(bit) => c.tags & bit != 0,
        }
    }
}

struct Rule {
    number: u32,
    conds: Vec<Cond>,
}

/// W1 converted for the loop: customers, rules by event kind, events as (customer, kind).
pub struct HandLoop {
    pub customers: Vec<Customer>,
    by_kind: Vec<Vec<Rule>>,
    pub events: Vec<(u32, u32)>,
}

/// Interns texts: each new one gets the next number.
#[derive(Default)]
struct Names(Vec<String>);

impl Names {
    fn of(&mut self, name: &str) -> u8 {
        let at = match self.0.iter().position(|n| n == name) {
            Some(at) => at,
            None => {
                self.0.push(name.to_owned());
                self.0.len() - 1
            }
        };
        at as u8
    }
}

impl HandLoop {
    /// Converts W1's customers, rules and events (`{customer, type}`, as read).
    pub fn new(customers: &[Json], rules: &[Json], events: &[(usize, String)]) -> HandLoop {
        let mut choices: Vec<Names> = (0..CHOICES.len()).map(|_| Names::default()).collect();
        let mut tags = Names::default();
        let mut kinds = Names::default();
        let customers = customers
            .iter()
            .map(|c| Customer {
                choices: std::array::from_fn(|i| {
                    choices[i].of(c[CHOICES[i]].as_str().unwrap_or_default())
                }),
                ints: std::array::from_fn(|i| c[INTS[i]].as_i64().unwrap_or_default()),
                tags: c["tags"].as_array().map_or(0, |list| {
                    list.iter().fold(0, |bits, t| {
                        bits | 1 << tags.of(t.as_str().unwrap_or_default())
                    })
                }),
            })
            .collect();
        let mut by_kind: Vec<Vec<Rule>> = Vec::new();
        for r in rules {
            let kind = kinds.of(r["trigger"].as_str().unwrap_or_default()) as usize;
            let conds = r["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let field = c["field"].as_str().unwrap_or_default();
                    let choice = CHOICES.iter().position(|f| *f == field);
                    let int = INTS.iter().position(|f| *f == field).unwrap_or(0);
                    let v = &c["value"];
                    let mut choice_of = |v: &Json| {
                        let f = choice.unwrap_or(0);
                        choices[f].of(v.as_str().unwrap_or_default())
                    };
                    match c["op"].as_str().unwrap_or_default() {
                        "eq" => Cond::Is(choice.unwrap_or(0), choice_of(v)),
                        "ne" => Cond::IsNot(choice.unwrap_or(0), choice_of(v)),
                        "in" => Cond::OneOf(
                            choice.unwrap_or(0),
                            v.as_array()
                                .into_iter()
                                .flatten()
                                .fold(0, |bits, v| bits | 1 << choice_of(v)),
                        ),
                        "gte" => Cond::AtLeast(int, v.as_i64().unwrap_or_default()),
                        "lte" => Cond::AtMost(int, v.as_i64().unwrap_or_default()),
                        _ => Cond::Tagged(1 << tags.of(v.as_str().unwrap_or_default())),
                    }
                })
                .collect();
            if by_kind.len() <= kind {
                by_kind.resize_with(kind + 1, Vec::new);
            }
            let id = r["id"].as_str().unwrap_or_default();
            by_kind[kind].push(Rule {
                number: id.get(1..).and_then(|n| n.parse().ok()).unwrap_or_default(),
                conds,
            });
        }
        // Ascending rule numbers within a kind: the checksum's order.
        for rules in &mut by_kind {
            rules.sort_by_key(|r| r.number);
        }
        let events = events
            .iter()
            .map(|(c, kind)| (*c as u32, u32::from(kinds.of(kind))))
            .collect();
        HandLoop {
            customers,
            by_kind,
            events,
        }
    }

    /// The numbers of the rules an event matches, ascending, into `out` (emptied first).
    #[inline]
    pub fn matches(&self, (customer, kind): (u32, u32), out: &mut Vec<u32>) {
        out.clear();
        let (Some(c), Some(rules)) = (
            self.customers.get(customer as usize),
            self.by_kind.get(kind as usize),
        ) else {
            return;
        };
        for r in rules {
            if r.conds.iter().all(|cond| cond.holds(c)) {
                out.push(r.number);
            }
        }
    }

    /// Match count and W1 checksum over the events.
    pub fn answer(&self) -> (u64, u64) {
        let (mut total, mut h) = (0u64, 0u64);
        let mut out = Vec::new();
        for e in &self.events {
            self.matches(*e, &mut out);
            total += out.len() as u64;
            for id in &out {
                h = (h * 31 + u64::from(*id) + 1) % 1_000_000_007;
            }
        }
        (total, h)
    }
}
