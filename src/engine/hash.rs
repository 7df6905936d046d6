//! Stable hashing: the same input gives the same number on every run and machine.

use crate::keys::{fold_words, WORD_SEED};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a over parts, each followed by a zero byte. Part of action keys and stored
/// states: it must not change between releases.
#[inline]
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = FNV_OFFSET;
    for part in parts {
        h = fnv1a_bytes(h, part);
        // The zero byte: `h ^ 0` is `h`.
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// FNV-1a of `bytes` from `h`: eight bytes a round, then four, two and one, so that a
/// short id (most are) takes no loop round per byte.
#[inline(always)]
fn fnv1a_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let step = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        h = chunk.iter().fold(h, |h, &b| step(h, b));
    }
    let mut rest = chunks.remainder();
    if let [a, b, c, d, more @ ..] = rest {
        h = step(step(step(step(h, *a), *b), *c), *d);
        rest = more;
    }
    if let [a, b, more @ ..] = rest {
        h = step(step(h, *a), *b);
        rest = more;
    }
    if let [a] = rest {
        h = step(h, *a);
    }
    h
}

/// The hash of two byte strings that starts the action keys of an event or a due item
/// (see [`ActionKey`](crate::ActionKey)): their lengths as one word, `len(a) << 32 |
/// len(b)`, times [`WORD_SEED`], then `a` and `b` folded in eight bytes at a time
/// ([`fold_words`]), then [`mix`]. Part of action keys: it must not change between
/// releases.
#[inline]
pub(crate) fn pair(a: &[u8], b: &[u8]) -> u64 {
    let lens = ((a.len() as u64) << 32) | b.len() as u64;
    mix(fold_words(fold_words(lens.wrapping_mul(WORD_SEED), a), b))
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

    proptest::proptest! {
        /// The hash is FNV-1a of the parts' bytes, a zero byte after each.
        #[test]
        fn hashes_are_fnv1a_of_the_parts_each_ended_by_zero(
            parts in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 0..4)
        ) {
            let mut h = FNV_OFFSET;
            for b in parts.iter().flat_map(|p| p.iter().copied().chain([0])) {
                h ^= u64::from(b);
                h = h.wrapping_mul(FNV_PRIME);
            }
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            proptest::prop_assert_eq!(fnv1a(&parts), h);
        }

        /// `pair` is the word hash `ActionKey` documents: the lengths, then each part's
        /// 8-byte little-endian words, the last padded with zero bytes (a whole zero word
        /// when the length is a multiple of 8), then `mix`.
        #[test]
        fn pair_is_the_documented_word_hash(
            a in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
        ) {
            let k = 0x517c_c1b7_2722_0a95_u64;
            let mut h = (((a.len() as u64) << 32) | b.len() as u64).wrapping_mul(k);
            for part in [&a, &b] {
                let words = part.len() / 8 + 1;
                for i in 0..words {
                    let mut word = [0u8; 8];
                    for (j, byte) in word.iter_mut().enumerate() {
                        *byte = part.get(8 * i + j).copied().unwrap_or(0);
                    }
                    h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(k);
                }
            }
            proptest::prop_assert_eq!(pair(&a, &b), mix(h));
        }
    }
}
