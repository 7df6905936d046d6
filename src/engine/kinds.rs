//! Finding an event's kind among those rules concern: done for every event, so a small
//! open-addressed table, probed once or twice, indexed by a hash of the name's first and
//! last eight bytes (one multiply), with one comparison of the name at the end.

use crate::keys::{load8, same_text, tail};

/// Event kinds → their place in the engine's per-kind lists.
#[derive(Clone, Debug, Default)]
pub(crate) struct KindIndex {
    /// Power-of-two many slots: (hash, place + 1), 0 for an empty slot.
    slots: Vec<(u64, u32)>,
    /// 64 less the number of bits of a slot's index: the shift that takes them from the
    /// top of a hash.
    shift: u32,
    names: Vec<Box<str>>,
}

/// A hash of a name for the table: its length and its first and last eight bytes (all of
/// them when shorter), multiplied so that the top bits depend on every one of them.
#[inline(always)]
fn name_hash(name: &str) -> u64 {
    let b = name.as_bytes();
    let n = b.len();
    let (x, y) = if n >= 8 {
        (load8(b, 0), load8(b, n - 8))
    } else {
        (tail(b), 0)
    };
    (x ^ y.rotate_left(29) ^ (n as u64).rotate_left(58)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
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
            self.insert(name_hash(name), at);
        }
        at
    }

    /// The place of a kind.
    #[inline]
    pub fn get(&self, name: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let hash = name_hash(name);
        let mask = self.slots.len() - 1;
        let mut i = (hash >> self.shift) as usize;
        loop {
            let (h, at) = *self.slots.get(i)?;
            if at == 0 {
                return None;
            }
            if h == hash
                && self
                    .names
                    .get(at as usize - 1)
                    .is_some_and(|n| same_text(n, name))
            {
                return Some(at - 1);
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(&mut self, hash: u64, at: u32) {
        let mask = self.slots.len() - 1;
        let mut i = (hash >> self.shift) as usize;
        while self.slots[i].1 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (hash, at + 1);
    }

    /// Resizes the table to four slots a name (at least 8) and inserts every name again.
    fn rebuild(&mut self) {
        let n = (4 * self.names.len()).next_power_of_two().max(8);
        self.slots = vec![(0, 0); n];
        self.shift = 64 - n.trailing_zeros();
        let hashes: Vec<u64> = self.names.iter().map(|n| name_hash(n)).collect();
        for (at, hash) in hashes.into_iter().enumerate() {
            self.insert(hash, at as u32);
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
}
