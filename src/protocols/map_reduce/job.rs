//! The job: its input, a pure function of the parameters, and how words are split among the
//! reduce tasks.
//!
//! Every node derives the same input from the same parameters, so no input is shipped over
//! the network; the checker derives it too, on its own, to know what the output must be.
//!
//! ```
//! use faultline::protocols::map_reduce::Params;
//! use faultline::protocols::map_reduce::job::Job;
//!
//! let job = Job::from_params(&Params::default());
//! // What map task 0 writes: one list of word counts per reduce task.
//! let output = job.map_output(0);
//! assert_eq!(output.len(), 4);
//! let records: u64 = output.iter().flatten().map(|&(_, count)| count).sum();
//! assert_eq!(records, 100);
//! // Word number i is counted by reduce task i mod 4.
//! assert!(output[1].iter().all(|&(word, _)| word % 4 == 1));
//! assert_eq!(Job::word_name(0), "apple");
//! ```

use super::Params;
use crate::time::SimDuration;

/// The words input records are drawn from; `vocabulary` picks how many of them a job uses.
pub const WORDS: [&str; 32] = [
    "apple", "brook", "cedar", "delta", "ember", "fjord", "grove", "heron", "iris", "juniper",
    "kestrel", "lichen", "maple", "nectar", "otter", "pebble", "quartz", "raven", "sorrel",
    "thistle", "umber", "violet", "willow", "xenon", "yarrow", "zephyr", "amber", "basil",
    "clover", "dune", "elm", "fern",
];

/// Word counts, `(word, count)` in word order, without zero counts.
pub type Counts = Vec<(u32, u64)>;

/// The shape of the job, the same at every node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Job {
    pub splits: u32,
    pub records_per_split: u32,
    pub reduce_tasks: u32,
    pub vocabulary: u32,
    /// Simulated work per record a task reads.
    pub record_time: SimDuration,
}

/// A fixed mix of 64 bits (SplitMix64's finaliser): the input must not depend on any seed.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Job {
    pub fn from_params(params: &Params) -> Job {
        Job {
            splits: params.splits,
            records_per_split: params.records_per_split,
            reduce_tasks: params.reduce_tasks,
            vocabulary: params.vocabulary,
            record_time: params.record_time,
        }
    }

    /// The word of record `record` of split `split`. Squaring a uniform draw skews the
    /// words, so that reduce tasks differ in size as they do on real text.
    pub fn word(&self, split: u32, record: u32) -> u32 {
        let draw = mix((u64::from(split) << 32) | u64::from(record)) >> 32;
        let skewed = (draw * draw) >> 32;
        ((skewed * u64::from(self.vocabulary)) >> 32) as u32
    }

    /// The reduce task that counts `word`.
    pub fn reduce_of(&self, word: u32) -> u32 {
        word % self.reduce_tasks
    }

    /// What a map task writes for split `split`: its word counts, one list per reduce task.
    pub fn map_output(&self, split: u32) -> Vec<Counts> {
        let mut counts = vec![0u64; self.vocabulary as usize];
        for record in 0..self.records_per_split {
            counts[self.word(split, record) as usize] += 1;
        }
        let mut out = vec![Vec::new(); self.reduce_tasks as usize];
        for (word, &count) in (0..).zip(&counts) {
            if count > 0 {
                out[self.reduce_of(word) as usize].push((word, count));
            }
        }
        out
    }

    /// How long a map task works: it reads every record of its split.
    pub fn map_time(&self) -> SimDuration {
        SimDuration(self.record_time.0 * u64::from(self.records_per_split))
    }

    /// How long a reduce task works once it holds its input: one unit per record it counts.
    pub fn reduce_time(&self, records: u64) -> SimDuration {
        SimDuration(self.record_time.0.saturating_mul(records))
    }

    /// The name of word `word`.
    pub fn word_name(word: u32) -> &'static str {
        WORDS.get(word as usize).copied().unwrap_or("?")
    }
}

/// Sums lists of counts into one list in word order.
pub fn sum_counts<'a>(parts: impl IntoIterator<Item = &'a Counts>) -> Counts {
    let mut sum = std::collections::BTreeMap::new();
    for part in parts {
        for &(word, count) in part {
            *sum.entry(word).or_insert(0u64) += count;
        }
    }
    sum.into_iter().collect()
}
