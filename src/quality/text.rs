//! Text normalization primitives: white space, full-width characters, phone numbers,
//! e-mail addresses and the key form duplicates are matched in.
//!
//! Each function returns the input borrowed when it is already normal, so normalizing
//! clean data allocates nothing here, and each is idempotent: `f(f(x)) == f(x)`.

use std::borrow::Cow;

/// Characters that are invisible and never meant: zero-width space, joiners, word joiner,
/// byte order mark. Spreadsheets and web forms let them in through copy and paste.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// A full-width digit or Latin letter as its ASCII form (`１` → `1`, `Ａ` → `A`).
fn fold_alnum(c: char) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// Any full-width ASCII character as its ASCII form (`＋` → `+`, `＠` → `@`), and the
/// ideographic space as a space.
pub(crate) fn fold_ascii(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Whether a character changes in [`text`]: white space other than a single space,
/// invisible characters and full-width digits and letters.
fn is_special(c: char) -> bool {
    c.is_whitespace() || is_invisible(c) || fold_alnum(c) != c
}

/// The bytes [`is_normal_text`] must look at: ASCII white space and the
/// UTF-8 lead bytes of every non-ASCII character [`is_special`] cares about: `C2`
/// (U+0085, U+00A0), `E1` (U+1680), `E2` (U+2000–U+206F), `E3` (U+3000) and `EF`
/// (U+FEFF, U+FF10–U+FF5A). Chinese text (lead bytes `E4`–`E9`) holds none of them.
static INTERESTING: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x09;
    while b <= 0x0D {
        table[b] = true;
        b += 1;
    }
    table[0x20] = true;
    table[0xC2] = true;
    table[0xE1] = true;
    table[0xE2] = true;
    table[0xE3] = true;
    table[0xEF] = true;
    table
};

/// Whether a single-line text is already normal: no white space at the ends, none but
/// single spaces inside, no invisible or full-width alphanumeric characters.
fn is_normal_text(s: &str) -> bool {
    is_normal(s, false)
}

/// Whether a multi-line text is already normal: `\n` line breaks, none at the ends, and
/// each line normal as [`is_normal_text`] says.
fn is_normal_long_text(s: &str) -> bool {
    is_normal(s, true) && !s.starts_with('\n') && !s.ends_with('\n')
}

/// The scan of [`is_normal_text`] and, with `lines`, of [`is_normal_long_text`]: a line
/// break then ends a line, which must not end or start with a space.
///
/// Skips to the next [`INTERESTING`] byte and decodes only there, so ordinary text is
/// passed over at table-lookup speed.
#[inline(always)]
fn is_normal(s: &str, lines: bool) -> bool {
    let b = s.as_bytes();
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut i = 0;
    while let Some(offset) = b[i..].iter().position(|&x| INTERESTING[usize::from(x)]) {
        i += offset;
        match b[i] {
            b' ' => {
                if b.get(i + 1) == Some(&b' ') || (lines && b.get(i + 1) == Some(&b'\n')) {
                    return false;
                }
                i += 1;
            }
            b'\n' if lines => {
                if b.get(i + 1) == Some(&b' ') {
                    return false;
                }
                i += 1;
            }
            0x09..=0x0D => return false,
            _ => {
                // A lead byte always starts a character.
                let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else {
                    return false;
                };
                if is_special(c) {
                    return false;
                }
                i += c.len_utf8();
            }
        }
    }
    true
}

/// As [`str::trim`], but deciding on the end characters alone when neither is white
/// space (the usual case), without the general scan.
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    let untrimmed = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    if untrimmed(s.chars().next()) && untrimmed(s.chars().next_back()) {
        s
    } else {
        s.trim()
    }
}

/// A single-line text: invisible characters removed, full-width digits and letters made
/// ASCII, white space trimmed and each run of it made one space.
pub(crate) fn text(s: &str) -> Cow<'_, str> {
    if is_normal_text(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(fold_alnum(c));
    }
    Cow::Owned(out)
}

/// A multi-line text: line breaks made `\n`, each line normalized as [`text`], blank
/// lines at the start and the end removed (blank lines inside are kept).
pub(crate) fn long_text(s: &str) -> Cow<'_, str> {
    if is_normal_long_text(s) {
        return Cow::Borrowed(s);
    }
    let unified = s.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<Cow<'_, str>> = unified.split('\n').map(text).collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    match (first, last) {
        (Some(a), Some(b)) => Cow::Owned(lines[a..=b].join("\n")),
        _ => Cow::Owned(String::new()),
    }
}

/// Whether a character is a separator people write inside phone numbers.
fn is_phone_separator(c: char) -> bool {
    c.is_whitespace()
        || is_invisible(c)
        || matches!(
            c,
            '-' | '(' | ')' | '.' | '\u{2010}'..='\u{2015}' | '\u{2212}'
        )
}

/// A phone number in canonical form: full-width characters made ASCII, spaces, dashes,
/// dots and parentheses removed, and the country code of mainland China (`+86`, `0086`,
/// or `86` before a number of `digits` digits) removed.
pub(crate) fn phone(s: &str, digits: u8) -> Cow<'_, str> {
    let digits = usize::from(digits);
    let has_prefix = |p: &str| {
        p.starts_with("+86")
            || p.starts_with("0086")
            || (p.len() == digits + 2 && p.starts_with("86"))
    };
    if s.bytes().all(|b| b.is_ascii_digit()) && !has_prefix(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        // Nothing to fold, and the separators are single bytes: no decoding.
        for b in s.bytes() {
            if !matches!(b, b' ' | 0x09..=0x0D | b'-' | b'(' | b')' | b'.') {
                out.push(char::from(b));
            }
        }
    } else {
        out.extend(
            s.chars()
                .map(fold_ascii)
                .filter(|c| !is_phone_separator(*c)),
        );
    }
    // Strip until no prefix is left, so that normalizing again changes nothing.
    loop {
        let cut = if out.starts_with("+86") {
            3
        } else if out.starts_with("0086") {
            4
        } else if out.len() == digits + 2
            && out.starts_with("86")
            && out.bytes().all(|b| b.is_ascii_digit())
        {
            2
        } else {
            break;
        };
        out.drain(..cut);
    }
    Cow::Owned(out)
}

/// An e-mail address: full-width characters made ASCII, invisible characters removed,
/// trimmed, ASCII letters lower-cased.
pub(crate) fn email(s: &str) -> Cow<'_, str> {
    let normal = s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) && trim(s) == s;
    if normal {
        return Cow::Borrowed(s);
    }
    let folded: String = s
        .chars()
        .map(fold_ascii)
        .filter(|c| !is_invisible(*c))
        .collect();
    Cow::Owned(folded.trim().to_ascii_lowercase())
}

/// The key form of a text, in which duplicates are compared: every full-width ASCII
/// character made ASCII, white space, invisible and control characters removed, ASCII
/// letters lower-cased (`华为 技术（深圳）` and `华为技术(深圳)` share a key).
pub(crate) fn key_text(s: &str) -> Cow<'_, str> {
    let normal = s.chars().all(|c| {
        !c.is_whitespace()
            && !c.is_control()
            && !is_invisible(c)
            && !c.is_ascii_uppercase()
            && fold_ascii(c) == c
    });
    if normal {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(fold_ascii)
            .filter(|c| !c.is_whitespace() && !c.is_control() && !is_invisible(*c))
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    )
}

/// Splits a cell holding several values: `,`, `，`, `、`, `;`, `；`, `|` and line breaks.
pub(crate) fn split_items(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', '，', '、', ';', '；', '|', '\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(text("  华为　 技术\t有限公司 "), "华为 技术 有限公司");
        assert_eq!(text("ＡＢＣ１２３"), "ABC123");
        assert_eq!(text("（深圳）"), "（深圳）");
        assert_eq!(text("a\u{200B}b"), "ab");
        assert!(matches!(text("华为技术"), Cow::Borrowed(_)));
        assert_eq!(text("   "), "");
    }

    #[test]
    fn the_byte_scan_agrees_with_the_definition() {
        fn naive(s: &str) -> bool {
            s.trim_matches(' ') == s
                && !s.contains("  ")
                && s.chars().all(|c| c == ' ' || !is_special(c))
        }
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            for s in [format!("a{c}b"), format!("{c} 客户"), format!("客户 {c}")] {
                assert_eq!(is_normal_text(&s), naive(&s), "{:?}", s);
            }
        }
    }

    #[test]
    fn the_long_text_scan_agrees_with_the_definition() {
        fn naive(s: &str) -> bool {
            !s.contains('\r')
                && s.split('\n').all(is_normal_text)
                && !s.starts_with('\n')
                && !s.ends_with('\n')
        }
        let parts = [
            "a", " ", "  ", "\n", "\r", "\t", "客", "　", "１", "\u{200B}", "，",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| parts.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
        }
        for s in &texts {
            assert_eq!(is_normal_long_text(s), naive(s), "{:?}", s);
        }
    }

    #[test]
    fn the_quick_trim_agrees_with_trim() {
        let ends = [
            "", "a", " ", "\t", "\u{3000}", "\u{85}", "\u{A0}", "客", "１", "\u{200B}",
        ];
        for a in ends {
            for b in ends {
                for c in ends {
                    let s = format!("{a}{b}{c}");
                    assert_eq!(trim(&s), s.trim(), "{s:?}");
                }
            }
        }
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            for s in [
                format!("{c}"),
                format!("x{c}"),
                format!("{c}x"),
                format!("{c}x{c}"),
            ] {
                assert_eq!(trim(&s), s.trim(), "{s:?}");
            }
        }
    }

    #[test]
    fn the_ascii_phone_separators_are_the_separators_of_ascii() {
        for b in 0..0x80u8 {
            let c = char::from(b);
            let quick = matches!(b, b' ' | 0x09..=0x0D | b'-' | b'(' | b')' | b'.');
            assert_eq!(quick, is_phone_separator(fold_ascii(c)), "{c:?}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+86 138-1234-5678", 11), "13812345678");
        assert_eq!(phone("１３８ １２３４ ５６７８", 11), "13812345678");
        assert_eq!(phone("008613812345678", 11), "13812345678");
        assert_eq!(phone("8613812345678", 11), "13812345678");
        assert_eq!(phone("(+86) 86 13812345678", 11), "13812345678");
        assert_eq!(phone("+1 415 555 0100", 11), "+14155550100");
        assert!(matches!(phone("13812345678", 11), Cow::Borrowed(_)));
    }

    #[test]
    fn e_mails_and_keys() {
        assert_eq!(email(" Li.Wei@Example.COM "), "li.wei@example.com");
        assert_eq!(email("ｌｉ＠ｑｑ．ｃｏｍ"), "li@qq.com");
        assert_eq!(key_text("华为 技术（深圳）"), "华为技术(深圳)");
        assert_eq!(key_text("HuaWei"), "huawei");
    }

    #[test]
    fn long_texts() {
        assert_eq!(
            long_text("\r\n 第一行  a \r\n\r\n第二行\n\n"),
            "第一行 a\n\n第二行"
        );
        assert!(matches!(long_text("a\nb"), Cow::Borrowed(_)));
    }
}
