//! Decay: behaviour points fading while the customer is inactive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::value::Number;

/// How earned behaviour points fade while a customer is inactive, computed from `now` and
/// the customer's last activity (the latest event of a kind the model listens to), so that
/// a score read at any time is right without anyone saving it again.
///
/// Decay applies to the sum of the points of the adjustments with positive points that
/// apply at `now`: interest fades. Penalties (negative points) keep their full weight
/// until their window passes, so that a customer does not win points back by going
/// silent after a complaint; grade steps and tags do not decay either (they lapse with
/// their window). With `idle = now - last activity` (0 when the last activity is at or
/// after `now`):
///
/// - `half_life`: points × 2^(−idle / half_life);
/// - `linear`: points − `points` for every whole `every` of idleness, down to 0.
///
/// JSON: `{"type": "half_life", "half_life": "14d"}` or
/// `{"type": "linear", "points": 5, "every": "7d"}`.
///
/// ```
/// use crm_rules::scoring::Decay;
/// use crm_rules::Duration;
/// let d: Decay = serde_json::from_str(r#"{"type": "linear", "points": 5, "every": "7d"}"#)?;
/// assert_eq!(d, Decay::Linear { points: 5.into(), every: Duration::days(7).ok_or("range")? });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decay {
    /// Points halve with every `half_life` of inactivity.
    HalfLife {
        /// The time in which points halve; longer than 0.
        half_life: Duration,
    },
    /// Points shrink by a fixed amount per whole period of inactivity.
    Linear {
        /// The points taken off per period (more than 0, at most 100).
        points: Number,
        /// The period; longer than 0.
        every: Duration,
    },
}

/// A checked decay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum CompiledDecay {
    HalfLife { seconds: f64 },
    Linear { points: f64, every: i64 },
}

impl CompiledDecay {
    /// The earned points left after the customer was idle since `since`.
    #[inline]
    pub fn apply(self, points: f64, since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> f64 {
        let Some(since) = since else {
            return points;
        };
        if points == 0.0 {
            return points;
        }
        let idle = (now - since).num_seconds().max(0);
        if idle == 0 {
            return points;
        }
        match self {
            CompiledDecay::HalfLife { seconds } => points * (-(idle as f64) / seconds).exp2(),
            CompiledDecay::Linear { points: per, every } => {
                let periods = (idle / every.max(1)) as f64;
                let left = (points.abs() - per * periods).max(0.0);
                left.copysign(points)
            }
        }
    }
}
