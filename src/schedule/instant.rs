//! Instants as whole seconds and nanoseconds since 1970: compared and shifted without
//! calendar arithmetic, for computations that run for every rule of every customer.

use chrono::{DateTime, Utc};

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

    #[inline]
    pub fn of(t: DateTime<Utc>) -> Ts {
        Ts::new(t.timestamp(), t.timestamp_subsec_nanos())
    }

    pub fn secs(self) -> i64 {
        self.secs
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
    pub fn to_date_time(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.secs, self.nanos)
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
}
