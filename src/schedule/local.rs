//! Local wall-clock times in an IANA time zone, and the daylight-saving rules that turn
//! them into instants.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};

/// The wall-clock time of an instant in a zone; `None` only when it lies past the ends of
/// the range chrono can represent.
pub(crate) fn local(tz: Tz, t: DateTime<Utc>) -> Option<NaiveDateTime> {
    let utc = t.naive_utc();
    utc.checked_add_offset(tz.offset_from_utc_datetime(&utc).fix())
}

/// The instant a wall-clock time stands for in a zone:
/// - a time that occurs once is that instant;
/// - a time that occurs twice (the clocks went back) is the earlier of the two instants;
/// - a time that does not occur (the clocks went forward over it) moves forward to the first
///   instant after the gap: 02:30 on the day New York skips from 02:00 to 03:00 is 03:00 EDT.
///
/// `None` only at the ends of the range chrono can represent.
pub(crate) fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => after_gap(tz, local),
    }
}

/// The first instant after the gap that `local` falls in.
fn after_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let gap = GapInfo::new(&local, &tz)?;
    if let Some(end) = gap.end {
        return Some(end.with_timezone(&Utc));
    }
    // A gap with no known end lies past the last transition the zone data knows; read
    // the time with the offset in force before the gap.
    let (_, before) = gap.begin?;
    let offset = before.fix().local_minus_utc();
    local
        .checked_sub_signed(chrono::TimeDelta::seconds(i64::from(offset)))
        .map(|t| t.and_utc())
}

/// The instant of a local date at a local time, by [`resolve`].
pub(crate) fn on(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    resolve(tz, date.and_time(time))
}

/// A time zone with a fast path for the instants after its last offset change: most
/// zones CRM customers live in keep one offset for decades (Asia/Shanghai since 1991), and
/// reading it needs no table search. Conversions give exactly what [`local`] and
/// [`resolve`] give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Zone {
    tz: Tz,
    /// From this Unix time on (two days after the zone's last offset change), the zone
    /// keeps this offset, in seconds east of UTC.
    fixed: Option<(i64, i32)>,
}

/// 2200-01-01 and 1970-01-01, the span searched for the last offset change.
const SCAN_END: i64 = 7_258_118_400;
const SCAN_START: i64 = 0;
const WEEK: i64 = 7 * 86_400;
const MARGIN: i64 = 2 * 86_400;

impl Zone {
    /// A zone, with its last offset change found by reading the offset week by week back
    /// from 2200 (offset changes last longer than a week: daylight-saving periods last
    /// months, and other changes are permanent).
    pub fn new(tz: Tz) -> Zone {
        let offset = |ts: i64| {
            DateTime::from_timestamp(ts, 0).map(|t| {
                tz.offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc()
            })
        };
        let Some(last) = offset(SCAN_END) else {
            return Zone::from(tz);
        };
        let mut t = SCAN_END;
        while t > SCAN_START {
            let before = t - WEEK;
            if offset(before) != Some(last) {
                break;
            }
            t = before;
        }
        Zone {
            tz,
            fixed: Some((t + MARGIN, last)),
        }
    }

    /// The IANA zone.
    pub fn tz(self) -> Tz {
        self.tz
    }

    /// From which Unix time on the zone keeps one offset, and that offset in seconds.
    pub fn fixed(self) -> Option<(i64, i32)> {
        self.fixed
    }

    /// As [`local`].
    pub fn local(self, t: DateTime<Utc>) -> Option<NaiveDateTime> {
        match self.fixed {
            Some((from, offset)) if t.timestamp() >= from => t
                .naive_utc()
                .checked_add_signed(chrono::TimeDelta::seconds(i64::from(offset))),
            _ => local(self.tz, t),
        }
    }

    /// The local calendar date of an instant.
    pub fn local_date(self, t: DateTime<Utc>) -> Option<NaiveDate> {
        self.local(t).map(|l| l.date())
    }

    /// As [`resolve`].
    pub fn resolve(self, l: NaiveDateTime) -> Option<DateTime<Utc>> {
        if let Some((from, offset)) = self.fixed {
            let t = l.and_utc().timestamp() - i64::from(offset);
            if t >= from {
                return DateTime::from_timestamp(t, l.and_utc().timestamp_subsec_nanos());
            }
        }
        resolve(self.tz, l)
    }

    /// As [`on`].
    pub fn on(self, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        self.resolve(date.and_time(time))
    }
}

impl From<Tz> for Zone {
    /// A zone without the fast path.
    fn from(tz: Tz) -> Zone {
        Zone { tz, fixed: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn naive(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        naive(y, m, d, h, min).and_utc()
    }

    #[test]
    fn an_ordinary_time_is_its_instant() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        assert_eq!(
            resolve(tz, naive(2024, 5, 20, 9, 0)),
            Some(utc(2024, 5, 20, 1, 0))
        );
        assert_eq!(
            local(tz, utc(2024, 5, 20, 1, 0)),
            Some(naive(2024, 5, 20, 9, 0))
        );
    }

    #[test]
    fn a_skipped_time_moves_to_the_first_instant_after_the_gap() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 2024-03-10: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        for minute in [0, 30, 59] {
            assert_eq!(
                resolve(ny, naive(2024, 3, 10, 2, minute)),
                Some(utc(2024, 3, 10, 7, 0))
            );
        }
        assert_eq!(
            resolve(ny, naive(2024, 3, 10, 3, 0)),
            Some(utc(2024, 3, 10, 7, 0))
        );
        assert_eq!(
            resolve(ny, naive(2024, 3, 10, 1, 59)),
            Some(utc(2024, 3, 10, 6, 59))
        );
        // Europe/Berlin 2024-03-31: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            resolve(berlin, naive(2024, 3, 31, 2, 30)),
            Some(utc(2024, 3, 31, 1, 0))
        );
        // Samoa skipped 2011-12-30 entirely: any time that day is midnight of the 31st.
        let apia: Tz = "Pacific/Apia".parse().unwrap();
        let t = resolve(apia, naive(2011, 12, 30, 9, 0)).unwrap();
        assert_eq!(local(apia, t), Some(naive(2011, 12, 31, 0, 0)));
    }

    #[test]
    fn a_repeated_time_is_the_earlier_instant() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 2024-11-03: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
        assert_eq!(
            resolve(ny, naive(2024, 11, 3, 1, 30)),
            Some(utc(2024, 11, 3, 5, 30))
        );
        let t = resolve(ny, naive(2024, 11, 3, 1, 30)).unwrap();
        assert_eq!(t.with_timezone(&ny).offset().to_string(), "EDT");
        assert_eq!(local(ny, t).map(|l| l.hour()), Some(1));
    }

    #[test]
    fn the_fast_path_agrees_with_the_zone_data() {
        let sh = Zone::new("Asia/Shanghai".parse().unwrap());
        // China has kept +08:00 since its last daylight saving time in 1991.
        let (from, offset) = sh.fixed.unwrap();
        assert_eq!(offset, 8 * 3600);
        assert!(from < utc(1992, 1, 1, 0, 0).timestamp(), "{from}");
        assert!(Zone::new(Tz::UTC)
            .fixed
            .is_some_and(|(f, o)| f <= 2 * 86_400 && o == 0));
        for name in [
            "Asia/Shanghai",
            "America/New_York",
            "Europe/Berlin",
            "Pacific/Apia",
            "UTC",
        ] {
            let tz: Tz = name.parse().unwrap();
            let zone = Zone::new(tz);
            let mut t = utc(1985, 1, 1, 0, 30);
            while t < utc(2045, 1, 1, 0, 0) {
                assert_eq!(zone.local(t), local(tz, t), "{name} {t}");
                let l = local(tz, t).unwrap();
                assert_eq!(zone.resolve(l), resolve(tz, l), "{name} {l}");
                t += chrono::TimeDelta::minutes(6_017);
            }
        }
    }

    #[test]
    fn times_at_the_ends_of_the_range_do_not_panic() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let _ = resolve(ny, NaiveDateTime::MIN);
        let _ = resolve(ny, NaiveDateTime::MAX);
        assert_eq!(local(ny, DateTime::<Utc>::MIN_UTC), None);
        assert!(local(Tz::UTC, DateTime::<Utc>::MAX_UTC).is_some());
        let z = Zone::new("Asia/Shanghai".parse().unwrap());
        assert_eq!(z.local(DateTime::<Utc>::MAX_UTC), None);
        let _ = z.resolve(NaiveDateTime::MIN);
        let _ = z.resolve(NaiveDateTime::MAX);
    }
}
