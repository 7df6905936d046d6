//! Calendar math for time-based rules, as pure functions of their arguments.
//!
//! - [`instant`]: instants as seconds and nanoseconds, for the computations that run for
//!   every rule of every customer.
//! - [`local`]: wall-clock times in an IANA zone and the daylight-saving rules: a local
//!   time skipped by a change moves forward to the first instant after the gap; a local
//!   time that happens twice is the earlier instant.
//! - [`recurrence`]: schedules (every day, every week on given days, every month on a
//!   day, at a local time); a monthly day past a short month's end falls on its last day.
//! - [`relative`]: due times relative to a date or date-time (a date's day starts at 00:00
//!   local), counted on the local calendar and clock, optionally moved to a local time of
//!   day on the day reached.
//! - [`window`]: allowed windows (quiet hours) and the next allowed instant.

pub(crate) mod instant;
pub(crate) mod local;
pub(crate) mod recurrence;
pub(crate) mod relative;
pub(crate) mod window;

pub(crate) use instant::Ts;
pub(crate) use recurrence::Recurrence;
