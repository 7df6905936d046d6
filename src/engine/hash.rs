//! Stable hashing: the same input gives the same number on every run and machine.

/// 64-bit FNV-1a over parts, each followed by a zero byte.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Spreads the bits of a hash evenly (the SplitMix64 finalizer), so that taking it modulo
/// a small number gives an even split even for ids that differ in one character.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable bucket in `0..n` for the parts (`n` > 0).
pub(crate) fn bucket(parts: &[&[u8]], n: u64) -> u64 {
    mix(fnv1a(parts)) % n.max(1)
}

/// A fast hasher for the engine's lookups of short names (event kinds) in maps it
/// builds itself and never iterates into output: eight bytes at a time, multiply and
/// rotate. Not for untrusted keys in maps that grow with input (no flooding resistance),
/// which the engine does not have: its maps are fixed when it is built.
#[derive(Clone, Copy, Default)]
pub(crate) struct Fast(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Fast {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl std::hash::Hasher for Fast {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by names, hashed with [`Fast`].
pub(crate) type FastMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fast>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_fixed() {
        // Known FNV-1a 64 value of "a" followed by a zero byte, computed independently.
        assert_eq!(fnv1a(&[b"a"]), 0x089b_e207_b544_f1e4);
        assert_eq!(fnv1a(&[b"a", b"b"]), fnv1a(&[b"a", b"b"]));
        assert_ne!(fnv1a(&[b"ab"]), fnv1a(&[b"a", b"b"]));
    }

    #[test]
    fn fast_maps_find_names_of_every_length() {
        let names: Vec<String> = (0..40).map(|n| "k".repeat(n)).collect();
        let mut map: FastMap<String, usize> = FastMap::default();
        for (i, n) in names.iter().enumerate() {
            map.insert(n.clone(), i);
        }
        for (i, n) in names.iter().enumerate() {
            assert_eq!(map.get(n.as_str()), Some(&i));
        }
        assert_eq!(map.get("kx"), None);
    }
}
