//! Coverage over a sweep: how many seeds reached each `sometimes` property, and the failure
//! when one was never reached.

use crate::check::{CheckWhen, Reached};
use std::collections::BTreeMap;

/// Per `sometimes` property, how many seeds of a sweep reached it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Coverage {
    seeds_reached: BTreeMap<String, u64>,
}

impl Coverage {
    /// Counts one seed's `sometimes` properties from its run report's statuses.
    pub(super) fn add_statuses<'a>(&mut self, checks: impl Iterator<Item = (&'a str, &'a str)>) {
        for (name, status) in checks {
            let reached = match status {
                "reached" => 1,
                "not_reached" => 0,
                _ => continue,
            };
            *self.seeds_reached.entry(name.to_string()).or_default() += reached;
        }
    }

    /// Counts one seed's `sometimes` properties from its checker.
    pub(super) fn add_reached(&mut self, reached: &[Reached]) {
        let coverage = reached.iter().filter(|r| r.when == CheckWhen::Sometimes);
        self.add_statuses(coverage.map(|r| (r.name, r.status())));
    }

    /// The first property (by name) no seed reached.
    pub(super) fn never_reached(&self) -> Option<&str> {
        let mut counts = self.seeds_reached.iter();
        counts
            .find(|(_, n)| **n == 0)
            .map(|(name, _)| name.as_str())
    }

    pub(super) fn into_counts(self) -> BTreeMap<String, u64> {
        self.seeds_reached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_reached_by_one_seed_is_covered() {
        let mut coverage = Coverage::default();
        coverage.add_statuses([("deposed", "not_reached"), ("safety", "pass")].into_iter());
        assert_eq!(coverage.never_reached(), Some("deposed"));
        coverage.add_statuses([("deposed", "reached")].into_iter());
        assert_eq!(coverage.never_reached(), None);
        let counts = coverage.into_counts();
        assert_eq!(counts.get("deposed"), Some(&1));
        assert!(
            !counts.contains_key("safety"),
            "only sometimes properties count"
        );
    }
}
