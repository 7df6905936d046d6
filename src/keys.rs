//! Keys: 128-bit summaries of values that a [`Record`](crate::Record) keeps next to
//! them, so that conditions decide most comparisons by comparing two numbers, without
//! reading the value. A short text (up to 15 bytes: most choice values and tags) and an
//! integer are held exactly, so equal keys mean equal values; a longer text is held by
//! its hash, so only unequal keys decide. And the text equality conditions use when a
//! key does not decide.

/// A value's key: the kind in the top byte of `hi`, the value or its summary in the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Key {
    pub lo: u64,
    pub hi: u64,
}

/// The top byte of a key's `hi` word, by kind. A short text's is `SHORT | length`.
const SHORT: u8 = 0x10;
const LONG: u8 = 0x20;
const INT: u8 = 0x30;
const DECIMAL: u8 = 0x40;
const LIST: u8 = 0x50;

impl Key {
    /// The key of a value no comparison reads by key (absent, boolean, dates).
    pub const NONE: Key = Key { lo: 0, hi: 0 };

    /// The key of a decimal number: integer comparisons read the value.
    pub const DECIMAL: Key = Key::of(DECIMAL, 0);

    const fn of(kind: u8, lo: u64) -> Key {
        Key {
            lo,
            hi: (kind as u64) << 56,
        }
    }

    /// A text's key: the text itself when it has at most 15 bytes, else its hash.
    #[inline]
    pub fn text(s: &str) -> Key {
        let b = s.as_bytes();
        let n = b.len();
        if n > 15 {
            return Key::of(LONG, text_hash(s));
        }
        let mut buf = [0u8; 16];
        buf[..n].copy_from_slice(b);
        buf[15] = SHORT | n as u8;
        let (lo, hi) = buf.split_at(8);
        Key {
            lo: le_word(lo),
            hi: le_word(hi),
        }
    }

    /// An integer's key: the integer.
    #[inline]
    pub const fn int(i: i64) -> Key {
        Key::of(INT, i as u64)
    }

    /// A list's key: the union of its tags' [bits](tag_bit).
    #[inline]
    pub const fn list(bits: u64) -> Key {
        Key::of(LIST, bits)
    }

    fn kind(self) -> u8 {
        (self.hi >> 56) as u8
    }

    /// Whether equal keys mean equal values: a short text or an integer.
    #[inline(always)]
    pub fn is_exact(self) -> bool {
        matches!(self.kind(), 0x10..=0x1f | INT)
    }

    /// The length of the text the key holds whole (a text of at most 15 bytes: its first
    /// eight bytes in `lo`, the rest in the low bytes of `hi`, little-endian); `None` for
    /// any other key.
    #[inline(always)]
    pub fn short_len(self) -> Option<u64> {
        let kind = self.kind();
        (kind & 0xf0 == SHORT).then_some(u64::from(kind & 0x0f))
    }

    /// The integer, for an integer's key.
    #[inline(always)]
    pub fn as_int(self) -> Option<i64> {
        (self.kind() == INT).then_some(self.lo as i64)
    }

    /// Whether this is a decimal number's key (whose value integer comparisons read).
    #[inline(always)]
    pub fn is_decimal(self) -> bool {
        self.kind() == DECIMAL
    }

    /// A list's tag bits; none for any other value.
    #[inline(always)]
    pub fn tags(self) -> u64 {
        if self.kind() == LIST {
            self.lo
        } else {
            0
        }
    }

    /// One of 64 bits for a text's key. An `in` list keeps the union of its members'
    /// bits: a text whose bit is clear is not in it.
    #[inline(always)]
    pub fn bit(self) -> u64 {
        1 << ((self.lo ^ self.hi).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
    }
}

fn le_word(b: &[u8]) -> u64 {
    <[u8; 8]>::try_from(b).map_or(0, u64::from_le_bytes)
}

/// The multiplier of the word hashes: [`text_hash`] and the event part of action keys
/// ([`crate::engine::hash::pair`]).
pub(crate) const WORD_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// A text's hash, never 0: equal texts have equal hashes. Its length times
/// [`WORD_SEED`], its bytes folded in ([`fold_words`]), then the bits spread.
pub(crate) fn text_hash(s: &str) -> u64 {
    let bytes = s.as_bytes();
    let h = fold_words((bytes.len() as u64).wrapping_mul(WORD_SEED), bytes);
    crate::engine::hash::mix(h) | 1
}

/// Folds bytes into `h` eight at a time: each 8-byte little-endian word, then one more
/// of the 0 to 7 bytes left ([`tail`]), each as `h = (rotl(h, 5) ^ word) * WORD_SEED`.
#[inline(always)]
pub(crate) fn fold_words(mut h: u64, bytes: &[u8]) -> u64 {
    let step = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(WORD_SEED);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = step(h, load8(c, 0));
    }
    step(h, tail(chunks.remainder()))
}

/// The last 0 to 7 bytes of a text as one little-endian word, zero-padded, in at most
/// two loads (which overlap for 5 to 7 bytes: their common bytes land on the same bits).
#[inline(always)]
pub(crate) fn tail(r: &[u8]) -> u64 {
    let m = r.len();
    match m {
        0 => 0,
        1..=3 => {
            u64::from(r[0])
                | u64::from(r[m / 2]) << (8 * (m / 2))
                | u64::from(r[m - 1]) << (8 * (m - 1))
        }
        _ => u64::from(load4(r, 0)) | u64::from(load4(r, m - 4)) << (8 * (m - 4)),
    }
}

/// The bit a tag sets in the key of a list of tags: one of 64, from the top bits of
/// its hash. A list whose key lacks it does not hold the tag.
#[inline]
pub(crate) fn tag_bit(tag: &str) -> u64 {
    1 << (text_hash(tag) >> 58)
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
            assert_ne!(text_hash(a), 0);
            assert_eq!(tag_bit(a).count_ones(), 1);
            let copy: String = a.chars().collect();
            assert_eq!(Key::text(a), Key::text(&copy));
            assert_eq!(Key::text(a).bit().count_ones(), 1);
            for b in TEXTS {
                if a != b {
                    assert_ne!(text_hash(a), text_hash(b), "{a} {b}");
                    assert_ne!(Key::text(a), Key::text(b), "{a} {b}");
                }
            }
        }
    }

    #[test]
    fn short_texts_and_integers_are_held_exactly() {
        // Up to 15 bytes a text is its key: equal keys are equal texts, whatever the bytes.
        let short = [
            "",
            "\0",
            "a",
            "a\0",
            "商务谈判",
            "abcdefghijklmno",
            "新客户新客",
        ];
        for t in short {
            assert!(Key::text(t).is_exact(), "{t:?}");
            assert_eq!(Key::text(t).as_int(), None);
            assert_eq!(Key::text(t).tags(), 0);
        }
        for long in ["abcdefghijklmnop", "新客户新客户"] {
            assert!(!Key::text(long).is_exact(), "{long:?}");
        }
        for i in [i64::MIN, -1, 0, 1, i64::MAX] {
            assert!(Key::int(i).is_exact());
            assert_eq!(Key::int(i).as_int(), Some(i));
            assert!(!Key::int(i).is_decimal());
        }
        // Kinds never share keys: an integer is no text, a list no integer.
        assert_ne!(Key::int(0), Key::text(""));
        assert_ne!(Key::int(0), Key::NONE);
        assert_ne!(Key::list(0), Key::NONE);
        assert_eq!(Key::list(0b101).tags(), 0b101);
        assert_eq!(Key::int(0b101).tags(), 0);
        assert!(Key::DECIMAL.is_decimal() && !Key::DECIMAL.is_exact());
        assert!(!Key::NONE.is_exact() && Key::NONE.as_int().is_none());
    }

    proptest::proptest! {
        /// Equal texts have equal keys, and equal exact keys are equal texts.
        #[test]
        fn exact_keys_are_equality(a in "[ab\\x00商]{0,6}", b in "[ab\\x00商]{0,6}") {
            let (ka, kb) = (Key::text(&a), Key::text(&b));
            if a == b {
                proptest::prop_assert_eq!(ka, kb);
            }
            proptest::prop_assert_eq!(ka.is_exact(), a.len() <= 15);
            if ka == kb && ka.is_exact() {
                proptest::prop_assert_eq!(a, b);
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
