//! Recurring schedules: every day, every week on some days, or every month on a day, at a
//! local time in a zone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc, Weekday};

use super::instant::Ts;
use super::local::Zone;
use crate::rule::Every;

/// A schedule: which local dates it falls on, and the local time.
///
/// Every matching local date has exactly one occurrence, at [`super::local::resolve`] of the
/// date at the time: a time skipped by a daylight-saving change moves to the first instant
/// after the gap, a time that happens twice fires at the earlier instant only. A monthly
/// day past the month's end falls on the month's last day (the 31st is the 30th in April
/// and the 28th or 29th in February).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Recurrence {
    every: Every,
    /// Weekly: the days, bit 0 Monday … bit 6 Sunday.
    days: u8,
    /// Monthly: the day, 1–31.
    day_of_month: u32,
    at: NaiveTime,
    /// `at` in seconds from midnight.
    at_secs: i64,
    /// `at_secs` less the zone's fixed offset (0 when it has none): an occurrence's Unix
    /// second from its local day on the fast path.
    at_utc: i64,
    zone: Zone,
}

/// A Unix second on the local calendar of a zone that keeps one offset: its local day
/// (from 1970-01-01) and second of the day, read once for all the schedules of a call
/// that count in the zone from that second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LocalSecond {
    day: i64,
    time: i64,
}

impl LocalSecond {
    /// `threshold` (a Unix second) in a zone that keeps `offset` seconds from Unix time
    /// `from` on; `None` where a schedule's fast path does not hold (the zone's offset
    /// may differ within a month before), as in [`Recurrence::fast_secs`].
    #[inline]
    pub fn new(threshold: i64, (from, offset): (i64, i32)) -> Option<LocalSecond> {
        if threshold.checked_sub(32 * DAY)? < from {
            return None;
        }
        let local = u64::try_from(threshold.checked_add(i64::from(offset))?).ok()?;
        Some(LocalSecond {
            day: (local / DAY as u64) as i64,
            time: (local % DAY as u64) as i64,
        })
    }
}

/// One occurrence: its local date (as days from 0001-01-01, day 1 of the common era) and
/// its instant.
pub(crate) type Occurrence = (i64, DateTime<Utc>);

/// How many occurrences of a schedule fall in a span, and the last of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Count {
    pub count: u64,
    pub last: DateTime<Utc>,
}

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAYS: i64 = 719_163;
/// The place in its year (from 0) of each month's first day, and the year's length; in a
/// common year, then in a leap year.
const MONTH_STARTS: [[u16; 13]; 2] = [
    [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
    [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
];
const DAY: i64 = 86_400;
/// Days either side of 1970-01-01 (about 260,000 years, inside chrono's range) within
/// which the fast path computes monthly dates itself.
const CIVIL_REACH: i64 = 95_000_000;

/// Dates as days from 1970-01-01 in the proleptic Gregorian calendar, by arithmetic
/// (Howard Hinnant's `civil_from_days` and `days_from_civil`): what chrono's dates give,
/// without building them.
mod civil {
    /// The year and month of a day.
    #[cfg(test)]
    pub fn month_of(day: i64) -> (i64, u32) {
        let (year, month, _) = date_of(day);
        (year, month)
    }

    /// The year, month and day of the month (from 1) of a day.
    #[inline(always)]
    pub fn date_of(day: i64) -> (i64, u32, u32) {
        let z = day + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let dom = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month as u32, dom as u32)
    }

    /// The day of a date (`dom` from 1, within the month).
    #[cfg(test)]
    fn day_of(year: i64, month: u32, dom: u32) -> i64 {
        let y = year - i64::from(month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(dom) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// How many days a month has.
    #[inline(always)]
    pub fn month_len(year: i64, month: u32) -> u32 {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// The day of a month's `dom`th (1–31), or its last day when the month is shorter.
    #[cfg(test)]
    pub fn day_in_month(year: i64, month: u32, dom: u32) -> i64 {
        day_of(year, month, dom.min(month_len(year, month)))
    }

    /// The month after (`forward`) or before a month.
    pub fn step(year: i64, month: u32, forward: bool) -> (i64, u32) {
        match (forward, month) {
            (true, 12) => (year + 1, 1),
            (true, m) => (year, m + 1),
            (false, 1) => (year - 1, 12),
            (false, m) => (year, m - 1),
        }
    }
}

fn bit(d: Weekday) -> u8 {
    1 << d.num_days_from_monday()
}

/// The last day of a month.
fn month_end(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// The month after (`step` 1) or before (`step` -1) the month of `d`, as (year, month).
fn add_month(year: i32, month: u32, step: i32) -> Option<(i32, u32)> {
    let index = i64::from(year) * 12 + i64::from(month) - 1 + i64::from(step);
    let y = i32::try_from(index.div_euclid(12)).ok()?;
    Some((y, (index.rem_euclid(12) + 1) as u32))
}

impl Recurrence {
    /// A schedule. `days` is read for weekly schedules (an empty list never matches),
    /// `day_of_month` for monthly ones (clamped to 1–31).
    pub fn new(
        every: Every,
        days: &[Weekday],
        day_of_month: Option<u8>,
        at: NaiveTime,
        zone: Zone,
    ) -> Recurrence {
        let at_secs = i64::from(at.num_seconds_from_midnight());
        Recurrence {
            every,
            days: days.iter().fold(0, |m, d| m | bit(*d)),
            day_of_month: u32::from(day_of_month.unwrap_or(1).clamp(1, 31)),
            at,
            at_secs,
            at_utc: at_secs - zone.fixed().map_or(0, |(_, o)| i64::from(o)),
            zone,
        }
    }

    /// The zone the schedule counts in.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The monthly date of the schedule in a month.
    fn in_month(&self, year: i32, month: u32) -> Option<NaiveDate> {
        let end = month_end(year, month)?;
        end.with_day(self.day_of_month.min(end.day()))
    }

    /// Whether the schedule falls on a local date.
    pub fn matches(&self, d: NaiveDate) -> bool {
        match self.every {
            Every::Day => true,
            Every::Week => self.days & bit(d.weekday()) != 0,
            Every::Month => self.in_month(d.year(), d.month()) == Some(d),
        }
    }

    /// The first date of the schedule after `d`.
    fn next_date(&self, d: NaiveDate) -> Option<NaiveDate> {
        match self.every {
            Every::Day => d.succ_opt(),
            Every::Week => {
                if self.days == 0 {
                    return None;
                }
                let mut n = d;
                for _ in 0..7 {
                    n = n.succ_opt()?;
                    if self.matches(n) {
                        return Some(n);
                    }
                }
                None
            }
            Every::Month => {
                let here = self.in_month(d.year(), d.month())?;
                if here > d {
                    return Some(here);
                }
                let (y, m) = add_month(d.year(), d.month(), 1)?;
                self.in_month(y, m)
            }
        }
    }

    /// The last date of the schedule before `d`.
    fn prev_date(&self, d: NaiveDate) -> Option<NaiveDate> {
        match self.every {
            Every::Day => d.pred_opt(),
            Every::Week => {
                if self.days == 0 {
                    return None;
                }
                let mut n = d;
                for _ in 0..7 {
                    n = n.pred_opt()?;
                    if self.matches(n) {
                        return Some(n);
                    }
                }
                None
            }
            Every::Month => {
                let here = self.in_month(d.year(), d.month())?;
                if here < d {
                    return Some(here);
                }
                let (y, m) = add_month(d.year(), d.month(), -1)?;
                self.in_month(y, m)
            }
        }
    }

    /// The occurrence on a date of the schedule.
    fn on(&self, d: NaiveDate) -> Option<Occurrence> {
        Some((i64::from(d.num_days_from_ce()), self.zone.on(d, self.at)?))
    }

    /// A fast path for daily and weekly schedules in a zone that keeps one offset (from a
    /// week before `threshold`, a Unix second, on): the first occurrence at or after it
    /// (`forward`), or the last at or before it, by arithmetic on seconds and days, as
    /// (day from 0001-01-01, Unix second). `None` to take the general path.
    #[inline(always)]
    fn fast_secs(&self, threshold: i64, forward: bool) -> Option<Option<(i64, i64)>> {
        let (from, offset) = self.zone.fixed()?;
        // The occurrence found lies within a week (a month) of the threshold.
        let reach = if self.every == Every::Month { 32 } else { 8 };
        if threshold.checked_sub(reach * DAY)? < from {
            return None;
        }
        // Past `from`, which is after 1970: a positive local time.
        let local = u64::try_from(threshold + i64::from(offset)).ok()?;
        let (day, time) = ((local / DAY as u64) as i64, (local % DAY as u64) as i64);
        let d = self.day_from(day, time, forward)?;
        Some(d.map(|d| {
            (
                d + UNIX_EPOCH_DAYS,
                d * DAY + self.at_secs - i64::from(offset),
            )
        }))
    }

    /// The day (from 1970-01-01) of the first occurrence at or after the local `time`
    /// (second of the day) of `day` (`forward`), or of the last at or before it, in a zone
    /// that keeps one offset over the span; `Some(None)` when the schedule never falls,
    /// `None` to take the general path.
    #[inline(always)]
    fn day_from(&self, day: i64, time: i64, forward: bool) -> Option<Option<i64>> {
        let at = self.at_secs;
        if self.every == Every::Month {
            if let Some(d) = self.month_day_by_table(day, time, forward) {
                return Some(Some(d));
            }
            return self.month_day_by_civil(day, time, forward).map(Some);
        }
        let (mut d, step) = match (forward, time <= at, time >= at) {
            (true, true, _) => (day, 1),
            (true, false, _) => (day + 1, 1),
            (false, _, true) => (day, -1),
            (false, _, false) => (day - 1, -1),
        };
        if self.every == Every::Week {
            if self.days == 0 {
                return Some(None);
            }
            // 1970-01-01 was a Thursday (3 days after a Monday). The days twice over, as
            // bits: the first set bit from today's on (forward), or the last up to it a
            // week on (backward), is the next schedule day.
            let weekday = (d + 3).rem_euclid(7) as u32;
            let days = u32::from(self.days) | (u32::from(self.days) << 7);
            let ahead = (days >> weekday).trailing_zeros();
            let behind = 31 - (days & ((2 << (weekday + 7)) - 1)).leading_zeros();
            d += match step {
                1 => i64::from(ahead),
                _ => i64::from(behind) - i64::from(weekday + 7),
            };
        }
        Some(Some(d))
    }

    /// [`Recurrence::day_from`] of a monthly schedule, its dates by civil arithmetic
    /// (Hinnant's); `None` past [`CIVIL_REACH`].
    #[inline(always)]
    fn month_day_by_civil(&self, day: i64, time: i64, forward: bool) -> Option<i64> {
        let at = self.at_secs;
        if !(-CIVIL_REACH..=CIVIL_REACH).contains(&day) {
            return None;
        }
        // The schedule's day in the month of `day`, counted from the month's first
        // day; else the one in the month after (before), counted from its first day.
        let (year, month, dom) = civil::date_of(day);
        let len = civil::month_len(year, month);
        let first = day - i64::from(dom) + 1;
        let here = first + i64::from(self.day_of_month.min(len)) - 1;
        let d = match forward {
            true if here > day || (here == day && time <= at) => here,
            false if here < day || (here == day && time >= at) => here,
            _ => {
                let (y, m) = civil::step(year, month, forward);
                let other = civil::month_len(y, m);
                let start = match forward {
                    true => first + i64::from(len),
                    false => first - i64::from(other),
                };
                start + i64::from(self.day_of_month.min(other)) - 1
            }
        };
        Some(d)
    }

    /// [`Recurrence::day_from`] of a monthly schedule for a day from 1970 to 2299, its
    /// date read from the table of year starts and one of month starts; `None` for other
    /// days.
    #[inline(always)]
    fn month_day_by_table(&self, day: i64, time: i64, forward: bool) -> Option<i64> {
        let (_, ord0, leap) = super::instant::year_day(day)?;
        let starts = &MONTH_STARTS[usize::from(leap)];
        // Months have 28 to 31 days: `ord0 / 32` is the month or the one before.
        let mut m = (ord0 / 32) as usize;
        while m < 11
            && starts
                .get(m + 1)
                .is_some_and(|next| ord0 >= u32::from(*next))
        {
            m += 1;
        }
        let start = u32::from(*starts.get(m)?);
        let len = u32::from(*starts.get(m + 1)?) - start;
        let first = day - i64::from(ord0 - start);
        let here = first + i64::from(self.day_of_month.min(len)) - 1;
        let at = self.at_secs;
        let d = match forward {
            true if here > day || (here == day && time <= at) => here,
            false if here < day || (here == day && time >= at) => here,
            true => {
                // The month after: January's 31 days after December.
                let other = match m {
                    11 => 31,
                    _ => u32::from(*starts.get(m + 2)?) - u32::from(*starts.get(m + 1)?),
                };
                first + i64::from(len) + i64::from(self.day_of_month.min(other)) - 1
            }
            false => {
                // The month before: December's 31 days before January.
                let other = match m.checked_sub(1) {
                    None => 31,
                    Some(p) => start - u32::from(*starts.get(p)?),
                };
                first - i64::from(other) + i64::from(self.day_of_month.min(other)) - 1
            }
        };
        Some(d)
    }

    /// The first occurrence at or after the second `l` stands for, as a Unix second, as
    /// [`Recurrence::next_after`] finds it; `Some(None)` when the schedule never falls,
    /// `None` to take the general path. `l` is read in the schedule's zone.
    #[inline(always)]
    pub fn first_from(&self, l: &LocalSecond) -> Option<Option<i64>> {
        if self.every == Every::Day {
            // The common case, without the other kinds' tests.
            let d = l.day + i64::from(l.time > self.at_secs);
            return Some(Some(d * DAY + self.at_utc));
        }
        let d = self.day_from(l.day, l.time, true)?;
        Some(d.map(|d| d * DAY + self.at_utc))
    }

    /// [`Recurrence::fast_secs`] as an occurrence.
    fn fast(&self, threshold: i64, forward: bool) -> Option<Option<Occurrence>> {
        let found = self.fast_secs(threshold, forward)?;
        Some(found.and_then(|(day, secs)| Some((day, DateTime::from_timestamp(secs, 0)?))))
    }

    /// The first occurrence strictly after `t`, as an instant.
    #[inline(always)]
    pub fn next_after(&self, t: Ts) -> Option<Ts> {
        if let Some(found) = t
            .secs()
            .checked_add(1)
            .and_then(|s| self.fast_secs(s, true))
        {
            return found.map(|(_, secs)| Ts::new(secs, 0));
        }
        self.next_after_slowly(t)
    }

    /// [`Recurrence::next_after`] off the fast path, out of line.
    #[cold]
    #[inline(never)]
    fn next_after_slowly(&self, t: Ts) -> Option<Ts> {
        self.first_after(t.to_date_time()?).map(|(_, o)| Ts::of(o))
    }

    /// Whether `first`, an occurrence, is the only one up to `until` (inclusive) that
    /// [`Recurrence::count`] counts from before it: the next occurrence is later, found on
    /// the fast path (where every date has its own instant). `false` when unsure.
    pub fn only(&self, first: Ts, until: Ts) -> bool {
        let next = first
            .secs()
            .checked_add(1)
            .and_then(|s| self.fast_secs(s, true));
        match next {
            Some(Some((_, secs))) => Ts::new(secs, 0) > until,
            _ => false,
        }
    }

    /// The first occurrence at or after `t`.
    pub fn first_at_or_after(&self, t: DateTime<Utc>) -> Option<Occurrence> {
        // Occurrences fall on whole seconds.
        let threshold = t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0);
        if let Some(found) = self.fast(threshold, true) {
            return found;
        }
        // An occurrence lies on its own local date, or just after it when a gap near
        // midnight pushes it forward; start the search the day before.
        let start = self.zone.local_date(t)?.pred_opt()?;
        let mut d = if self.matches(start) {
            start
        } else {
            self.next_date(start)?
        };
        for _ in 0..8 {
            let o = self.on(d)?;
            if o.1 >= t {
                return Some(o);
            }
            d = self.next_date(d)?;
        }
        None
    }

    /// The first occurrence strictly after `t`.
    pub fn first_after(&self, t: DateTime<Utc>) -> Option<Occurrence> {
        if let Some(found) = t
            .timestamp()
            .checked_add(1)
            .and_then(|s| self.fast(s, true))
        {
            return found;
        }
        self.first_at_or_after(t.checked_add_signed(TimeDelta::nanoseconds(1))?)
    }

    /// The last occurrence at or before `t`.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<Occurrence> {
        if let Some(found) = self.fast(t.timestamp(), false) {
            return found;
        }
        let start = self.zone.local_date(t)?.succ_opt()?;
        let mut d = if self.matches(start) {
            start
        } else {
            self.prev_date(start)?
        };
        for _ in 0..8 {
            let o = self.on(d)?;
            if o.1 <= t {
                return Some(o);
            }
            d = self.prev_date(d)?;
        }
        None
    }

    /// A number that grows by one from each date of the schedule to the next (dates as
    /// days from 0001-01-01).
    fn ordinal(&self, day: i64) -> i64 {
        match self.every {
            Every::Day => day,
            Every::Week => {
                // 0001-01-01 (day 1 of the common era) is a Monday.
                let days = day - 1;
                let per_week = i64::from(self.days.count_ones());
                let below = self.days & ((2u16 << days.rem_euclid(7)) - 1) as u8;
                days.div_euclid(7) * per_week + i64::from(below.count_ones())
            }
            Every::Month => i32::try_from(day)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .map_or(0, |d| i64::from(d.year()) * 12 + i64::from(d.month())),
        }
    }

    /// The occurrences after `after` (exclusive) up to `until` (inclusive): how many, and
    /// the last. `None` when there are none.
    pub fn count(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Option<Count> {
        if until <= after {
            return None;
        }
        let last = self.last_at_or_before(until)?;
        if last.1 <= after {
            return None;
        }
        let count = match self.last_at_or_before(after) {
            Some(before) => self.ordinal(last.0) - self.ordinal(before.0),
            // Nothing at or before `after` (the start of time): count from the first.
            None => match self.first_after(after) {
                Some(first) => self.ordinal(last.0) - self.ordinal(first.0) + 1,
                None => 1,
            },
        };
        Some(Count {
            count: u64::try_from(count).unwrap_or(1).max(1),
            last: last.1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::local;
    use chrono::{NaiveDateTime, TimeZone};
    use chrono_tz::Tz;

    fn tz(name: &str) -> Zone {
        Zone::new(name.parse().unwrap())
    }

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn day(d: NaiveDate) -> i64 {
        i64::from(d.num_days_from_ce())
    }

    fn local_in(zone: Zone, t: DateTime<Utc>) -> NaiveDateTime {
        local::local(zone.tz(), t).unwrap()
    }

    /// Every occurrence from `from` on, `n` of them, as local wall-clock times.
    fn series(r: &Recurrence, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = from;
        while out.len() < n {
            let (_, o) = r.first_at_or_after(t).unwrap();
            out.push(o);
            t = o + TimeDelta::nanoseconds(1);
        }
        out
    }

    #[test]
    fn daily_at_a_local_time() {
        let sh = tz("Asia/Shanghai");
        let r = Recurrence::new(Every::Day, &[], None, at(9, 0), sh);
        // 09:00 Shanghai is 01:00 UTC.
        assert_eq!(
            r.first_at_or_after(utc(2024, 5, 20, 0, 0)).unwrap().1,
            utc(2024, 5, 20, 1, 0)
        );
        assert_eq!(
            r.first_at_or_after(utc(2024, 5, 20, 1, 0)).unwrap().1,
            utc(2024, 5, 20, 1, 0)
        );
        assert_eq!(
            r.first_after(utc(2024, 5, 20, 1, 0)).unwrap().1,
            utc(2024, 5, 21, 1, 0)
        );
        assert_eq!(
            r.last_at_or_before(utc(2024, 5, 20, 0, 59)).unwrap().1,
            utc(2024, 5, 19, 1, 0)
        );
        assert_eq!(
            r.last_at_or_before(utc(2024, 5, 20, 1, 0)).unwrap(),
            (day(date(2024, 5, 20)), utc(2024, 5, 20, 1, 0))
        );
    }

    #[test]
    fn weekly_on_given_days() {
        let sh = tz("Asia/Shanghai");
        let r = Recurrence::new(
            Every::Week,
            &[Weekday::Mon, Weekday::Thu],
            None,
            at(10, 0),
            sh,
        );
        // 2024-05-20 is a Monday.
        let got = series(&r, utc(2024, 5, 20, 3, 0), 4);
        assert_eq!(
            got,
            [
                utc(2024, 5, 23, 2, 0),
                utc(2024, 5, 27, 2, 0),
                utc(2024, 5, 30, 2, 0),
                utc(2024, 6, 3, 2, 0)
            ]
        );
        assert!(r.matches(date(2024, 5, 20)));
        assert!(!r.matches(date(2024, 5, 21)));
        let never = Recurrence::new(Every::Week, &[], None, at(10, 0), sh);
        assert_eq!(never.first_at_or_after(utc(2024, 5, 20, 0, 0)), None);
    }

    #[test]
    fn monthly_past_a_short_months_end_falls_on_its_last_day() {
        let u = Zone::new(Tz::UTC);
        let r = Recurrence::new(Every::Month, &[], Some(31), at(8, 0), u);
        let got: Vec<NaiveDate> = series(&r, utc(2024, 1, 1, 0, 0), 13)
            .into_iter()
            .map(|t| t.date_naive())
            .collect();
        assert_eq!(
            got,
            [
                date(2024, 1, 31),
                date(2024, 2, 29), // a leap year
                date(2024, 3, 31),
                date(2024, 4, 30),
                date(2024, 5, 31),
                date(2024, 6, 30),
                date(2024, 7, 31),
                date(2024, 8, 31),
                date(2024, 9, 30),
                date(2024, 10, 31),
                date(2024, 11, 30),
                date(2024, 12, 31),
                date(2025, 1, 31),
            ]
        );
        let feb29 = Recurrence::new(Every::Month, &[], Some(29), at(8, 0), u);
        let got: Vec<NaiveDate> = series(&feb29, utc(2023, 1, 30, 0, 0), 3)
            .into_iter()
            .map(|t| t.date_naive())
            .collect();
        assert_eq!(
            got,
            [date(2023, 2, 28), date(2023, 3, 29), date(2023, 4, 29)]
        );
        // Backwards too.
        assert_eq!(
            r.last_at_or_before(utc(2024, 3, 30, 0, 0)).unwrap().0,
            day(date(2024, 2, 29))
        );
    }

    #[test]
    fn a_daily_time_skipped_by_daylight_saving_fires_once_after_the_gap() {
        let ny = tz("America/New_York");
        let r = Recurrence::new(Every::Day, &[], None, at(2, 30), ny);
        let got = series(&r, utc(2024, 3, 9, 0, 0), 3);
        assert_eq!(
            got.iter()
                .map(|t| local_in(ny, *t).to_string())
                .collect::<Vec<_>>(),
            [
                "2024-03-09 02:30:00",
                "2024-03-10 03:00:00", // 02:30 does not exist: the first instant after the gap
                "2024-03-11 02:30:00"
            ]
        );
        assert_eq!(got[1], utc(2024, 3, 10, 7, 0));
    }

    #[test]
    fn a_daily_time_that_happens_twice_fires_once_at_the_earlier_instant() {
        let ny = tz("America/New_York");
        let r = Recurrence::new(Every::Day, &[], None, at(1, 30), ny);
        let got = series(&r, utc(2024, 11, 2, 12, 0), 3);
        assert_eq!(
            got,
            [
                utc(2024, 11, 3, 5, 30), // 01:30 EDT; 01:30 EST (06:30 UTC) does not fire
                utc(2024, 11, 4, 6, 30),
                utc(2024, 11, 5, 6, 30)
            ]
        );
        // Between the two 01:30s, the next occurrence is the next day's.
        assert_eq!(
            r.first_after(utc(2024, 11, 3, 5, 30)).unwrap().1,
            utc(2024, 11, 4, 6, 30)
        );
        assert_eq!(
            r.count(utc(2024, 11, 2, 12, 0), utc(2024, 11, 4, 12, 0)),
            Some(Count {
                count: 2,
                last: utc(2024, 11, 4, 6, 30)
            })
        );
    }

    #[test]
    fn counts_occurrences_in_a_span() {
        let sh = tz("Asia/Shanghai");
        let daily = Recurrence::new(Every::Day, &[], None, at(9, 0), sh);
        // From just after the 20th's 09:00 to the 27th's 09:00: the 21st to the 27th.
        assert_eq!(
            daily.count(utc(2024, 5, 20, 1, 0), utc(2024, 5, 27, 1, 0)),
            Some(Count {
                count: 7,
                last: utc(2024, 5, 27, 1, 0)
            })
        );
        assert_eq!(
            daily.count(utc(2024, 5, 20, 1, 0), utc(2024, 5, 21, 0, 59)),
            None
        );
        let weekly = Recurrence::new(
            Every::Week,
            &[Weekday::Mon, Weekday::Wed, Weekday::Fri],
            None,
            at(9, 0),
            sh,
        );
        // Three weeks from Monday 2024-05-20 08:00 local: 9 occurrences.
        let c = weekly
            .count(utc(2024, 5, 20, 0, 0), utc(2024, 6, 10, 0, 0))
            .unwrap();
        assert_eq!(c.count, 9);
        assert_eq!(c.last, utc(2024, 6, 7, 1, 0));
        let monthly = Recurrence::new(Every::Month, &[], Some(31), at(9, 0), sh);
        assert_eq!(
            monthly
                .count(utc(2024, 1, 1, 0, 0), utc(2025, 1, 1, 0, 0))
                .map(|c| c.count),
            Some(12)
        );
        // Long spans are counted, not walked.
        assert_eq!(
            daily
                .count(utc(1924, 5, 27, 1, 0), utc(2024, 5, 27, 1, 0))
                .map(|c| c.count),
            Some(36_525)
        );
    }

    #[test]
    fn counts_agree_with_walking_the_series() {
        let zones = [
            "America/New_York",
            "Europe/London",
            "Asia/Shanghai",
            "Australia/Lord_Howe",
        ];
        for zone in zones {
            let z = tz(zone);
            for r in [
                Recurrence::new(Every::Day, &[], None, at(2, 30), z),
                Recurrence::new(
                    Every::Week,
                    &[Weekday::Sun, Weekday::Tue],
                    None,
                    at(1, 30),
                    z,
                ),
                Recurrence::new(Every::Month, &[], Some(30), at(0, 15), z),
            ] {
                let from = utc(2023, 12, 20, 0, 0);
                let all = series(&r, from, 60);
                for i in 0..all.len() {
                    for j in i..all.len() {
                        let c = r.count(all[i], all[j]);
                        if i == j {
                            assert_eq!(c, None, "{zone}");
                        } else {
                            assert_eq!(
                                c,
                                Some(Count {
                                    count: (j - i) as u64,
                                    last: all[j]
                                }),
                                "{zone} {i} {j}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_general_one() {
        for zone in ["Asia/Shanghai", "UTC", "Asia/Kolkata"] {
            let fast = tz(zone);
            let general = Zone::from(fast.tz());
            for (every, days, dom) in [
                (Every::Day, vec![], None),
                (Every::Week, vec![Weekday::Mon, Weekday::Thu], None),
                (Every::Week, vec![Weekday::Sun], None),
                (
                    Every::Week,
                    vec![Weekday::Wed, Weekday::Sat, Weekday::Sun],
                    None,
                ),
                (Every::Month, vec![], Some(31)),
                (Every::Month, vec![], Some(1)),
                (Every::Month, vec![], Some(15)),
            ] {
                for at_time in [at(0, 0), at(9, 30), at(23, 59)] {
                    let f = Recurrence::new(every, &days, dom, at_time, fast);
                    let g = Recurrence::new(every, &days, dom, at_time, general);
                    let mut t = utc(2023, 12, 1, 0, 0);
                    while t < utc(2024, 4, 1, 0, 0) {
                        for t in [t, t + TimeDelta::nanoseconds(1)] {
                            assert_eq!(
                                f.first_at_or_after(t),
                                g.first_at_or_after(t),
                                "{zone} {t}"
                            );
                            assert_eq!(f.first_after(t), g.first_after(t), "{zone} {t}");
                            assert_eq!(
                                f.last_at_or_before(t),
                                g.last_at_or_before(t),
                                "{zone} {t}"
                            );
                            assert_eq!(
                                f.next_after(Ts::of(t)),
                                g.first_after(t).map(|(_, o)| Ts::of(o)),
                                "{zone} {t}"
                            );
                            // From the second after `t` read once on the zone's calendar.
                            let local = Ts::of(t)
                                .secs()
                                .checked_add(1)
                                .and_then(|s| LocalSecond::new(s, fast.fixed().unwrap()));
                            if let Some(found) = local.and_then(|l| f.first_from(&l)) {
                                assert_eq!(
                                    found.map(|secs| Ts::new(secs, 0)),
                                    f.next_after(Ts::of(t)),
                                    "{zone} {t}"
                                );
                            }
                            // A single occurrence up to `until` is told without counting.
                            let Some(first) = f.next_after(Ts::of(t)) else {
                                continue;
                            };
                            for hours in [0, 23, 25, 24 * 8, 24 * 32] {
                                let until = first.plus(hours * 3600);
                                let counted = g.count(t, until.to_date_time().unwrap());
                                let one = counted.is_some_and(|c| {
                                    c.count == 1 && Some(c.last) == first.to_date_time()
                                });
                                assert_eq!(f.only(first, until), one, "{zone} {t} {hours}");
                            }
                        }
                        t += TimeDelta::minutes(97);
                    }
                }
            }
        }
    }

    #[test]
    fn monthly_days_by_table_are_the_civil_ones() {
        let u = Zone::new(Tz::UTC);
        for dom in [1, 29, 30, 31] {
            let r = Recurrence::new(Every::Month, &[], Some(dom), at(9, 30), u);
            for day in -3..330 * 366 {
                for time in [0, 9 * 3600 + 1800, 86_399] {
                    for forward in [true, false] {
                        let table = r.month_day_by_table(day, time, forward);
                        if (0..120_000).contains(&day) {
                            assert!(table.is_some(), "{day}");
                        }
                        if let Some(t) = table {
                            assert_eq!(
                                Some(t),
                                r.month_day_by_civil(day, time, forward),
                                "{dom} {day} {time} {forward}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn civil_dates_agree_with_chrono() {
        let mut day = -CIVIL_REACH;
        while day <= CIVIL_REACH {
            for d in [day, day + 1, day + 59, day + 365] {
                let date =
                    NaiveDate::from_num_days_from_ce_opt((d + UNIX_EPOCH_DAYS) as i32).unwrap();
                let (y, m) = civil::month_of(d);
                assert_eq!((y, m), (i64::from(date.year()), date.month()), "{d}");
                assert_eq!(civil::date_of(d), (y, m, date.day()), "{d}");
                assert_eq!(
                    civil::month_len(y, m),
                    month_end(date.year(), date.month()).unwrap().day()
                );
                for dom in [1, 15, 28, 29, 30, 31] {
                    let end = month_end(date.year(), date.month()).unwrap();
                    let want = end.with_day(dom.min(end.day())).unwrap();
                    assert_eq!(
                        civil::day_in_month(y, m, dom),
                        i64::from(want.num_days_from_ce()) - UNIX_EPOCH_DAYS,
                        "{d} {dom}"
                    );
                }
                let (ny, nm) = add_month(date.year(), date.month(), 1).unwrap();
                let (py, pm) = add_month(date.year(), date.month(), -1).unwrap();
                assert_eq!(civil::step(y, m, true), (i64::from(ny), nm));
                assert_eq!(civil::step(y, m, false), (i64::from(py), pm));
            }
            day += 9_973 * 3;
        }
    }

    #[test]
    fn searches_at_the_ends_of_the_range_do_not_panic() {
        let ny = tz("America/New_York");
        for r in [
            Recurrence::new(Every::Day, &[], None, at(2, 30), ny),
            Recurrence::new(Every::Week, &[Weekday::Sun], None, at(2, 30), ny),
            Recurrence::new(Every::Month, &[], Some(31), at(2, 30), ny),
        ] {
            for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
                let _ = r.first_at_or_after(t);
                let _ = r.first_after(t);
                let _ = r.last_at_or_before(t);
                let _ = r.count(DateTime::<Utc>::MIN_UTC, t);
            }
        }
    }
}
