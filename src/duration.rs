//! Durations as rule files write them: `30m`, `24h`, `3d`, `1w`, `1d12h`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative length of time, written as whole numbers with units: `s`, `m` (minutes),
/// `h`, `d` (days of 24 hours) and `w` (weeks), largest first: `90m`, `1d12h`, `2w`.
///
/// The longest duration is 100 years (36,500 days); a longer one is an error, so that
/// adding a duration to any instant the crate handles cannot overflow.
///
/// ```
/// use crm_rules::Duration;
/// let d: Duration = "1d12h".parse()?;
/// assert_eq!(d.as_seconds(), 36 * 3600);
/// assert_eq!(d.to_string(), "1d12h");
/// assert!("3x".parse::<Duration>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    seconds: i64,
}

/// The longest duration the crate accepts, in seconds (100 years of 365 days).
const MAX_SECONDS: i64 = 36_500 * 86_400;

const UNITS: [(char, i64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Duration {
    /// A duration of whole seconds; `None` if negative or longer than 100 years.
    pub fn seconds(seconds: i64) -> Option<Duration> {
        (0..=MAX_SECONDS)
            .contains(&seconds)
            .then_some(Duration { seconds })
    }

    /// A duration of whole minutes; `None` if out of range.
    pub fn minutes(minutes: i64) -> Option<Duration> {
        Duration::seconds(minutes.checked_mul(60)?)
    }

    /// A duration of whole hours; `None` if out of range.
    pub fn hours(hours: i64) -> Option<Duration> {
        Duration::seconds(hours.checked_mul(3_600)?)
    }

    /// A duration of whole days; `None` if out of range.
    pub fn days(days: i64) -> Option<Duration> {
        Duration::seconds(days.checked_mul(86_400)?)
    }

    /// The length in seconds.
    pub fn as_seconds(self) -> i64 {
        self.seconds
    }

    /// The instant this long after `t`, or the latest instant chrono can hold.
    pub(crate) fn after(self, t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        t.checked_add_signed(self.to_chrono())
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    }

    /// The instant this long before `t`, or the earliest instant chrono can hold.
    pub(crate) fn before(self, t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        t.checked_sub_signed(self.to_chrono())
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
    }

    /// The same length as a `chrono::TimeDelta`.
    pub fn to_chrono(self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(self.seconds)
    }
}

/// Why a duration text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: {reason}")]
pub struct ParseDurationError {
    text: String,
    reason: &'static str,
}

impl FromStr for Duration {
    type Err = ParseDurationError;

    fn from_str(text: &str) -> Result<Duration, ParseDurationError> {
        let fail = |reason| ParseDurationError {
            text: text.chars().take(40).collect(),
            reason,
        };
        if text.is_empty() {
            return Err(fail(
                "expected a number followed by w, d, h, m or s, as in 3d",
            ));
        }
        let mut total: i64 = 0;
        let mut number: Option<i64> = None;
        let mut last_unit = usize::MAX;
        for c in text.chars() {
            if let Some(digit) = c.to_digit(10) {
                let n = number.unwrap_or(0);
                number = Some(
                    n.checked_mul(10)
                        .and_then(|n| n.checked_add(i64::from(digit)))
                        .filter(|n| *n <= MAX_SECONDS)
                        .ok_or_else(|| fail("longer than 100 years"))?,
                );
                continue;
            }
            let Some(rank) = UNITS.iter().position(|(u, _)| *u == c) else {
                return Err(fail(
                    "expected a number followed by w, d, h, m or s, as in 3d",
                ));
            };
            let Some(n) = number.take() else {
                return Err(fail("a unit must follow a number, as in 3d"));
            };
            if last_unit != usize::MAX && rank <= last_unit {
                return Err(fail(
                    "units must appear once each, largest first, as in 1d12h",
                ));
            }
            last_unit = rank;
            total = n
                .checked_mul(UNITS[rank].1)
                .and_then(|s| s.checked_add(total))
                .filter(|s| *s <= MAX_SECONDS)
                .ok_or_else(|| fail("longer than 100 years"))?;
        }
        if number.is_some() {
            return Err(fail("a number needs a unit (w, d, h, m or s), as in 3d"));
        }
        Ok(Duration { seconds: total })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.seconds;
        // Weeks are written only when the duration is a whole number of weeks.
        let units: &[(char, i64)] = if rest % 604_800 == 0 {
            &UNITS
        } else {
            &UNITS[1..]
        };
        for (unit, size) in units {
            if rest >= *size {
                write!(f, "{}{}", rest / size, unit)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        for (text, secs, canon) in [
            ("3d", 259_200, "3d"),
            ("1w", 604_800, "1w"),
            ("8d", 691_200, "8d"),
            ("90m", 5_400, "1h30m"),
            ("1d12h", 129_600, "1d12h"),
            ("0m", 0, "0s"),
            ("45s", 45, "45s"),
        ] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.as_seconds(), secs, "{text}");
            assert_eq!(d.to_string(), canon, "{text}");
            assert_eq!(canon.parse::<Duration>().unwrap(), d);
        }
    }

    #[test]
    fn rejects_bad_text() {
        for text in [
            "",
            "3",
            "d",
            "3x",
            "-3d",
            "12h1d",
            "1d1d",
            "36501d",
            "99999999999999999999d",
        ] {
            assert!(text.parse::<Duration>().is_err(), "{text}");
        }
        assert_eq!(
            "3x".parse::<Duration>().unwrap_err().to_string(),
            "invalid duration \"3x\": expected a number followed by w, d, h, m or s, as in 3d"
        );
    }
}
