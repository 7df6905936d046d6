//! Allowed windows (quiet hours): "09:00–20:00 local, working days".

use chrono::{DateTime, Datelike, Utc, Weekday};

use super::local;
use crate::ruleset::CompiledWindow;

fn day_allowed(w: &CompiledWindow, d: Weekday) -> bool {
    w.days.is_empty() || w.days.contains(&d)
}

/// `t` when it lies in the window (local start inclusive, end exclusive, on an allowed
/// day; every day when the window names none); otherwise the next instant that does: the
/// start of the window on the next allowed day (today's, when `t` is before it). A start
/// time skipped by a daylight-saving change opens at the first instant after the gap.
/// `None` only at the end of the range chrono can represent.
pub(crate) fn next_allowed(w: &CompiledWindow, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let here = local::local(w.time_zone, t)?;
    let (date, time) = (here.date(), here.time());
    let (start, end) = (w.start.to_naive(), w.end.to_naive());
    if day_allowed(w, date.weekday()) {
        if time >= start && time < end {
            return Some(t);
        }
        if time < start {
            return local::on(w.time_zone, date, start).map(|s| s.max(t));
        }
    }
    let mut d = date;
    for _ in 0..7 {
        d = d.succ_opt()?;
        if day_allowed(w, d.weekday()) {
            return local::on(w.time_zone, d, start).map(|s| s.max(t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Tz;

    struct Hours(CompiledWindow);

    impl Hours {
        fn new(start: &str, end: &str, days: &[Weekday], tz: Tz) -> Hours {
            Hours(CompiledWindow {
                start: start.parse().unwrap(),
                end: end.parse().unwrap(),
                days: days.to_vec(),
                time_zone: tz,
            })
        }

        fn next_allowed(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
            next_allowed(&self.0, t)
        }
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    const WORKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];

    #[test]
    fn inside_the_window_is_unchanged() {
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let w = Hours::new("09:00", "20:00", &WORKDAYS, sh);
        // Monday 2024-05-20 10:00 Shanghai.
        let t = utc(2024, 5, 20, 2, 0);
        assert_eq!(w.next_allowed(t), Some(t));
        // 09:00 is in, 20:00 is out.
        assert_eq!(
            w.next_allowed(utc(2024, 5, 20, 1, 0)),
            Some(utc(2024, 5, 20, 1, 0))
        );
        assert_eq!(
            w.next_allowed(utc(2024, 5, 20, 12, 0)),
            Some(utc(2024, 5, 21, 1, 0))
        );
    }

    #[test]
    fn outside_moves_to_the_next_allowed_start() {
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let w = Hours::new("09:00", "20:00", &WORKDAYS, sh);
        // Monday 07:00 → Monday 09:00.
        assert_eq!(
            w.next_allowed(utc(2024, 5, 19, 23, 0)),
            Some(utc(2024, 5, 20, 1, 0))
        );
        // Friday 21:00 → Monday 09:00.
        assert_eq!(
            w.next_allowed(utc(2024, 5, 24, 13, 0)),
            Some(utc(2024, 5, 27, 1, 0))
        );
        // Saturday noon → Monday 09:00.
        assert_eq!(
            w.next_allowed(utc(2024, 5, 25, 4, 0)),
            Some(utc(2024, 5, 27, 1, 0))
        );
        // Every day when no days are given: Saturday 21:00 → Sunday 09:00.
        let daily = Hours::new("09:00", "20:00", &[], sh);
        assert_eq!(
            daily.next_allowed(utc(2024, 5, 25, 13, 0)),
            Some(utc(2024, 5, 26, 1, 0))
        );
    }

    #[test]
    fn a_start_skipped_by_daylight_saving_opens_after_the_gap() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let w = Hours::new("02:30", "06:00", &[], ny);
        // 2024-03-10 01:00 EST: the window opens at 03:00 EDT, 07:00 UTC.
        assert_eq!(
            w.next_allowed(utc(2024, 3, 10, 6, 0)),
            Some(utc(2024, 3, 10, 7, 0))
        );
    }

    #[test]
    fn the_ends_of_the_range_do_not_panic() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let w = Hours::new("09:00", "10:00", &[Weekday::Sun], ny);
        let _ = w.next_allowed(DateTime::<Utc>::MIN_UTC);
        let _ = w.next_allowed(DateTime::<Utc>::MAX_UTC);
    }
}
