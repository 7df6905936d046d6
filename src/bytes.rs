//! Short byte strings read eight bytes at a time: the choice values, tags and names that
//! conditions compare and due-time computations hash, where a call to `memcmp` or a
//! byte-by-byte loop costs more than the work.

/// Up to eight bytes as a little-endian word, padded with zeros. Shorter chunks are read
/// as two overlapping halves (the bytes both hold land in the same place), not byte by
/// byte.
#[inline]
pub(crate) fn word(chunk: &[u8]) -> u64 {
    let n = chunk.len();
    if let Ok(w) = <[u8; 8]>::try_from(chunk) {
        return u64::from_le_bytes(w);
    }
    match (chunk.get(..4), chunk.get(n.saturating_sub(4)..)) {
        (Some(lo), Some(hi)) if n > 4 => half(lo) | (half(hi) << (8 * (n - 4))),
        (Some(lo), _) => half(lo),
        _ => match (chunk.first(), chunk.last()) {
            (Some(&a), Some(&b)) => u64::from(a) | (u64::from(b) << (8 * (n - 1))) | mid(chunk),
            _ => 0,
        },
    }
}

/// Four bytes as a little-endian word.
#[inline]
fn half(four: &[u8]) -> u64 {
    <[u8; 4]>::try_from(four).map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

/// The middle byte of a three-byte chunk, in place (0 for shorter ones).
#[inline]
fn mid(chunk: &[u8]) -> u64 {
    match chunk {
        [_, b, _] => u64::from(*b) << 8,
        _ => 0,
    }
}

/// Whether two texts are equal: lengths first, then eight bytes at a time.
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut x).zip(&mut y) {
        if word(p) != word(q) {
            return false;
        }
    }
    word(x.remainder()) == word(y.remainder())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_agrees_with_equality() {
        let texts = [
            "",
            "a",
            "b",
            "ab",
            "abc",
            "login",
            "商务谈判",
            "方案提交",
            "商务谈判x",
            "email_opened",
            "order_placed",
            "abcdefghi",
            "abcdefghj",
            "12345678",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(same(a, b), a == b, "{a} {b}");
            }
        }
    }

    #[test]
    fn words_are_little_endian_and_padded() {
        assert_eq!(word(b"\x01"), 1);
        assert_eq!(word(b"\x01\x02"), 0x0201);
        assert_eq!(word(b"abcdefgh"), u64::from_le_bytes(*b"abcdefgh"));
        assert_eq!(word(b""), 0);
        let bytes = *b"\x01\x82\x03\xf4\x05\x06\x07\x08";
        for n in 0..=8 {
            let mut padded = [0u8; 8];
            padded[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(word(&bytes[..n]), u64::from_le_bytes(padded), "{n}");
        }
    }
}
