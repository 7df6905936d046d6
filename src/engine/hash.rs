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
}
