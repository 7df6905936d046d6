//! Short byte strings read eight bytes at a time: the choice values, tags and names that
//! conditions compare and due-time computations hash, where a call to `memcmp` or a
//! byte-by-byte loop costs more than the work.

/// Up to eight bytes as a little-endian word, padded with zeros.
#[inline]
pub(crate) fn word(chunk: &[u8]) -> u64 {
    match <[u8; 8]>::try_from(chunk) {
        Ok(w) => u64::from_le_bytes(w),
        Err(_) => chunk
            .iter()
            .enumerate()
            .fold(0, |w, (i, b)| w | (u64::from(*b) << (8 * i))),
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
    }
}
