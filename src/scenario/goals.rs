//! `eventually:` — liveness goals: a property that must come to hold within a bound after a
//! point in time (a time, the last fault, or the last heal).

use super::context::inspect;
use super::de::ConditionRef;
use crate::check::Eventually;
use crate::serde_util::map_then;
use crate::time::{SimDuration, SimTime, parse_duration};
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Most goals in one scenario.
const GOALS_MAX: usize = 64;

/// `eventually:` — one goal or a list of them, resolved against the fault schedule on the
/// second pass (empty on the first).
#[derive(Debug, Default)]
pub struct GoalList(pub Vec<Eventually>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalFields {
    condition: ConditionRef,
    within: SimDuration,
    after: String,
}

struct Goal(Option<Eventually>);

impl<'de> Deserialize<'de> for Goal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(
            d,
            "a goal such as { condition: all_delivered, within: 2s, after: heal }",
            resolve,
        )
    }
}

/// Turns `after:` into a time using what the first pass learned of the faults.
fn resolve(f: GoalFields) -> Result<Goal, String> {
    if f.within == SimDuration::ZERO {
        return Err("`within` must be more than 0".into());
    }
    let Some((from, after)) = inspect(|c| after_point(&f.after, c.last_fault_ns, c.last_heal_ns))
    else {
        return Ok(Goal(None));
    };
    let (from, after) = (from?, after);
    let deadline = from + f.within;
    if let Some(end) = inspect(|c| c.duration_ns).filter(|&end| deadline.0 > end) {
        return Err(format!(
            "this goal's deadline, {} after {after}, is {deadline}: after the run ends (duration {})",
            f.within,
            SimDuration(end)
        ));
    }
    Ok(Goal(Some(Eventually {
        condition: f.condition.0,
        from,
        within: f.within,
        after,
    })))
}

fn after_point(
    word: &str,
    last_fault: Option<u64>,
    last_heal: Option<u64>,
) -> (Result<SimTime, String>, String) {
    match word {
        "last_fault" => match last_fault {
            Some(t) => (
                Ok(SimTime(t)),
                format!("the last fault (at {})", SimTime(t)),
            ),
            None => (
                Err("`after: last_fault` needs at least one fault in `faults:`".into()),
                String::new(),
            ),
        },
        "heal" => match last_heal {
            Some(t) => (Ok(SimTime(t)), format!("the last heal (at {})", SimTime(t))),
            None => (
                Err("`after: heal` needs a `heal` fault in `faults:`".into()),
                String::new(),
            ),
        },
        time => match parse_duration(time) {
            // `after: 0s` reads as what it means, not as `after 0ns`.
            Ok(d) if d.0 == 0 => (Ok(SimTime::ZERO), "the start".to_string()),
            Ok(d) => (Ok(SimTime(d.0)), SimTime(d.0).to_string()),
            Err(_) => (
                Err(format!(
                    "`after` is a time such as 3s, `last_fault` or `heal`; not `{time}`"
                )),
                String::new(),
            ),
        },
    }
}

impl<'de> Deserialize<'de> for GoalList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GoalListVisitor)
    }
}

struct GoalListVisitor;

impl<'de> Visitor<'de> for GoalListVisitor {
    type Value = GoalList;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a goal { condition, within, after } or a list of them")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<GoalList, A::Error> {
        let goal = Goal::deserialize(MapAccessDeserializer::new(map))?;
        Ok(GoalList(goal.0.into_iter().collect()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GoalList, A::Error> {
        let mut goals = Vec::new();
        while let Some(goal) = seq.next_element::<Goal>()? {
            if goals.len() >= GOALS_MAX {
                return Err(de::Error::custom(format!("more than {GOALS_MAX} goals")));
            }
            goals.extend(goal.0);
        }
        Ok(GoalList(goals))
    }
}
