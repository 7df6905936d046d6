//! Instants as whole seconds and nanoseconds since 1970: compared and shifted without
//! calendar arithmetic, for computations that run for every rule of every customer.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

/// How many years [`YEAR_STARTS`] holds: 1970 to 2299.
const YEARS: usize = 330;

/// The day (from 1970-01-01) on which each year from 1970 on starts, in the proleptic
/// Gregorian calendar, and the start of the year after the last: an instant's date is
/// found by arithmetic on its day, without the 400-year cycle chrono's conversion reads.
static YEAR_STARTS: [u32; YEARS + 1] = year_starts();

const fn year_starts() -> [u32; YEARS + 1] {
    let mut out = [0; YEARS + 1];
    let mut i = 1;
    while i <= YEARS {
        let year = 1970 + i as u32 - 1;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        out[i] = out[i - 1] + if leap { 366 } else { 365 };
        i += 1;
    }
    out
}

/// The place in [`YEAR_STARTS`] of the year of a day counted from 1970-01-01 (to 2299),
/// and the day's place in that year (from 0); `None` for other days.
#[inline(always)]
fn year_of(day: u32) -> Option<(usize, u32)> {
    if day >= YEAR_STARTS[YEARS] {
        return None;
    }
    // 400 years have 146,097 days: the estimate is the year or one either side of it.
    let mut y = ((u64::from(day) * 400) / 146_097) as usize;
    y = y.min(YEARS - 1);
    if YEAR_STARTS.get(y + 1).is_some_and(|next| *next <= day) {
        y += 1;
    } else if YEAR_STARTS.get(y).is_some_and(|start| *start > day) {
        y -= 1;
    }
    Some((y, day.checked_sub(*YEAR_STARTS.get(y)?)?))
}

/// The year (1970 to 2299, by [`YEAR_STARTS`]) of a day counted from 1970-01-01, the
/// day's place in it (from 0) and whether the year is a leap year; `None` for other days.
#[inline]
pub(crate) fn year_day(day: i64) -> Option<(i64, u32, bool)> {
    let (y, ordinal0) = year_of(u32::try_from(day).ok()?)?;
    let (start, next) = (*YEAR_STARTS.get(y)?, *YEAR_STARTS.get(y + 1)?);
    Some((1970 + y as i64, ordinal0, next - start == 366))
}

/// The date-time of an instant from 1970 to 2299, by [`YEAR_STARTS`]; `None` for others.
#[inline]
fn recent(secs: i64, nanos: u32) -> Option<DateTime<Utc>> {
    let secs = u64::try_from(secs).ok()?;
    let (day, second) = (secs / 86_400, (secs % 86_400) as u32);
    let (y, ordinal0) = year_of(u32::try_from(day).ok()?)?;
    let date = NaiveDate::from_yo_opt(1970 + y as i32, ordinal0 + 1)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(second, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// The days from 1970-01-01 to a date (negative before), by [`YEAR_STARTS`] for the
/// years it holds (without the 400-year cycles chrono's count reads), as chrono counts
/// them for the others.
#[inline]
pub(crate) fn days_from_epoch(d: NaiveDate) -> i64 {
    let ordinal0 = i64::from(d.ordinal0());
    match usize::try_from(d.year() - 1970)
        .ok()
        .and_then(|y| YEAR_STARTS.get(y).filter(|_| y < YEARS))
    {
        Some(start) => i64::from(*start) + ordinal0,
        None => i64::from(d.num_days_from_ce()) - 719_163,
    }
}

/// An instant: Unix seconds, then nanoseconds (0–999,999,999). Orders as time does; the
/// default is the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Ts {
    secs: i64,
    nanos: u32,
}

impl Ts {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Ts = Ts { secs: 0, nanos: 0 };

    #[inline]
    pub fn new(secs: i64, nanos: u32) -> Ts {
        if nanos < 1_000_000_000 {
            return Ts { secs, nanos };
        }
        // A leap second's nanoseconds (chrono counts them past 999,999,999).
        Ts {
            secs: secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// The instant of a date-time (its Unix time, by [`YEAR_STARTS`] from 1970 to 2299).
    #[inline]
    pub fn of(t: DateTime<Utc>) -> Ts {
        let utc = t.naive_utc();
        let secs = days_from_epoch(utc.date()) * 86_400
            + i64::from(utc.time().num_seconds_from_midnight());
        Ts::new(secs, t.timestamp_subsec_nanos())
    }

    pub fn secs(self) -> i64 {
        self.secs
    }

    /// `self <= other`, decided by the seconds alone unless they are equal: the cheap
    /// test for the due-time comparisons that run for every rule of every customer.
    #[inline(always)]
    pub fn not_after(self, other: Ts) -> bool {
        self.secs <= other.secs && self <= other
    }

    pub fn nanos(self) -> u32 {
        self.nanos
    }

    /// The earliest instant chrono can represent.
    pub const MIN: Ts = Ts {
        secs: DateTime::<Utc>::MIN_UTC.timestamp(),
        nanos: 0,
    };

    /// The latest instant chrono can represent.
    pub const MAX: Ts = Ts {
        secs: DateTime::<Utc>::MAX_UTC.timestamp(),
        nanos: 999_999_999,
    };

    /// Whether the instant lies in the range chrono can represent (whether
    /// [`Ts::to_date_time`] gives one), without building a `DateTime`.
    #[inline]
    pub fn representable(self) -> bool {
        Ts::MIN <= self && self <= Ts::MAX
    }

    /// The same instant as a `DateTime`; `None` outside the range chrono can represent.
    #[inline]
    pub fn to_date_time(self) -> Option<DateTime<Utc>> {
        match recent(self.secs, self.nanos) {
            Some(t) => Some(t),
            None => DateTime::from_timestamp(self.secs, self.nanos),
        }
    }

    /// `secs` seconds later (earlier when negative), saturating.
    pub fn plus(self, secs: i64) -> Ts {
        Ts {
            secs: self.secs.saturating_add(secs),
            nanos: self.nanos,
        }
    }

    /// The instant a nanosecond before, to make an inclusive bound exclusive.
    pub fn just_before(self) -> Ts {
        match self.nanos {
            0 => Ts {
                secs: self.secs.saturating_sub(1),
                nanos: 999_999_999,
            },
            n => Ts {
                secs: self.secs,
                nanos: n - 1,
            },
        }
    }
}

impl From<DateTime<Utc>> for Ts {
    fn from(t: DateTime<Utc>) -> Ts {
        Ts::of(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn converts_compares_and_shifts() {
        let t = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
        let ts = Ts::of(t);
        assert_eq!(ts.to_date_time(), Some(t));
        assert_eq!(
            ts.plus(86_400).to_date_time(),
            Some(t + chrono::TimeDelta::days(1))
        );
        assert!(ts.just_before() < ts);
        assert_eq!(
            ts.just_before().to_date_time(),
            t.checked_sub_signed(chrono::TimeDelta::nanoseconds(1))
        );
        let with_nanos = t + chrono::TimeDelta::nanoseconds(5);
        assert!(Ts::of(with_nanos) > ts);
        assert_eq!(Ts::of(with_nanos).just_before(), Ts::new(ts.secs(), 4));
        assert_eq!(
            Ts::of(DateTime::<Utc>::MIN_UTC)
                .just_before()
                .to_date_time(),
            None
        );
        assert_eq!(Ts::new(0, 1_500_000_000), Ts::new(1, 500_000_000));
        assert_eq!(Ts::of(DateTime::<Utc>::MIN_UTC), Ts::MIN);
        assert_eq!(Ts::of(DateTime::<Utc>::MAX_UTC), Ts::MAX);
        for t in [
            Ts::MIN,
            Ts::MAX,
            ts,
            Ts::EPOCH,
            Ts::MIN.just_before(),
            Ts::MAX.plus(1),
        ] {
            assert_eq!(t.representable(), t.to_date_time().is_some(), "{t:?}");
        }
        assert!(!Ts::new(i64::MAX, 0).representable());
        assert_eq!(Ts::EPOCH.to_date_time(), Some(DateTime::UNIX_EPOCH));
    }

    #[test]
    fn year_starts_are_chronos() {
        for (i, start) in YEAR_STARTS.iter().enumerate() {
            let d = chrono::NaiveDate::from_ymd_opt(1970 + i as i32, 1, 1).unwrap();
            assert_eq!(
                i64::from(*start),
                (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()
            );
        }
        // Every day of the table's years, a day either side of its ends, at the start
        // and the end of the day.
        let end = YEAR_STARTS[YEARS] as i64 + 1;
        for day in -1..=end {
            for secs in [day * 86_400, day * 86_400 + 86_399] {
                for nanos in [0, 999_999_999] {
                    let t = Ts::new(secs, nanos);
                    assert_eq!(
                        t.to_date_time(),
                        DateTime::from_timestamp(secs, nanos),
                        "{secs}"
                    );
                }
            }
        }
    }

    #[test]
    fn year_days_are_chronos() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for day in -2..=i64::from(YEAR_STARTS[YEARS]) + 2 {
            let want = epoch
                .checked_add_signed(chrono::TimeDelta::days(day))
                .filter(|d| (1970..2300).contains(&d.year()))
                .map(|d| (i64::from(d.year()), d.ordinal0(), d.leap_year()));
            assert_eq!(year_day(day), want, "{day}");
        }
    }

    proptest::proptest! {
        /// [`Ts::of`] is chrono's Unix time, and [`days_from_epoch`] its day count, over
        /// chrono's range and the table's years (leap seconds included).
        #[test]
        fn instants_of_date_times_are_chronos(
            secs in proptest::prop_oneof![
                Ts::MIN.secs()..=Ts::MAX.secs(),
                -100_000i64..10_500_000_000,
            ],
            nanos in proptest::prop_oneof![0u32..1_000_000_000, 1_000_000_000u32..2_000_000_000],
        ) {
            let Some(t) = DateTime::from_timestamp(secs, nanos % 1_000_000_000) else {
                return Ok(());
            };
            // A leap second: chrono's nanoseconds past 999,999,999 on a day's last second.
            let t = match nanos >= 1_000_000_000 && secs.rem_euclid(86_400) == 86_399 {
                true => t
                    .date_naive()
                    .and_time(NaiveTime::from_hms_nano_opt(23, 59, 59, nanos).unwrap())
                    .and_utc(),
                false => t,
            };
            proptest::prop_assert_eq!(Ts::of(t), Ts::new(t.timestamp(), t.timestamp_subsec_nanos()));
            let d = t.date_naive();
            proptest::prop_assert_eq!(
                days_from_epoch(d),
                i64::from(d.num_days_from_ce()) - 719_163
            );
        }

        /// [`Ts::to_date_time`] is chrono's `from_timestamp`, over and past chrono's range.
        #[test]
        fn date_times_are_chronos(
            secs in proptest::prop_oneof![
                proptest::num::i64::ANY,
                Ts::MIN.secs() - 10..Ts::MAX.secs() + 10,
                -100_000i64..10_500_000_000,
            ],
            nanos in 0u32..1_000_000_000,
        ) {
            proptest::prop_assert_eq!(
                Ts::new(secs, nanos).to_date_time(),
                DateTime::from_timestamp(secs, nanos)
            );
        }
    }
}
