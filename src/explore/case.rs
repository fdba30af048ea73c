//! One seed of a sweep: the scenario it runs, how it ended, and the file a failure becomes.

use crate::faults::RandomFaults;
use crate::scenario::{ExpectSpec, RunError, RunOptions, Scenario, run, to_yaml};
use std::path::{Path, PathBuf};

/// What seed `seed` of any sweep runs, `faultline fuzz` and [`crate::testing::Sweep`] alike:
/// `base` with, when `faults` is given, its scripted faults replaced by a random schedule drawn
/// from the seed (a liveness phase is kept, and the schedule ends before it), then materialised
/// for the seed (its `nemesis:` and `swarm:` drawn into plain faults and network settings):
/// one [`crate::faults::Draw`] of the three. The same seed and configuration always give the same scenario,
/// whichever sweep asks, and a builder sweep with the same [`crate::faults::Draw`] the same faults and
/// network.
///
/// An `eventually:` goal timed from before the random faults end starts when they end: the
/// file timed it for its own faults, and judged in the middle of faults nobody scripted, a
/// correct protocol could fail it.
pub fn draw(base: &Scenario, seed: u64, faults: Option<&RandomFaults>) -> Scenario {
    let mut s = base.draw(seed, faults);
    if let Some(config) = faults {
        // The random faults end by `until`, or by the liveness phase if it begins earlier.
        let phase = s
            .faults
            .iter()
            .filter(|f| f.is_liveness_phase())
            .map(|f| f.at);
        let end = phase.min().map_or(config.until, |at| at.min(config.until));
        for goal in s.eventually.iter_mut().filter(|g| g.from < end) {
            goal.from = end;
            goal.after = format!("the end of the random faults ({end})");
        }
    }
    s
}

/// The random faults `faultline fuzz` draws for `base`: the schedule its `fuzz:` asks for
/// (swarm by default), of the kinds it allows (every kind by default), over the first 70 %
/// of the run and of its clients' window ([`crate::faults::FuzzFaults::schedule`]), for a
/// scenario with no faults of its own (a liveness phase aside) and no `nemesis:`; `None` for
/// one that has them.
pub fn fuzz_faults(base: &Scenario) -> Option<RandomFaults> {
    let scripted = base.faults.iter().any(|f| !f.is_liveness_phase());
    if scripted || !base.triggers.is_empty() || base.nemesis.is_some() {
        return None;
    }
    let clients_until = base.workload.as_ref().map(|w| w.until);
    Some(base.fuzz.schedule(base.duration, clients_until))
}

/// The scenario `faultline fuzz` runs for `seed`: [`draw`] with [`fuzz_faults`], and
/// `expect: pass`, so that any violation, limit or panic fails the seed.
pub fn seed_scenario(base: &Scenario, seed: u64) -> Scenario {
    let mut s = draw(base, seed, fuzz_faults(base).as_ref());
    if let ExpectSpec::Violation(Some(p)) = &base.expect
        && !s.checks.is_empty()
        && !s.checks.contains(p)
    {
        // The expected property was checked because it was expected; keep checking it.
        s.checks.push(p.clone());
    }
    s.expect = ExpectSpec::Pass;
    s
}

/// How a sweep searches beyond the seed's own draws (`faultline fuzz --strategy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Each seed runs [`seed_scenario`]: the swarm schedule and triggered faults it draws.
    #[default]
    Random,
    /// As `Random`, and deliveries ordered PCT-style ([`crate::net::Pct`]) with a depth of 1
    /// to [`PCT_DEPTH_FUZZ_MAX`] drawn from the seed, over the whole run; a scenario with a
    /// `pct:` of its own keeps it.
    Pct,
    /// Coverage-guided ([`super::coverage`]): candidate `i` is seed `i`'s `Random` draw, or a
    /// run that showed something new with one part swapped for seed `i`'s. Candidates depend
    /// on the runs before them, so a sweep cannot be sharded or resumed
    /// ([`super::guided`]); on its own, [`strategy_scenario`] gives the `Random` draw.
    Coverage,
}

/// The deepest PCT ordering the `pct` strategy draws: most bugs that hang on an order hang
/// on two or three events.
pub const PCT_DEPTH_FUZZ_MAX: u32 = 3;
/// Keys the `pct` strategy's draw of a depth; fixed, since changing it changes every seed.
const PCT_DEPTH_WORD: u64 = 3;

/// What seed `seed` runs under `strategy`: [`seed_scenario`], then the strategy's part (none
/// for `Random`, and for `Coverage`, whose candidates also depend on the runs before).
pub fn strategy_scenario(base: &Scenario, seed: u64, strategy: Strategy) -> Scenario {
    let mut s = seed_scenario(base, seed);
    if strategy == Strategy::Pct && s.pct.is_none() {
        use rand::Rng;
        // Mixed with a word of its own, apart from the order the same stream then draws.
        let key = crate::rng::stream_key(seed, crate::rng::Stream::Priorities);
        let word = crate::rng::keyed(key, [PCT_DEPTH_WORD]).next_u64();
        s.pct = Some(crate::net::Pct {
            depth: 1 + (word % u64::from(PCT_DEPTH_FUZZ_MAX)) as u32,
            span: s.duration,
        });
    }
    s
}

/// How a failing seed failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The violated property, or `panic`, `limit`, `unknown` or `error`.
    pub property: String,
    /// In words, for the report and the file's header.
    pub message: String,
}

/// How one seed's run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Passed,
    Failed(Finding),
    /// Stopped by its wall-clock deadline before a verdict: neither passed nor failed.
    TimedOut,
}

/// Runs one seed's scenario; `None` when it passed.
pub fn check(s: &Scenario) -> Option<Finding> {
    match check_by(s, None) {
        SeedOutcome::Failed(finding) => Some(finding),
        SeedOutcome::Passed | SeedOutcome::TimedOut => None,
    }
}

/// Runs one seed's scenario, stopping it at `deadline` (wall clock) if it runs that long.
pub fn check_by(s: &Scenario, deadline: Option<std::time::Instant>) -> SeedOutcome {
    let options = RunOptions {
        deadline,
        ..RunOptions::default()
    };
    outcome(run(s, options))
}

/// How a seed's run ended, from what [`run`] returned.
pub(crate) fn outcome(result: Result<crate::scenario::RunReport, RunError>) -> SeedOutcome {
    let finding = match result {
        Ok(r) if r.expectation_met => return SeedOutcome::Passed,
        Ok(r) => match (r.violations.first(), &r.limit) {
            (Some(v), _) => Finding {
                property: v.property.to_string(),
                message: format!("{} violated at {}", v.property, v.time),
            },
            (None, Some(limit)) => Finding {
                property: "limit".into(),
                message: limit.clone(),
            },
            (None, None) => Finding {
                property: "unknown".into(),
                message: "a check gave no verdict".into(),
            },
        },
        Err(RunError::TimedOut { .. }) => return SeedOutcome::TimedOut,
        Err(e @ RunError::Panic { .. }) => Finding {
            property: "panic".into(),
            message: e.to_string(),
        },
        Err(e) => Finding {
            property: "error".into(),
            message: e.to_string(),
        },
    };
    SeedOutcome::Failed(finding)
}

/// Writes `DIR/<property>/seed-<N>.yaml` atomically (a temporary file, then a rename) and
/// returns its path. `source` names the fuzzed file in the header.
pub fn write_finding(
    dir: &Path,
    s: &Scenario,
    finding: &Finding,
    source: &str,
) -> std::io::Result<PathBuf> {
    let found = format!("`faultline fuzz {source}` with seed {}", s.seed);
    write_named(dir, s, finding, &format!("seed-{}", s.seed), &found)
}

/// Writes candidate `index` of a coverage-guided sweep as `DIR/<property>/candidate-<N>.yaml`,
/// as [`write_finding`] writes a seed: two candidates may run the same seed.
pub fn write_candidate(
    dir: &Path,
    s: &Scenario,
    finding: &Finding,
    source: &str,
    index: u64,
) -> std::io::Result<PathBuf> {
    let found = format!(
        "`faultline fuzz {source} --strategy coverage` as candidate {index} (seed {})",
        s.seed
    );
    write_named(dir, s, finding, &format!("candidate-{index}"), &found)
}

fn write_named(
    dir: &Path,
    s: &Scenario,
    finding: &Finding,
    stem: &str,
    found: &str,
) -> std::io::Result<PathBuf> {
    let property: String = finding
        .property
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let sub = dir.join(property);
    std::fs::create_dir_all(&sub)?;
    let path = sub.join(format!("{stem}.yaml"));
    let header = format!(
        "# Found by {found}: {}\n\
         # Replay: faultline run {}\n",
        finding.message.replace('\n', " "),
        path.display()
    );
    write_trace(&sub, s, stem)?;
    let tmp = sub.join(format!(".{stem}.yaml.tmp"));
    std::fs::write(&tmp, format!("{header}{}", to_yaml(s)))?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Runs the failing seed once more with a trace sink and writes `<stem>.trace.jsonl` beside
/// the scenario, atomically, before the scenario itself: a scenario file present means its
/// trace is too. A run that panics still leaves the events up to the panic.
fn write_trace(sub: &Path, s: &Scenario, stem: &str) -> std::io::Result<()> {
    let tmp = sub.join(format!(".{stem}.trace.jsonl.tmp"));
    let file = std::fs::File::create(&tmp)?;
    let sink = crate::trace::JsonlSink::new(file, s.node_names.clone());
    let options = RunOptions {
        trace: Some(Box::new(sink)),
        ..RunOptions::default()
    };
    // The verdict is known already; only the trace it leaves is wanted.
    let _ = run(s, options);
    std::fs::rename(&tmp, sub.join(format!("{stem}.trace.jsonl")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin::parse;
    use crate::time::SimTime;

    #[test]
    fn a_plain_scenario_gets_faults_from_the_seed_and_expects_a_pass() {
        let text = "name: t\nprotocol: echo\nnodes: 3\nduration: 10s\n\
                    expect: { violation: all_answered }\nchecks: [exactly_once]\n";
        let base = parse(text, "t.yaml").unwrap();
        let (a, b) = (seed_scenario(&base, 4), seed_scenario(&base, 5));
        assert_eq!((a.seed, &a.expect), (4, &ExpectSpec::Pass));
        assert!(a.checks.contains(&"all_answered".to_string()));
        assert!(!a.faults.is_empty() && a.faults != b.faults);
        assert!(a.faults.iter().all(|f| f.at <= SimTime::from_secs(7)));
        assert_eq!(seed_scenario(&base, 4).faults, a.faults);
        let back = parse(&to_yaml(&a), "back.yaml").unwrap();
        assert_eq!(back.faults, a.faults);
    }

    #[test]
    fn goals_timed_before_the_random_faults_end_start_when_they_end() {
        let text = "name: g\nprotocol: broadcast\nnodes: 3\nduration: 10s\n\
                    eventually: { condition: all_delivered, within: 2s, after: 1s }\n";
        let base = parse(text, "g.yaml").unwrap();
        assert_eq!(base.eventually[0].from, SimTime::from_secs(1));
        let s = seed_scenario(&base, 3);
        assert_eq!(s.eventually[0].from, SimTime::from_secs(7));
        assert_eq!(s.eventually[0].within, base.eventually[0].within);
        let back = parse(&to_yaml(&s), "back.yaml").unwrap();
        assert_eq!(back.eventually[0].deadline(), SimTime::from_secs(9));
    }
}
