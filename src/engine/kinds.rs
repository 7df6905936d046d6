//! Finding an event's kind among those rules concern: done for every event, so a small
//! open-addressed table, probed once or twice, indexed by a hash of the name's length and
//! first and last eight bytes (one multiply). A slot holds those parts too: they are the
//! whole name up to 16 bytes, so such a name is found without reading the name itself.

use crate::keys::{load8, same_text, tail};

/// Event kinds → their place in the engine's per-kind lists.
#[derive(Clone, Debug, Default)]
pub(crate) struct KindIndex {
    /// Power-of-two many slots.
    slots: Vec<Slot>,
    /// 64 less the number of bits of a slot's index: the shift that takes them from the
    /// top of a hash.
    shift: u32,
    names: Vec<Box<str>>,
}

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

    /// A hash of the parts, multiplied so that the top bits depend on every one of them.
    #[inline(always)]
    fn hash(&self) -> u64 {
        (self.first ^ self.last.rotate_left(29) ^ (self.len as u64).rotate_left(58))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
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
        if self.slots.len() < 2 * self.names.len() {
            self.rebuild();
        } else {
            self.insert(Parts::of(name), at);
        }
        at
    }

    /// The place of a kind.
    #[inline(always)]
    pub fn get(&self, name: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let parts = Parts::of(name);
        let mask = self.slots.len() - 1;
        let mut i = (parts.hash() >> self.shift) as usize;
        loop {
            let slot = self.slots.get(i)?;
            if slot.at == 0 {
                return None;
            }
            if slot.parts == parts && (parts.len <= 16 || self.is_named(slot.at - 1, name)) {
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
        let mut i = (parts.hash() >> self.shift) as usize;
        while self.slots[i].at != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { parts, at: at + 1 };
    }

    /// Resizes the table to four slots a name (at least 8) and inserts every name again.
    fn rebuild(&mut self) {
        let n = (4 * self.names.len()).next_power_of_two().max(8);
        self.slots = vec![Slot::default(); n];
        self.shift = 64 - n.trailing_zeros();
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
