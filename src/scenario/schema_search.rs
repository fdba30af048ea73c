//! The scenario's `explore:` and `fuzz:` sections: what the search commands may use for it.

use crate::serde_util::u64_then;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::collections::BTreeSet;

/// `explore:`: the budgets `faultline explore` uses for the scenario unless its flags say
/// otherwise.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExploreSpec {
    pub timers: Option<BudgetCount>,
    pub drops: Option<BudgetCount>,
    pub duplicates: Option<BudgetCount>,
    pub crashes: Option<BudgetCount>,
    pub client_ops: Option<BudgetCount>,
    pub timeouts: Option<BudgetCount>,
}

impl ExploreSpec {
    pub fn budgets(&self) -> super::exhaustive::BudgetsSet {
        let get = |b: &Option<BudgetCount>| b.map(|b| b.0);
        super::exhaustive::BudgetsSet {
            timers_max: get(&self.timers),
            drops_max: get(&self.drops),
            duplicates_max: get(&self.duplicates),
            crashes_max: get(&self.crashes),
            client_ops_max: get(&self.client_ops),
            timeouts_max: get(&self.timeouts),
        }
    }
}

/// One budget of `explore:`, at most [`crate::exhaustive::BUDGET_MAX`].
#[derive(Debug, Clone, Copy)]
pub struct BudgetCount(pub u32);

impl<'de> Deserialize<'de> for BudgetCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use crate::exhaustive::BUDGET_MAX;
        u64_then(d, "a count", |n| match u32::try_from(n) {
            Ok(n) if n <= BUDGET_MAX => Ok(BudgetCount(n)),
            _ => Err(format!("{n} is too many: a budget is at most {BUDGET_MAX}")),
        })
    }
}

/// `fuzz:`: what `faultline fuzz` may draw for the scenario when it has no faults of its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FuzzSpec {
    /// The kinds of fault the random schedule may hold; every kind when absent.
    #[serde(default)]
    pub faults: Option<FaultKinds>,
    /// `swarm` (the default) or `classic`.
    #[serde(default)]
    pub schedule: Option<ScheduleStyle>,
}

/// `fuzz.schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleStyle {
    Classic,
    Swarm,
}

impl FuzzSpec {
    pub fn settings(self) -> crate::faults::FuzzFaults {
        crate::faults::FuzzFaults {
            kinds: self.faults.map(|k| k.0),
            classic: self.schedule == Some(ScheduleStyle::Classic),
            vocabulary: None,
        }
    }
}

/// A list of fault kinds, each at most once; empty for none (only the seed varies).
#[derive(Debug)]
pub struct FaultKinds(pub Vec<crate::faults::FaultKind>);

impl<'de> Deserialize<'de> for FaultKinds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let kinds = Vec::<crate::faults::FaultKind>::deserialize(d)?;
        let distinct: BTreeSet<_> = kinds.iter().collect();
        if distinct.len() != kinds.len() {
            return Err(de::Error::custom("`fuzz.faults` names a kind twice"));
        }
        Ok(FaultKinds(kinds))
    }
}
