//! Keys: 64-bit summaries of texts and tag lists that a [`Record`](crate::Record) keeps
//! next to its values, so that conditions reject most unequal values by comparing two
//! numbers, and read a text only when its key matches. And the text equality they then
//! use.

/// A text's key, never 0: equal texts have equal keys. Eight bytes at a time, multiply
/// and rotate, then the bits spread.
pub(crate) fn text_key(s: &str) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let bytes = s.as_bytes();
    let mut h = (bytes.len() as u64).wrapping_mul(SEED);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ load8(c, 0)).wrapping_mul(SEED);
    }
    h = (h.rotate_left(5) ^ tail(chunks.remainder())).wrapping_mul(SEED);
    crate::engine::hash::mix(h) | 1
}

/// The last 0 to 7 bytes of a text as one word, in at most two loads: every byte is
/// read, so for a given length different tails give different words.
#[inline(always)]
pub(crate) fn tail(r: &[u8]) -> u64 {
    let m = r.len();
    match m {
        0 => 0,
        1..=3 => u64::from(r[0]) | u64::from(r[m / 2]) << 8 | u64::from(r[m - 1]) << 16,
        _ => u64::from(load4(r, 0)) | u64::from(load4(r, m - 4)) << 32,
    }
}

/// One of 64 bits for a key, from its top bits. A list keeps the union of its members'
/// bits: a text whose bit is clear is not in it.
#[inline(always)]
pub(crate) fn key_bit(key: u64) -> u64 {
    1 << (key >> 58)
}

/// The bit a tag sets in the key of a list of tags.
#[inline]
pub(crate) fn tag_bit(tag: &str) -> u64 {
    key_bit(text_key(tag))
}

/// Whether two texts are equal, for the short texts conditions compare (choice values,
/// tags): lengths first, then at most two loads a side up to 16 bytes, without a call.
#[inline(always)]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => load4(a, 0) == load4(b, 0) && load4(a, n - 4) == load4(b, n - 4),
        8..=16 => load8(a, 0) == load8(b, 0) && load8(a, n - 8) == load8(b, n - 8),
        _ => a == b,
    }
}

#[inline(always)]
fn load4(s: &[u8], at: usize) -> u32 {
    s.get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_le_bytes)
}

#[inline(always)]
pub(crate) fn load8(s: &[u8], at: usize) -> u64 {
    s.get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: [&str; 16] = [
        "",
        "a",
        "b",
        "ab",
        "ba",
        "aba",
        "abb",
        "login",
        "logim",
        "商务谈判",
        "商务谈判x",
        "12345678",
        "12345679",
        "123456789",
        "abcdefghijklmnop",
        "abcdefghijklmnopq",
    ];

    #[test]
    fn equal_texts_have_equal_keys_and_these_differ() {
        for a in TEXTS {
            assert_ne!(text_key(a), 0);
            assert_eq!(tag_bit(a).count_ones(), 1);
            for b in TEXTS {
                if a != b {
                    assert_ne!(text_key(a), text_key(b), "{a} {b}");
                }
            }
        }
    }

    #[test]
    fn same_text_agrees_with_equality() {
        let mut texts: Vec<String> = TEXTS.iter().map(|t| t.to_string()).collect();
        // Every length to 20, differing in each position.
        for n in 0..20 {
            let base: String = "x".repeat(n);
            texts.push(base.clone());
            for i in 0..n {
                let mut b = base.clone().into_bytes();
                b[i] = b'y';
                texts.push(String::from_utf8(b).unwrap_or_default());
            }
        }
        for a in &texts {
            for b in &texts {
                assert_eq!(same_text(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }
}
