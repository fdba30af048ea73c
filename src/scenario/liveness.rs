//! `liveness:` — a phase in the style of TigerBeetle's liveness mode: from `at` on, faults
//! stop on a healthy core, and the protocol must converge within a bound.
//!
//! ```yaml
//! liveness: { at: 8s, core: majority, within: 3s, conditions: [all_delivered] }
//! ```

use super::context::inspect;
use super::de::ConditionRef;
use crate::check::Eventually;
use crate::faults::{Fault, TimedFault};
use crate::serde_util::map_then;
use crate::time::{SimDuration, SimTime};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LivenessFields {
    at: SimTime,
    within: SimDuration,
    #[serde(default)]
    core: Option<CoreWord>,
    #[serde(default)]
    conditions: Option<Vec<ConditionRef>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum CoreWord {
    All,
    Majority,
}

/// `liveness:` as validated: the fault that starts the phase and the goals that must follow.
#[derive(Debug, Clone)]
pub struct LivenessSpec {
    pub at: SimTime,
    pub within: SimDuration,
    pub majority: bool,
    /// Property names; empty means every end-of-run property of the protocol.
    pub conditions: Vec<String>,
}

impl<'de> Deserialize<'de> for LivenessSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(
            d,
            "a liveness phase such as { at: 8s, within: 3s, core: majority }",
            convert,
        )
    }
}

fn convert(f: LivenessFields) -> Result<LivenessSpec, String> {
    if f.within == SimDuration::ZERO {
        return Err("`within` must be more than 0".into());
    }
    let deadline = f.at + f.within;
    if let Some(end) = inspect(|c| c.duration_ns).filter(|&end| deadline.0 > end) {
        return Err(format!(
            "the liveness phase starts at {} and must converge by {deadline}, after the run \
             ends (duration {}); lengthen `duration` or shorten `within`",
            f.at,
            SimDuration(end)
        ));
    }
    Ok(LivenessSpec {
        at: f.at,
        within: f.within,
        majority: f.core == Some(CoreWord::Majority),
        conditions: f
            .conditions
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.0)
            .collect(),
    })
}

impl LivenessSpec {
    /// The fault that starts the phase.
    pub fn fault(&self) -> TimedFault {
        TimedFault {
            at: self.at,
            fault: Fault::Stabilize {
                majority: self.majority,
            },
        }
    }

    /// One goal per condition; `default` names the conditions when the scenario gave none.
    pub fn goals(&self, default: &[&str]) -> Vec<Eventually> {
        let names: Vec<String> = if self.conditions.is_empty() {
            default.iter().map(|s| s.to_string()).collect()
        } else {
            self.conditions.clone()
        };
        let core = if self.majority {
            "a majority"
        } else {
            "all nodes"
        };
        names
            .into_iter()
            .map(|condition| Eventually {
                condition,
                from: self.at,
                within: self.within,
                after: format!("the liveness phase began on {core} (at {})", self.at),
            })
            .collect()
    }
}
