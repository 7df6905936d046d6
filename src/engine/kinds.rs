//! Finding an event's kind among those rules concern: done for every event, so a small
//! open-addressed table indexed by a hash of the name's length and first and last eight
//! bytes (one multiply). A slot holds those parts too: they are the whole name up to 16
//! bytes, so such a name is found without reading the name itself. Once every kind is
//! in, [`KindIndex::finish`] looks for a seed of the hash that gives each kind a slot of
//! its own: then a lookup reads one slot and takes no branch that depends on the name
//! (events of assorted kinds otherwise mispredict the probe loop).

use crate::keys::{load8, same_text, tail};

/// Event kinds → their place in the engine's per-kind lists.
#[derive(Clone, Debug, Default)]
pub(crate) struct KindIndex {
    /// Power-of-two many slots.
    slots: Vec<Slot>,
    /// 64 less the number of bits of a slot's index: the shift that takes them from the
    /// top of a hash.
    shift: u32,
    /// Mixed into every hash ([`Parts::hash`]).
    seed: u64,
    /// Whether every name sits in the slot its hash gives (no probing).
    direct: bool,
    names: Vec<Box<str>>,
}

/// Up to how many names [`KindIndex::finish`] looks for a table without probing, and how
/// many seeds it tries at each size.
const DIRECT_NAMES: usize = 64;
const SEEDS: u64 = 64;

/// A name's place in the table, with what finds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    parts: Parts,
    /// The place + 1; 0 for an empty slot.
    at: u32,
}

/// A name's length and its first and last eight bytes (all of them, and zero, when it is
/// shorter): the whole name when it is at most 16 bytes long.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Parts {
    first: u64,
    last: u64,
    len: usize,
}

impl Parts {
    #[inline(always)]
    fn of(name: &str) -> Parts {
        let b = name.as_bytes();
        let len = b.len();
        let (first, last) = if len >= 8 {
            (load8(b, 0), load8(b, len - 8))
        } else {
            (tail(b), 0)
        };
        Parts { first, last, len }
    }

    /// A hash of the parts and a seed, multiplied so that the top bits depend on every
    /// one of them.
    #[inline(always)]
    fn hash(&self, seed: u64) -> u64 {
        (self.first ^ self.last.rotate_left(29) ^ (self.len as u64).rotate_left(58) ^ seed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    /// Whether two names have the same parts, without a branch per part.
    #[inline(always)]
    fn same(&self, other: &Parts) -> bool {
        ((self.first ^ other.first) | (self.last ^ other.last) | (self.len ^ other.len) as u64) == 0
    }
}

impl KindIndex {
    /// The place of a kind, adding it (at the next place) if it is new.
    pub fn place(&mut self, name: &str) -> u32 {
        if let Some(at) = self.get(name) {
            return at;
        }
        let at = self.names.len() as u32;
        self.names.push(name.into());
        self.direct = false;
        if self.slots.len() < 2 * self.names.len() {
            self.rebuild();
        } else {
            self.insert(Parts::of(name), at);
        }
        at
    }

    /// Lays the table out, once every name is in, so that each name sits in the slot its
    /// hash gives, if a seed (of the first [`SEEDS`], at four to sixteen slots a name) does
    /// that for up to [`DIRECT_NAMES`] names; else it stays probed. The seeds are tried in
    /// a fixed order: the same names give the same table.
    pub fn finish(&mut self) {
        let n = self.names.len();
        if n == 0 || n > DIRECT_NAMES || self.direct {
            return;
        }
        let parts: Vec<Parts> = self.names.iter().map(|name| Parts::of(name)).collect();
        let base = (4 * n).next_power_of_two().max(8);
        for size in [base, 2 * base, 4 * base] {
            let shift = 64 - size.trailing_zeros();
            for seed in (0..SEEDS).map(|k| k.wrapping_mul(0xd6e8_feb8_6659_fd93)) {
                let mut slots = vec![Slot::default(); size];
                let placed = parts.iter().enumerate().all(|(at, p)| {
                    match slots.get_mut((p.hash(seed) >> shift) as usize) {
                        Some(slot) if slot.at == 0 => {
                            *slot = Slot {
                                parts: *p,
                                at: at as u32 + 1,
                            };
                            true
                        }
                        _ => false,
                    }
                });
                if placed {
                    (self.slots, self.shift, self.seed, self.direct) = (slots, shift, seed, true);
                    return;
                }
            }
        }
    }

    /// The place of a kind.
    #[inline(always)]
    pub fn get(&self, name: &str) -> Option<u32> {
        // An empty table has no slot at any index: the first read below tells it.
        let parts = Parts::of(name);
        let mut i = (parts.hash(self.seed) >> self.shift) as usize;
        if self.direct {
            // An empty slot's parts are the empty name's: its place tells them apart.
            let slot = self.slots.get(i)?;
            let found = (slot.at != 0) & slot.parts.same(&parts);
            return (found && (parts.len <= 16 || self.is_named(slot.at - 1, name)))
                .then(|| slot.at - 1);
        }
        let mask = self.slots.len().wrapping_sub(1);
        loop {
            let slot = self.slots.get(i)?;
            if slot.at == 0 {
                return None;
            }
            if slot.parts.same(&parts) && (parts.len <= 16 || self.is_named(slot.at - 1, name)) {
                return Some(slot.at - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether the kind at a place has this name (for names longer than 16 bytes).
    #[cold]
    fn is_named(&self, at: u32, name: &str) -> bool {
        self.names
            .get(at as usize)
            .is_some_and(|n| same_text(n, name))
    }

    fn insert(&mut self, parts: Parts, at: u32) {
        let mask = self.slots.len() - 1;
        let mut i = (parts.hash(self.seed) >> self.shift) as usize;
        while self.slots[i].at != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { parts, at: at + 1 };
    }

    /// Resizes the table to four slots a name (at least 8) and inserts every name again
    /// (probed, with no seed).
    fn rebuild(&mut self) {
        let n = (4 * self.names.len()).next_power_of_two().max(8);
        self.slots = vec![Slot::default(); n];
        self.shift = 64 - n.trailing_zeros();
        self.seed = 0;
        let parts: Vec<Parts> = self.names.iter().map(|n| Parts::of(n)).collect();
        for (at, parts) in parts.into_iter().enumerate() {
            self.insert(parts, at as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_kind_added_and_no_other() {
        let mut index = KindIndex::default();
        assert_eq!(index.get("login"), None);
        let names: Vec<String> = (0..300).map(|i| format!("kind_{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.place(n), i as u32);
        }
        assert_eq!(index.place("kind_7"), 7);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n), Some(i as u32), "{n}");
        }
        for other in ["", "kind_", "kind_300", "login", "kind_07"] {
            assert_eq!(index.get(other), None, "{other}");
        }
    }

    /// Every kind placed is found at its place and no other name is, before and after
    /// [`KindIndex::finish`]; returns whether it laid the table out without probing.
    fn finished(names: &[String], others: &[&str]) -> bool {
        let mut index = KindIndex::default();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.place(n), i as u32);
        }
        let before = index.clone();
        index.finish();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n), Some(i as u32), "{n:?}");
            assert_eq!(before.get(n), Some(i as u32), "{n:?}");
        }
        for other in others {
            assert_eq!(index.get(other), None, "{other:?}");
        }
        index.direct
    }

    #[test]
    fn finished_tables_of_a_few_kinds_find_each_in_one_slot() {
        let w1: Vec<String> = [
            "page_view",
            "email_opened",
            "email_clicked",
            "form_submitted",
            "call_logged",
            "meeting_booked",
            "demo_requested",
            "trial_started",
            "login",
            "order_placed",
            "ticket_opened",
            "customer_replied",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert!(finished(
            &w1,
            &["", "page", "login2", "customer_replie", "x"]
        ));
        // Names of every length around the 8- and 16-byte edges, the empty one among
        // them.
        let mut edges: Vec<String> = (0..20).map(|n| "k".repeat(n)).collect();
        edges.push("customer_x_event_opened".into());
        assert!(finished(&edges, &["customer_y_event_opened", "kk_", "K"]));
        // Long names that share their first and last eight bytes hash alike: no seed
        // parts them, and the table stays probed.
        edges.push("customer_y_event_opened".into());
        assert!(!finished(&edges, &["customer_z_event_opened", "kk_", "K"]));
        // The same names give the same table.
        let (mut a, mut b) = (KindIndex::default(), KindIndex::default());
        for n in &w1 {
            a.place(n);
            b.place(n);
        }
        a.finish();
        b.finish();
        assert_eq!((a.seed, a.shift, a.slots), (b.seed, b.shift, b.slots));
    }

    #[test]
    fn many_kinds_stay_probed_and_are_found() {
        let names: Vec<String> = (0..300).map(|i| format!("kind_{i}")).collect();
        assert!(!finished(
            &names,
            &["", "kind_", "kind_300", "login", "kind_07"]
        ));
    }

    #[test]
    fn a_kind_placed_after_finishing_is_found() {
        let mut index = KindIndex::default();
        for n in ["login", "order_placed"] {
            index.place(n);
        }
        index.finish();
        assert!(index.direct);
        assert_eq!(index.place("customer_replied"), 2);
        assert!(!index.direct);
        for (i, n) in ["login", "order_placed", "customer_replied"]
            .iter()
            .enumerate()
        {
            assert_eq!(index.get(n), Some(i as u32));
        }
        assert_eq!(index.get("email_opened"), None);
    }

    #[test]
    fn long_names_that_share_their_ends_are_told_apart() {
        let mut index = KindIndex::default();
        let a = "customer_x_event_opened";
        let b = "customer_y_event_opened";
        assert_eq!(Parts::of(a), Parts::of(b));
        assert_eq!(index.place(a), 0);
        assert_eq!(index.get(b), None);
        assert_eq!(index.place(b), 1);
        assert_eq!((index.get(a), index.get(b)), (Some(0), Some(1)));
        // Every length around the 8- and 16-byte edges, and the empty name.
        let names: Vec<String> = (0..20).map(|n| "k".repeat(n)).collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.place(n), 2 + i as u32, "{n:?}");
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(index.get(n), Some(2 + i as u32), "{n:?}");
        }
        assert_eq!(index.get("customer_z_event_opened"), None);
    }
}
