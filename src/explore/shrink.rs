//! Shrinking a failing scenario: fewer faults, a shorter run, a lighter workload and a kinder
//! network, and fewer nodes, as long as the same property still fails. The steps repeat until
//! a round of them changes nothing, so a shrunk scenario shrinks no further.
//!
//! Every candidate is written with [`to_yaml`] and parsed back before it runs, so a candidate
//! that would not make a valid file is never accepted, and the scenario written at the end is
//! exactly the one that was last seen failing. Everything is deterministic: the same input
//! shrinks to the same file.

use super::reduce::{ddmin, lower_probability};
use crate::engine::Limits;
use crate::faults::TimedFault;
use crate::scenario::{RunError, RunOptions, RunReport, Scenario, parse, run, to_yaml};
use crate::time::{SimDuration, SimTime};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Most candidate runs over the whole shrink.
pub const CANDIDATES_MAX: usize = 2_000;
/// Most candidate runs spent on delta debugging the fault list.
pub const DDMIN_RUNS_MAX: usize = 1_000;
/// Most steps of the binary search on `duration` (and on the workload's `until`).
pub const TIME_STEPS_MAX: usize = 40;
/// Most halvings of the workload's clients or rate.
pub const HALVINGS_MAX: usize = 16;
/// Most halvings of a drop or duplicate probability that cannot go to 0.
pub const PROBABILITY_STEPS_MAX: usize = 8;
/// Most nodes removed.
pub const NODE_REMOVALS_MAX: usize = 16;
/// Most rounds of all the steps: a later step (a shorter run, fewer nodes, a kinder network)
/// can leave an earlier one (a fault, a node) more to remove.
pub const ROUNDS_MAX: usize = 4;
/// Lowest workload rate tried, in operations per second.
pub const RATE_MIN_PER_S: f64 = 1.0;

/// The size of a scenario and of its run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Size {
    /// Scripted faults, triggered ones included (a liveness phase not counted).
    pub faults: usize,
    /// Events processed; `None` when the run panicked.
    pub events: Option<u64>,
    /// Messages sent; `None` when the run panicked.
    pub messages_sent: Option<u64>,
    pub duration_ns: u64,
    pub duration: String,
}

/// What a shrink did.
#[derive(Clone, Debug, Serialize)]
pub struct ShrinkReport {
    pub file: String,
    pub out: String,
    /// The property that failed in the original run and still fails: a property name, or
    /// `panic`, `limit` or `unknown`.
    pub property: String,
    pub before: Size,
    pub after: Size,
    /// Candidate runs, the original one included.
    pub runs: usize,
}

/// Why a scenario could not be shrunk.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    /// The scenario's run meets its expectation: there is nothing to shrink.
    #[error(
        "{0}: the scenario does not fail (its run meets `expect:`), so there is nothing to shrink"
    )]
    DoesNotFail(String),
    #[error("{file}: cannot run the scenario: {error}")]
    Run { file: String, error: String },
    #[error("{path}: cannot write the shrunk scenario: {error}")]
    Write { path: String, error: std::io::Error },
}

/// The default output path: `FILE` with `.min.yaml` instead of `.yaml`.
pub fn default_out(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(&name);
    file.with_file_name(format!("{stem}.min.yaml"))
}

/// How one run failed, for comparison with the original's failure.
enum Run {
    Report(Box<RunReport>),
    Panic,
}

impl Run {
    fn size(&self, s: &Scenario) -> Size {
        let (events, messages_sent) = match self {
            Run::Report(r) => (Some(r.stats.events), Some(r.stats.sent)),
            Run::Panic => (None, None),
        };
        Size {
            faults: scripted(s),
            events,
            messages_sent,
            duration_ns: s.duration.0,
            duration: s.duration.to_string(),
        }
    }
}

fn scripted(s: &Scenario) -> usize {
    s.faults.iter().filter(|f| !f.is_liveness_phase()).count() + s.triggers.len()
}

fn execute(s: &Scenario) -> Result<Run, String> {
    match run(s, RunOptions::default()) {
        Ok(r) => Ok(Run::Report(Box::new(r))),
        Err(RunError::Panic { .. }) => Ok(Run::Panic),
        Err(e) => Err(e.to_string()),
    }
}

/// The failing property of a run, or `None` when it met its expectation.
fn failing_property(r: &Run) -> Option<String> {
    match r {
        Run::Panic => Some("panic".into()),
        Run::Report(r) if r.expectation_met => None,
        Run::Report(r) => Some(match (r.violations.first(), &r.limit) {
            (Some(v), _) => v.property.to_string(),
            (None, Some(_)) => "limit".into(),
            (None, None) => "unknown".into(),
        }),
    }
}

/// Whether a run still fails with `property`.
fn fails_with(r: &Run, property: &str) -> bool {
    match (r, property) {
        (Run::Panic, p) => p == "panic",
        (Run::Report(r), _) if r.expectation_met => false,
        (Run::Report(r), "limit") => r.limit.is_some(),
        (Run::Report(r), "unknown") => r.violations.is_empty() && r.limit.is_none(),
        (Run::Report(r), p) => r.violations.iter().any(|v| v.property == p),
    }
}

struct Shrinker {
    property: String,
    file: String,
    runs: usize,
    current: Scenario,
    last: Run,
}

impl Shrinker {
    /// Tries a candidate: when it is a valid file and still fails, it becomes the current one.
    fn attempt(&mut self, candidate: &Scenario) -> bool {
        if self.runs >= CANDIDATES_MAX {
            return false;
        }
        let protocols = std::slice::from_ref(&candidate.entry);
        let Ok(back) = parse(protocols, &to_yaml(candidate), &self.file) else {
            return false;
        };
        self.runs += 1;
        match execute(&back) {
            Ok(r) if fails_with(&r, &self.property) => {
                self.current = back;
                self.last = r;
                true
            }
            _ => false,
        }
    }

    /// Delta debugging (ddmin) over the scripted faults; a liveness phase stays.
    fn faults(&mut self) {
        let items: Vec<TimedFault> = self
            .current
            .faults
            .iter()
            .filter(|f| !f.is_liveness_phase())
            .cloned()
            .collect();
        let with = |base: &Scenario, keep: &[TimedFault]| {
            let mut s = base.clone();
            let phase = base
                .faults
                .iter()
                .filter(|f| f.is_liveness_phase())
                .cloned();
            s.faults = keep.to_vec();
            s.faults.extend(phase);
            s
        };
        ddmin(
            self,
            items,
            |s| s.runs,
            |s, keep| {
                let candidate = with(&s.current, keep);
                s.attempt(&candidate)
            },
        );
    }

    /// Delta debugging over the triggered faults.
    fn triggers(&mut self) {
        let items = self.current.triggers.clone();
        ddmin(
            self,
            items,
            |s| s.runs,
            |s, keep| {
                let mut candidate = s.current.clone();
                candidate.triggers = keep.to_vec();
                s.attempt(&candidate)
            },
        );
    }

    /// Binary search for the shortest `duration` that still fails, no shorter than any goal's
    /// deadline (a liveness phase's included).
    fn duration(&mut self) {
        let floor = self
            .current
            .eventually
            .iter()
            .map(|g| g.deadline().0)
            .max()
            .unwrap_or(0);
        const MS: u64 = 1_000_000;
        let mut lo = floor.div_ceil(MS).max(1);
        let mut hi = self.current.duration.0 / MS;
        let mut steps = 0;
        while lo < hi && steps < TIME_STEPS_MAX {
            steps += 1;
            let mid = lo + (hi - lo) / 2;
            let candidate = with_duration(&self.current, SimDuration::from_millis(mid));
            if self.attempt(&candidate) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
    }

    /// Fewer clients, a lower rate, an earlier `until`.
    fn workload(&mut self) {
        let Some(w) = self.current.workload.clone() else {
            return;
        };
        let mut clients = w.clients;
        for _ in 0..HALVINGS_MAX {
            if clients <= 1 {
                break;
            }
            clients /= 2;
            let mut s = self.current.clone();
            s.workload.as_mut().expect("has a workload").clients = clients.max(1);
            if let Some(t) = &mut s.topology
                && !t.clients.is_empty()
            {
                t.keep_clients(clients.max(1));
            }
            if !self.attempt(&s) {
                break;
            }
        }
        for _ in 0..HALVINGS_MAX {
            let rate = self.current.workload.as_ref().map_or(0.0, |w| w.rate_per_s);
            if rate <= RATE_MIN_PER_S {
                break;
            }
            let mut s = self.current.clone();
            s.workload.as_mut().expect("has a workload").rate_per_s =
                (rate / 2.0).max(RATE_MIN_PER_S);
            if !self.attempt(&s) {
                break;
            }
        }
        const MS: u64 = 1_000_000;
        let mut lo = 1;
        let mut hi = self.current.workload.as_ref().map_or(0, |w| w.until.0 / MS);
        let mut steps = 0;
        while lo < hi && steps < TIME_STEPS_MAX {
            steps += 1;
            let mid = lo + (hi - lo) / 2;
            let mut s = self.current.clone();
            s.workload.as_mut().expect("has a workload").until = SimTime::from_millis(mid);
            if self.attempt(&s) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
    }

    /// Lower drop and duplicate probabilities of the default link: to 0, else by halves.
    fn network(&mut self) {
        let drop = self.current.network.default.drop;
        lower_probability(self, drop, |s, p| {
            let mut c = s.current.clone();
            c.network.default.drop = p;
            s.attempt(&c)
        });
        let duplicate = self.current.network.default.duplicate;
        lower_probability(self, duplicate, |s, p| {
            let mut c = s.current.clone();
            c.network.default.duplicate = p;
            s.attempt(&c)
        });
    }

    /// Fewer nodes: the last one goes while no fault or link override names it, the file
    /// stays valid for the protocol, and the same property still fails. Not for panics, which
    /// a protocol run on too few nodes could raise for another reason.
    fn nodes(&mut self) {
        if self.property == "panic" {
            return;
        }
        for _ in 0..NODE_REMOVALS_MAX {
            let n = self.current.node_names.len();
            if n <= 1 {
                return;
            }
            let last = crate::process::NodeId((n - 1) as u32);
            let named = self
                .current
                .faults
                .iter()
                .any(|f| f.fault.nodes().contains(&last))
                || self.current.triggers.iter().any(|t| t.names(last))
                || self
                    .current
                    .network
                    .links
                    .keys()
                    .any(|&(from, to)| from == last || to == last);
            if named {
                return;
            }
            let mut s = self.current.clone();
            s.node_names.pop();
            if let Some(t) = &mut s.topology
                && !t.remove_node(last)
            {
                return;
            }
            if !self.attempt(&s) {
                return;
            }
        }
    }
}

fn with_duration(s: &Scenario, d: SimDuration) -> Scenario {
    let mut c = s.clone();
    if c.limits.max_time == SimTime(s.duration.0) {
        c.limits.max_time = SimTime(d.0).max(Limits::default().max_time);
    }
    c.duration = d;
    c
}

/// Shrinks `original` (read from `file`) and writes the result to `out` atomically.
pub fn shrink(original: &Scenario, file: &str, out: &Path) -> Result<ShrinkReport, ShrinkError> {
    let start = original.materialize(original.seed);
    let run_error = |error: String| ShrinkError::Run {
        file: file.to_string(),
        error,
    };
    let first = execute(&start).map_err(run_error)?;
    let property = failing_property(&first).ok_or_else(|| ShrinkError::DoesNotFail(file.into()))?;
    let before = first.size(&start);
    let mut s = Shrinker {
        property,
        file: file.to_string(),
        runs: 1,
        current: start.clone(),
        last: first,
    };
    for _ in 0..ROUNDS_MAX {
        let before_round = to_yaml(&s.current);
        s.faults();
        s.triggers();
        s.duration();
        s.workload();
        s.network();
        s.nodes();
        if to_yaml(&s.current) == before_round || s.runs >= CANDIDATES_MAX {
            break;
        }
    }
    let after = s.last.size(&s.current);
    let out_name = out.display().to_string();
    let header = format!(
        "# Shrunk by `faultline shrink` from {file}: {} still fails\n\
         # Before: {}; after: {}\n\
         # Replay: faultline run {out_name}\n",
        s.property,
        describe(&before),
        describe(&after),
    );
    write_atomically(out, &format!("{header}{}", to_yaml(&s.current))).map_err(|error| {
        ShrinkError::Write {
            path: out_name.clone(),
            error,
        }
    })?;
    Ok(ShrinkReport {
        file: file.to_string(),
        out: out_name,
        property: s.property,
        before,
        after,
        runs: s.runs,
    })
}

fn describe(z: &Size) -> String {
    let n = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    format!(
        "{} faults, {} events, {} messages sent, duration {}",
        z.faults,
        n(z.events),
        n(z.messages_sent),
        z.duration
    )
}

/// Writes `text` to `path` through a temporary file beside it, so that a reader never sees
/// half a file.
pub(crate) fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "shrunk.yaml".into());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// The report in words.
pub fn text(r: &ShrinkReport) -> String {
    format!(
        "shrunk {} ({} still fails) in {} runs\n  before: {}\n  after:  {}\nwrote {}\n",
        r.file,
        r.property,
        r.runs,
        describe(&r.before),
        describe(&r.after),
        r.out
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_output_replaces_yaml_with_min_yaml() {
        assert_eq!(
            default_out(Path::new("out/all_delivered/seed-3.yaml")),
            PathBuf::from("out/all_delivered/seed-3.min.yaml")
        );
        assert_eq!(default_out(Path::new("x")), PathBuf::from("x.min.yaml"));
    }
}
