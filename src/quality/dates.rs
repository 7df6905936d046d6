//! The date and date-time forms an import accepts: `2024-03-15`, `2024/3/15`,
//! `2024.3.15`, `2024年3月15日`, with an optional time `10:30` or `10:30:00` and offset.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::text::{fold_ascii, trim};
use crate::schema::parse_date_time;

/// The message for a text that is not a date in an accepted form.
pub(crate) const NOT_A_DATE: &str =
    "is not a date (accepted: 2024-03-15, 2024/3/15, 2024年3月15日)";

/// The message for a text that is not a date-time in an accepted form.
pub(crate) const NOT_A_DATE_TIME: &str = "is not a date-time (accepted: 2024-03-15 10:30, \
     2024/3/15 10:30:00, 2024年3月15日 10:30, 2024-03-15T10:30:00+08:00)";

/// Full-width characters made ASCII and the text trimmed.
fn folded(s: &str) -> Cow<'_, str> {
    let s = trim(s);
    // Only full-width forms (UTF-8 lead byte EF) and the ideographic space (E3) fold.
    let foldable = |b: &u8| *b == 0xEF || *b == 0xE3;
    if s.is_ascii() || !s.as_bytes().iter().any(foldable) || s.chars().all(|c| fold_ascii(c) == c) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(fold_ascii)
                .collect::<String>()
                .trim()
                .to_owned(),
        )
    }
}

/// Reads 1 to `max` ASCII digits (at least `min`) at `*at`.
fn digits(b: &[u8], at: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *at;
    let mut value = 0u32;
    while *at < b.len() && *at - start < max && b[*at].is_ascii_digit() {
        value = value * 10 + u32::from(b[*at] - b'0');
        *at += 1;
    }
    (*at - start >= min).then_some(value)
}

/// Whether `s[*at..]` starts with `prefix`; advances past it when it does.
fn eat(s: &str, at: &mut usize, prefix: &str) -> bool {
    if s[*at..].starts_with(prefix) {
        *at += prefix.len();
        true
    } else {
        false
    }
}

/// A date at the start of `s` and the byte offset after it.
fn date_prefix(s: &str) -> Option<(NaiveDate, usize)> {
    let b = s.as_bytes();
    // The common form, `2024-03-15` (or with `/`, `.`), read at fixed places; every other
    // form (one-digit months and days, `年`) as written below. Both agree (a test holds
    // them together).
    if let Some(&[y0, y1, y2, y3, s1, m0, m1, s2, d0, d1]) = b.get(..10) {
        let digit = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
        if matches!(s1, b'-' | b'/' | b'.') && s2 == s1 {
            if let (
                Some(y0),
                Some(y1),
                Some(y2),
                Some(y3),
                Some(m0),
                Some(m1),
                Some(d0),
                Some(d1),
            ) = (
                digit(y0),
                digit(y1),
                digit(y2),
                digit(y3),
                digit(m0),
                digit(m1),
                digit(d0),
                digit(d1),
            ) {
                let year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
                let date =
                    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, m0 * 10 + m1, d0 * 10 + d1)?;
                return Some((date, 10));
            }
        }
    }
    date_prefix_as_written(s)
}

/// [`date_prefix`] in every accepted form, as the forms are written.
fn date_prefix_as_written(s: &str) -> Option<(NaiveDate, usize)> {
    let b = s.as_bytes();
    let mut at = 0;
    let year = digits(b, &mut at, 4, 4)?;
    let chinese = eat(s, &mut at, "年");
    let separator = if chinese {
        None
    } else {
        let c = *b.get(at).filter(|c| matches!(c, b'-' | b'/' | b'.'))?;
        at += 1;
        Some(c)
    };
    let month = digits(b, &mut at, 1, 2)?;
    match separator {
        None if eat(s, &mut at, "月") => {}
        Some(c) if b.get(at) == Some(&c) => at += 1,
        _ => return None,
    }
    let day = digits(b, &mut at, 1, 2)?;
    if chinese && !eat(s, &mut at, "日") {
        eat(s, &mut at, "号");
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some((date, at))
}

/// A date in one of the accepted forms, the whole text.
pub(crate) fn date(s: &str) -> Option<NaiveDate> {
    let s = folded(s);
    match date_prefix(&s)? {
        (date, end) if end == s.len() => Some(date),
        _ => None,
    }
}

/// An offset at `s[at..]`: `Z`, `+08:00`, `+0800` or `+08`.
fn offset(s: &str, mut at: usize) -> Option<(FixedOffset, usize)> {
    let b = s.as_bytes();
    match b.get(at)? {
        b'Z' | b'z' => return Some((FixedOffset::east_opt(0)?, at + 1)),
        b'+' | b'-' => {}
        _ => return None,
    }
    let sign = if b[at] == b'-' { -1 } else { 1 };
    at += 1;
    let hours = digits(b, &mut at, 2, 2)?;
    let minutes = if eat(s, &mut at, ":") {
        digits(b, &mut at, 2, 2)?
    } else {
        digits(b, &mut at, 0, 2)?
    };
    let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some((FixedOffset::east_opt(sign * seconds)?, at))
}

/// A date-time in one of the accepted forms: RFC 3339, or a date optionally followed by
/// a time (`10:30`, `10:30:00`) and an offset; without an offset the time is read in
/// `zone`, without a time it is the start of the day. The error is the message.
pub(crate) fn date_time(s: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    local_date_time(s, zone).or_else(|e| {
        // RFC 3339 forms the reader above does not take: fractions of a second.
        parse_date_time(s.trim()).ok_or(e)
    })
}

fn local_date_time(s: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let s = folded(s);
    let (date, mut at) = date_prefix(&s).ok_or(NOT_A_DATE_TIME)?;
    let b = s.as_bytes();
    let mut time = NaiveTime::MIN;
    if at < b.len() {
        if b[at] == b'T' || b[at] == b't' {
            at += 1;
        } else if b[at] == b' ' {
            while b.get(at) == Some(&b' ') {
                at += 1;
            }
        } else {
            return Err(NOT_A_DATE_TIME.into());
        }
        let hour = digits(b, &mut at, 1, 2).ok_or(NOT_A_DATE_TIME)?;
        if !eat(&s, &mut at, ":") {
            return Err(NOT_A_DATE_TIME.into());
        }
        let minute = digits(b, &mut at, 2, 2).ok_or(NOT_A_DATE_TIME)?;
        let second = if eat(&s, &mut at, ":") {
            digits(b, &mut at, 2, 2).ok_or(NOT_A_DATE_TIME)?
        } else {
            0
        };
        time = NaiveTime::from_hms_opt(hour, minute, second).ok_or(NOT_A_DATE_TIME)?;
    }
    let local = date.and_time(time);
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    if at < b.len() {
        let (fixed, end) = offset(&s, at).ok_or(NOT_A_DATE_TIME)?;
        if end != b.len() {
            return Err(NOT_A_DATE_TIME.into());
        }
        return match fixed.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            _ => Err(NOT_A_DATE_TIME.into()),
        };
    }
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earliest, _) => Ok(earliest.with_timezone(&Utc)),
        LocalResult::None => Err(format!(
            "does not exist in {} (the clocks skip it)",
            zone.name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_in_every_form() {
        for s in [
            "2024-03-15",
            "2024/3/15",
            "2024.03.15",
            "2024年3月15日",
            "2024年03月15号",
            "２０２４－０３－１５",
            " 2024-3-15 ",
        ] {
            assert_eq!(date(s), Some(d(2024, 3, 15)), "{s}");
        }
        for s in [
            "2024-02-30",
            "2024-3/15",
            "24-03-15",
            "2024年3月",
            "2024-03-15x",
            "",
        ] {
            assert_eq!(date(s), None, "{s}");
        }
    }

    #[test]
    fn the_common_form_is_read_as_every_form_is() {
        let parts = [
            "2024", "0", "1", "2", "3", "9", "-", "/", ".", "年", "月", "日", " ", ":", "x",
        ];
        let mut texts = vec![String::new()];
        let mut last = texts.clone();
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|t| parts.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        for y in ["2024", "0000", "9999", "2023", "1900", "2000"] {
            for m in ["00", "01", "02", "12", "13", "1", "99"] {
                for d in ["00", "01", "28", "29", "30", "31", "32", "9"] {
                    for (a, b) in [("-", "-"), ("/", "/"), (".", "."), ("-", "/"), ("/", "-")] {
                        for tail in ["", " 10:30", "x", "1"] {
                            texts.push(format!("{y}{a}{m}{b}{d}{tail}"));
                        }
                    }
                }
            }
        }
        for t in &texts {
            assert_eq!(date_prefix(t), date_prefix_as_written(t), "{t:?}");
        }
    }

    #[test]
    fn date_times_in_a_zone() {
        let shanghai: Tz = "Asia/Shanghai".parse().unwrap();
        let t = Utc.with_ymd_and_hms(2024, 3, 15, 2, 30, 0).unwrap();
        for s in [
            "2024-03-15 10:30",
            "2024/3/15 10:30:00",
            "2024年3月15日 10:30",
            "2024-03-15T10:30",
            "2024-03-15T10:30:00+08:00",
            "2024-03-15 02:30Z",
            "2024-03-15 10:30 +0800",
        ] {
            assert_eq!(date_time(s, shanghai), Ok(t), "{s}");
        }
        assert_eq!(
            date_time("2024-03-15", shanghai),
            Ok(Utc.with_ymd_and_hms(2024, 3, 14, 16, 0, 0).unwrap())
        );
        assert!(date_time("2024-03-15 25:00", shanghai).is_err());
        let new_york: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            date_time("2024-03-10 02:30", new_york),
            Err("does not exist in America/New_York (the clocks skip it)".into())
        );
    }
}
