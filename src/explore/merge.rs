//! `faultline merge`: the JSON reports of the shards of one sweep combined into one.

use super::fuzz::FuzzReport;

/// Why shard reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("the reports are of different scenarios: `{0}` and `{1}`")]
    Scenarios(String, String),
    /// Two reports hold the same seed: merged, it would count twice. `first` and `second` are
    /// indices into the reports, `first < second`.
    #[error(
        "reports {} and {} both hold seed {seed}{how}: each seed must come from one shard",
        first + 1,
        second + 1
    )]
    Overlap {
        first: usize,
        second: usize,
        seed: u64,
        /// How each planned it, e.g. ` (seeds 0..100 and seeds 0..100 shard 1/2)`, or empty
        /// when the overlap is a seed failing in both.
        how: String,
    },
}

/// Combines the reports of the shards of one sweep: seeds planned, run and resumed summed;
/// failures concatenated and sorted by seed; the wall time is the longest (shards run side by
/// side) and `seeds_per_second` is the sum of the shards' rates, the throughput of all shards
/// together; `stopped_early` lists each shard that stopped early. Reports whose seeds overlap
/// (the same shard twice, or seed sets that share a seed) are refused: their seeds would be
/// counted twice.
pub fn merge(reports: &[FuzzReport]) -> Result<FuzzReport, MergeError> {
    let first = reports.first().ok_or(MergeError::Empty)?;
    if let Some(r) = reports.iter().find(|r| r.scenario != first.scenario) {
        return Err(MergeError::Scenarios(
            first.scenario.clone(),
            r.scenario.clone(),
        ));
    }
    check_disjoint(reports)?;
    let mut out = FuzzReport {
        scenario: first.scenario.clone(),
        seeds_planned: 0,
        seeds_run: 0,
        seeds_resumed: 0,
        failures: Vec::new(),
        wall_time_s: 0.0,
        seeds_per_second: 0.0,
        stopped_early: None,
        timeouts: Vec::new(),
        seed_sets: Vec::new(),
        seeds: Vec::new(),
    };
    let mut stopped = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        out.seeds_planned += r.seeds_planned;
        out.seeds_run += r.seeds_run;
        out.seeds_resumed += r.seeds_resumed;
        out.failures.extend(r.failures.iter().cloned());
        out.wall_time_s = out.wall_time_s.max(r.wall_time_s);
        out.seeds_per_second += r.seeds_per_second;
        out.seed_sets.extend_from_slice(&r.seed_sets);
        out.seeds.extend_from_slice(&r.seeds);
        out.timeouts.extend_from_slice(&r.timeouts);
        if let Some(why) = &r.stopped_early {
            stopped.push(format!("report {}: {why}", i + 1));
        }
    }
    out.failures
        .sort_by(|a, b| (a.seed, &a.property).cmp(&(b.seed, &b.property)));
    out.seeds.sort_unstable();
    out.timeouts.sort_unstable();
    if !stopped.is_empty() {
        out.stopped_early = Some(stopped.join("; "));
    }
    Ok(out)
}

/// Refuses two reports that planned a common seed or that both report a failure of one seed
/// (which also catches reports written before they recorded their seed sets).
fn check_disjoint(reports: &[FuzzReport]) -> Result<(), MergeError> {
    for (second, b) in reports.iter().enumerate() {
        for (first, a) in reports[..second].iter().enumerate() {
            for sa in &a.seed_sets {
                for sb in &b.seed_sets {
                    if let Some(seed) = sa.first_common(sb) {
                        return Err(MergeError::Overlap {
                            first,
                            second,
                            seed,
                            how: format!(" ({sa} and {sb})"),
                        });
                    }
                }
            }
            let failed: std::collections::BTreeSet<u64> =
                a.failures.iter().map(|f| f.seed).collect();
            if let Some(f) = b.failures.iter().find(|f| failed.contains(&f.seed)) {
                return Err(MergeError::Overlap {
                    first,
                    second,
                    seed: f.seed,
                    how: String::new(),
                });
            }
        }
    }
    Ok(())
}
