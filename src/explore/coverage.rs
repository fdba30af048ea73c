//! Coverage-guided search over fault schedules, one seed after another.
//!
//! A run's coverage is what its protocol did, in words that do not depend on timing: each kind
//! of message sent and each pattern of note written (digits cut off, as triggered faults learn
//! them), each with its count in powers-of-two buckets, and which node wrote which pattern. A
//! candidate whose run shows a feature no earlier run showed joins the corpus. Candidate `i`
//! is either seed `i`'s own draw, as `faultline fuzz` runs it, or a child of a corpus entry
//! that swaps one whole part for seed `i`'s: its timed faults, its triggered faults, or its
//! seed (the network's and the protocol's draws). Parts are whole schedules, so every fault a
//! child holds still has its repair, and a correct protocol meets no more than a random
//! schedule would put to it.
//!
//! Candidate `i` depends on the runs before it. So that a sweep can still run candidates in
//! parallel, and find the same whatever its number of threads, candidates come in batches of
//! [`BATCH`]: a batch is drawn from the corpus as it stood when the batch began
//! ([`CoverageSearch::batch`]), and its runs are observed in candidate order.
//! `faultline fuzz --strategy coverage` ([`super::guided`]) and the bug-finding benchmark
//! (`cargo bench --bench bugfind -- --strategy coverage`) both search this way.

use super::case::{SeedOutcome, seed_scenario};
use super::probe::{Activity, Listener};
use crate::rng::keyed;
use crate::scenario::{RunOptions, Scenario, run};
use rand::Rng;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::hash::Hash;
use std::rc::Rc;

/// Most features one run records; beyond, the run's later features are not counted.
pub const FEATURES_MAX: usize = 4096;
/// Most corpus entries kept: the first ones that showed something new.
pub const CORPUS_MAX: usize = 1024;
/// Candidates drawn from one state of the corpus.
pub const BATCH: usize = 64;
/// Keys the choice of candidate apart from every other draw of a seed.
const COVERAGE_KEY: u64 = 0x636f_7665_7261_6765;

/// The bucket of a count: 1, 2, 3, 4-7, 8-15, and so on by powers of two.
fn bucket(n: u32) -> u32 {
    if n < 4 { n } else { 32 - n.leading_zeros() + 2 }
}

/// A feature's number: the trace's content hash, fixed on every machine and release.
fn feature(part: impl Hash) -> u64 {
    crate::trace::content_hash(&part)
}

/// Runs `s` as [`super::case::check_by`] does, stopped at `deadline` (wall clock) if it
/// runs that long, and returns what its protocol did as well.
pub fn check_covered(
    s: &Scenario,
    deadline: Option<std::time::Instant>,
) -> (SeedOutcome, BTreeSet<u64>) {
    let tally = Rc::new(RefCell::new(Activity::default()));
    let options = RunOptions {
        trace: Some(Box::new(Listener(tally.clone()))),
        deadline,
        ..RunOptions::default()
    };
    let outcome = super::case::outcome(run(s, options));
    let tally = tally.borrow();
    let mut features = BTreeSet::new();
    for (what, counts) in [(0u8, &tally.sent), (1, &tally.notes)] {
        features.extend(
            counts
                .iter()
                .map(|(word, &n)| feature((what, word, bucket(n)))),
        );
    }
    for (node, patterns) in &tally.writers {
        features.extend(patterns.iter().map(|p| feature((2u8, node, p))));
    }
    (outcome, features.into_iter().take(FEATURES_MAX).collect())
}

/// The corpus and the features seen so far.
pub struct CoverageSearch {
    base: Scenario,
    corpus: Vec<Scenario>,
    seen: BTreeSet<u64>,
}

impl CoverageSearch {
    /// A search over `base`, which [`super::prepare`] has readied.
    pub fn new(base: Scenario) -> CoverageSearch {
        CoverageSearch {
            base,
            corpus: Vec::new(),
            seen: BTreeSet::new(),
        }
    }

    /// Candidate `i`: seed `i`'s own draw, or half the time, once the corpus holds anything,
    /// a corpus entry with one part swapped for seed `i`'s.
    pub fn candidate(&self, i: u64) -> Scenario {
        let fresh = seed_scenario(&self.base, i);
        let mut rng = keyed(COVERAGE_KEY, [i]);
        if self.corpus.is_empty() || rng.next_u64() % 2 == 0 {
            return fresh;
        }
        let parent = &self.corpus[(rng.next_u64() % self.corpus.len() as u64) as usize];
        let mut child = parent.clone();
        match rng.next_u64() % 3 {
            0 => child.faults = fresh.faults,
            1 => child.triggers = fresh.triggers,
            _ => child.seed = fresh.seed,
        }
        child
    }

    /// Candidates `ids`, each as [`CoverageSearch::candidate`] draws it from the corpus as it
    /// stands now: one batch.
    pub fn batch(&self, ids: &[u64]) -> Vec<Scenario> {
        ids.iter().map(|&i| self.candidate(i)).collect()
    }

    /// Records what `candidate`'s run covered; it joins the corpus if that was new.
    pub fn observe(&mut self, candidate: Scenario, features: &BTreeSet<u64>) -> bool {
        let new = !features.is_subset(&self.seen);
        if new {
            self.seen.extend(features);
            if self.corpus.len() < CORPUS_MAX {
                self.corpus.push(candidate);
            }
        }
        new
    }

    pub fn corpus_len(&self) -> usize {
        self.corpus.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::protocols::echo::Echo;

    fn base() -> Scenario {
        let mut s = Scenario::new::<Echo>("cov", 3);
        s.duration = crate::time::SimDuration::from_secs(2);
        super::super::prepare(&s)
    }

    #[test]
    fn a_child_swaps_one_whole_part_and_candidates_repeat() {
        let mut search = CoverageSearch::new(base());
        let (_, features) = check_covered(&search.candidate(0), None);
        assert!(
            !features.is_empty(),
            "an echo run sends and so covers something"
        );
        assert!(search.observe(search.candidate(0), &features));
        assert!(
            !search.observe(search.candidate(0), &features),
            "nothing new"
        );
        let parent = search.corpus[0].clone();
        let mut children = 0;
        for i in 1..40 {
            let c = search.candidate(i);
            assert_eq!(c.seed, search.candidate(i).seed, "deterministic");
            let fresh = seed_scenario(&search.base, i);
            if c.seed == fresh.seed && c.faults == fresh.faults && c.triggers == fresh.triggers {
                continue;
            }
            children += 1;
            let from_parent = [
                c.faults == parent.faults,
                c.triggers == parent.triggers,
                c.seed == parent.seed,
            ];
            let from_fresh = [
                c.faults == fresh.faults,
                c.triggers == fresh.triggers,
                c.seed == fresh.seed,
            ];
            // Each part comes whole from the parent or from seed `i`'s draw.
            assert!(
                (0..3).all(|k| from_parent[k] || from_fresh[k]),
                "candidate {i}"
            );
        }
        assert!(children > 5, "{children} children in 39 candidates");
    }

    #[test]
    fn buckets_grow_by_powers_of_two() {
        let b: Vec<u32> = [1, 2, 3, 4, 7, 8, 15, 16, 1000].map(bucket).to_vec();
        assert_eq!(b, vec![1, 2, 3, 5, 5, 6, 6, 7, 12]);
    }
}
