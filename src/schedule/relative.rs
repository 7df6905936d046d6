//! Times relative to another: "3 days after 创建时间", "60 days before 合同到期日 at
//! 09:00", "1 week after the previous step at 10:00".

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use super::instant::Ts;
use super::local::Zone;
use crate::time_of_day::TimeOfDay;
use crate::value::Value;

/// The wall-clock time a date or date-time value stands for in a zone: a date is its day's
/// start (00:00 local), a date-time its local time. `None` for other values.
pub(crate) fn anchor(v: &Value, zone: Zone) -> Option<NaiveDateTime> {
    match v {
        Value::Date(d) => Some(d.and_time(chrono::NaiveTime::MIN)),
        Value::DateTime(t) => zone.local(*t),
        _ => None,
    }
}

/// `offset` seconds after (negative: before) a wall-clock time, counted on the wall clock
/// (3 days after 10:00 is 10:00 three days later, also across a daylight-saving change),
/// then moved to the local time `at` on the day reached, and resolved to an instant by
/// the zone's daylight-saving rules ([`super::local::resolve`]).
pub(crate) fn shift(
    from: NaiveDateTime,
    offset: i64,
    at: Option<TimeOfDay>,
    zone: Zone,
) -> Option<DateTime<Utc>> {
    let moved = from.checked_add_signed(TimeDelta::try_seconds(offset)?)?;
    let moved = match at {
        Some(at) => moved.date().and_time(at.to_naive()),
        None => moved,
    };
    zone.resolve(moved)
}

/// The due time of a relative trigger for a field's value; `None` when the value is not
/// a date or date-time.
#[inline(always)]
pub(crate) fn due(v: &Value, offset: i64, at: Option<TimeOfDay>, zone: Zone) -> Option<Ts> {
    let start = match v {
        Value::Date(d) => Start::Local(super::instant::days_from_epoch(*d)),
        Value::DateTime(t) => Start::Instant(Ts::of(*t)),
        _ => return None,
    };
    if let Some(found) = fast(start, offset, at, zone) {
        return found;
    }
    due_slowly(v, offset, at, zone)
}

/// [`due`] off the fast path (a zone whose offset changes over the span), out of line.
#[cold]
#[inline(never)]
fn due_slowly(v: &Value, offset: i64, at: Option<TimeOfDay>, zone: Zone) -> Option<Ts> {
    shift(anchor(v, zone)?, offset, at, zone).map(Ts::of)
}

const DAY: i64 = 86_400;

/// Where a relative time counts from.
#[derive(Clone, Copy)]
enum Start {
    /// A local date, as days since 1970-01-01 (its start, 00:00 local).
    Local(i64),
    /// An instant.
    Instant(Ts),
}

/// [`shift`] by arithmetic on seconds, in a zone that keeps one offset over the span;
/// `None` to take the general path.
#[inline(always)]
fn fast(start: Start, offset: i64, at: Option<TimeOfDay>, zone: Zone) -> Option<Option<Ts>> {
    let (from, zone_offset) = zone.fixed()?;
    let zone_offset = i64::from(zone_offset);
    let (local, nanos) = match start {
        Start::Local(day) => (day * DAY, 0),
        Start::Instant(t) if t.secs() >= from => (t.secs() + zone_offset, t.nanos()),
        Start::Instant(_) => return None,
    };
    let moved = local.checked_add(offset)?;
    let (moved, nanos) = match at {
        Some(at) => (day_start(moved) + i64::from(at.seconds()), 0),
        None => (moved, nanos),
    };
    let utc = moved - zone_offset;
    (utc >= from).then(|| Some(Ts::new(utc, nanos)))
}

/// The start of the day of a local time in seconds (by unsigned division after 1970).
#[inline]
fn day_start(local: i64) -> i64 {
    match u64::try_from(local) {
        Ok(l) => (l - l % DAY as u64) as i64,
        Err(_) => local.div_euclid(DAY) * DAY,
    }
}

/// The due time of a sequence step `offset` seconds after `previous` (the previous step's
/// due time, or when the sequence started), at `at` if given.
pub(crate) fn after(
    previous: DateTime<Utc>,
    offset: i64,
    at: Option<TimeOfDay>,
    zone: Zone,
) -> Option<DateTime<Utc>> {
    if let Some(found) = fast(Start::Instant(Ts::of(previous)), offset, at, zone) {
        return found.and_then(Ts::to_date_time);
    }
    shift(zone.local(previous)?, offset, at, zone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::Tz;

    /// [`super::due`] as a `DateTime`.
    fn due(v: &Value, offset: i64, at: Option<TimeOfDay>, zone: Zone) -> Option<DateTime<Utc>> {
        super::due(v, offset, at, zone).and_then(Ts::to_date_time)
    }

    const DAY: i64 = 86_400;

    fn tz(name: &str) -> Zone {
        Zone::new(name.parse().unwrap())
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> Value {
        Value::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn t(text: &str) -> Option<TimeOfDay> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn after_a_date_time() {
        let sh = tz("Asia/Shanghai");
        let created = Value::DateTime(utc(2024, 5, 20, 2, 30)); // 10:30 Shanghai
        assert_eq!(
            due(&created, 3 * DAY, None, sh),
            Some(utc(2024, 5, 23, 2, 30))
        );
        // The 7th day after the first order, at 10:00 local.
        assert_eq!(
            due(&created, 7 * DAY, t("10:00"), sh),
            Some(utc(2024, 5, 27, 2, 0))
        );
        // A late-evening order: the day reached is the local one (23:30 + 7d is the 27th).
        let late = Value::DateTime(utc(2024, 5, 20, 15, 30)); // 23:30 Shanghai
        assert_eq!(
            due(&late, 7 * DAY, t("10:00"), sh),
            Some(utc(2024, 5, 27, 2, 0))
        );
    }

    #[test]
    fn before_a_date_starts_from_its_local_midnight() {
        let sh = tz("Asia/Shanghai");
        let ends = date(2024, 12, 31);
        // 60 days before 2024-12-31 00:00 Shanghai, at 09:00: 2024-11-01 09:00 local.
        assert_eq!(
            due(&ends, -60 * DAY, t("09:00"), sh),
            Some(utc(2024, 11, 1, 1, 0))
        );
        assert_eq!(
            due(&ends, -60 * DAY, None, sh),
            Some(utc(2024, 10, 31, 16, 0))
        );
        assert_eq!(due(&ends, 0, None, sh), Some(utc(2024, 12, 30, 16, 0)));
    }

    #[test]
    fn days_are_calendar_days_across_daylight_saving() {
        let ny = tz("America/New_York");
        // 60 days before 2024-04-15 crosses the March change: still 2024-02-15, 09:00 EST.
        let ends = date(2024, 4, 15);
        assert_eq!(
            due(&ends, -60 * DAY, t("09:00"), ny),
            Some(utc(2024, 2, 15, 14, 0))
        );
        // 3 days after 10:00 EST on 2024-03-08 is 10:00 EDT on 2024-03-11 (71 hours).
        let created = Value::DateTime(utc(2024, 3, 8, 15, 0));
        assert_eq!(
            due(&created, 3 * DAY, None, ny),
            Some(utc(2024, 3, 11, 14, 0))
        );
        // Landing in the gap moves to its end; landing in the fold takes the earlier.
        let before_gap = Value::DateTime(utc(2024, 3, 9, 7, 30)); // 02:30 EST on the 9th
        assert_eq!(
            due(&before_gap, DAY, None, ny),
            Some(utc(2024, 3, 10, 7, 0))
        );
        let before_fold = Value::DateTime(utc(2024, 11, 2, 5, 30)); // 01:30 EDT on the 2nd
        assert_eq!(
            due(&before_fold, DAY, None, ny),
            Some(utc(2024, 11, 3, 5, 30))
        );
    }

    #[test]
    fn leap_days() {
        let u = Zone::new(Tz::UTC);
        let leap = date(2024, 2, 29);
        assert_eq!(due(&leap, 365 * DAY, None, u), Some(utc(2025, 2, 28, 0, 0)));
        assert_eq!(due(&leap, 366 * DAY, None, u), Some(utc(2025, 3, 1, 0, 0)));
        assert_eq!(
            due(&leap, -DAY, t("09:00"), u),
            Some(utc(2024, 2, 28, 9, 0))
        );
        assert_eq!(
            due(&date(2024, 2, 28), DAY, None, u),
            Some(utc(2024, 2, 29, 0, 0))
        );
        assert_eq!(
            due(&date(2023, 2, 28), DAY, None, u),
            Some(utc(2023, 3, 1, 0, 0))
        );
    }

    #[test]
    fn steps_count_from_the_previous_step() {
        let sh = tz("Asia/Shanghai");
        // 3 days after 2024-05-20 09:00 UTC (17:00 Shanghai), at 10:00 Shanghai.
        assert_eq!(
            after(utc(2024, 5, 20, 9, 0), 3 * DAY, t("10:00"), sh),
            Some(utc(2024, 5, 23, 2, 0))
        );
        assert_eq!(
            after(utc(2024, 5, 20, 9, 0), 36 * 3600, None, sh),
            Some(utc(2024, 5, 21, 21, 0))
        );
    }

    #[test]
    fn the_fast_path_agrees_with_the_general_one() {
        for name in ["Asia/Shanghai", "UTC", "Asia/Kolkata"] {
            let fast = tz(name);
            let general = Zone::from(fast.tz());
            let mut i = utc(1990, 1, 1, 0, 7);
            while i < utc(2030, 1, 1, 0, 0) {
                let values = [Value::DateTime(i), Value::Date(i.date_naive())];
                for v in &values {
                    for offset in [0, 3 * DAY, -60 * DAY, 36 * 3600 + 17] {
                        for at in [None, t("09:30"), t("00:00")] {
                            assert_eq!(
                                due(v, offset, at, fast),
                                shift(anchor(v, general).unwrap(), offset, at, general),
                                "{name} {v:?} {offset} {at:?}"
                            );
                        }
                    }
                }
                i += TimeDelta::minutes(7_919 * 3);
            }
        }
    }

    #[test]
    fn other_values_and_overflow_have_no_due_time() {
        let sh = tz("Asia/Shanghai");
        assert_eq!(due(&Value::Absent, DAY, None, sh), None);
        assert_eq!(due(&Value::from("2024-05-20"), DAY, None, sh), None);
        assert_eq!(
            due(&Value::DateTime(DateTime::<Utc>::MAX_UTC), DAY, None, sh),
            None
        );
        assert_eq!(after(DateTime::<Utc>::MIN_UTC, -DAY, None, sh), None);
    }
}
