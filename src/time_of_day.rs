//! Local times of day as rule files write them: `09:00`, `18:30`.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A wall-clock time of day, `HH:MM` from `00:00` to `23:59`, read in the rule's time zone.
///
/// ```
/// use crm_rules::TimeOfDay;
/// let t: TimeOfDay = "09:30".parse()?;
/// assert_eq!((t.hour(), t.minute()), (9, 30));
/// assert!("24:00".parse::<TimeOfDay>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    /// The time `hour:minute`; `None` outside `00:00`–`23:59`.
    pub fn new(hour: u32, minute: u32) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then(|| TimeOfDay {
            minutes: (hour * 60 + minute) as u16,
        })
    }

    /// The hour, 0–23.
    pub fn hour(self) -> u32 {
        u32::from(self.minutes / 60)
    }

    /// The minute, 0–59.
    pub fn minute(self) -> u32 {
        u32::from(self.minutes % 60)
    }

    /// Seconds from midnight (`hour * 3600 + minute * 60`).
    #[inline]
    pub(crate) fn seconds(self) -> u32 {
        u32::from(self.minutes) * 60
    }

    /// The same time as a `chrono::NaiveTime`.
    pub fn to_naive(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour(), self.minute(), 0).unwrap_or(NaiveTime::MIN)
    }

    /// The time of day of a `chrono::NaiveTime`, seconds dropped.
    pub fn from_naive(t: NaiveTime) -> TimeOfDay {
        TimeOfDay {
            minutes: (t.hour() * 60 + t.minute()) as u16,
        }
    }
}

/// Why a time-of-day text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid time of day {0:?}: expected HH:MM from 00:00 to 23:59")]
pub struct ParseTimeOfDayError(String);

impl FromStr for TimeOfDay {
    type Err = ParseTimeOfDayError;

    fn from_str(text: &str) -> Result<TimeOfDay, ParseTimeOfDayError> {
        let fail = || ParseTimeOfDayError(text.chars().take(40).collect());
        let (h, m) = text.split_once(':').ok_or_else(fail)?;
        let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) {
            return Err(fail());
        }
        let hour = h.parse().map_err(|_| fail())?;
        let minute = m.parse().map_err(|_| fail())?;
        TimeOfDay::new(hour, minute).ok_or_else(fail)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TimeOfDay, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in ["00:00", "09:05", "23:59"] {
            let t = text.parse::<TimeOfDay>().unwrap();
            assert_eq!(t.to_string(), text);
            assert_eq!(t.seconds(), t.hour() * 3600 + t.minute() * 60);
        }
        for text in ["9:00", "24:00", "12:60", "12-00", "", "１２:００"] {
            assert!(text.parse::<TimeOfDay>().is_err(), "{text}");
        }
    }
}
