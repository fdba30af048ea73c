//! Grading: a suite of parts, each a scenario run on seeds, worth points when every seed
//! passes.
//!
//! A part's points are all or nothing: on every seed, the scenario (with `seed:` replaced)
//! must meet its `expect:`, and the part's requirements: the share of client operations that
//! end `ok` (`ok_min`), and the messages the nodes send one another (`messages_max`). The
//! first seed that fails loses the part, and says why: the property, its message, the
//! explanation of the run, and the command that replays it. The same submission gets the same
//! grade on any machine: runs depend on their seed alone.
//!
//! An instructor grades on seeds the students never saw by giving them instead of the
//! suite's own ([`parse_seeds`]: from a file, or the `FAULTLINE_GRADE_SEEDS` variable).
//!
//! ```
//! use faultline::grade::{Suite, grade};
//! use faultline::Registry;
//! use std::path::Path;
//!
//! let suite = Suite::parse(
//!     "name: echo\nparts:\n  - { name: survives loss, points: 2, scenario: scenarios/echo-loss.yaml, seeds: 2 }\n",
//!     "suite.yaml",
//!     Path::new(""),
//! )?;
//! let grade = grade(&Registry::builtin(), &suite, None, &mut |_| {})?;
//! assert_eq!((grade.points, grade.points_max), (2, 2));
//! # Ok::<(), faultline::grade::GradeError>(())
//! ```

mod suite;

pub use suite::{PARTS_MAX, POINTS_MAX, Part, SEEDS_DEFAULT, SEEDS_MAX, Suite, parse_seeds};

use crate::registry::Registry;
use crate::scenario::{self, RunOptions, RunReport, Scenario};
use serde::Serialize;

/// The variable an instructor sets to grade on hidden seeds, in [`parse_seeds`]'s syntax.
pub const SEEDS_VARIABLE: &str = "FAULTLINE_GRADE_SEEDS";

/// A suite that cannot be graded: bad input, located.
#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    #[error("{at}: {message}")]
    Suite { at: String, message: String },
    #[error("{at}: {message}")]
    Seeds { at: String, message: String },
    /// A run could not be built (not a failure of the protocol).
    #[error("{scenario} (seed {seed}): {message}")]
    Run {
        scenario: String,
        seed: u64,
        message: String,
    },
}

/// What a suite scored.
#[derive(Clone, Debug, Serialize)]
pub struct Grade {
    pub suite: String,
    pub file: String,
    /// Whether the seeds were given instead of the suite's own.
    pub hidden_seeds: bool,
    pub points: u32,
    pub points_max: u32,
    pub parts: Vec<PartGrade>,
}

/// What one part scored.
#[derive(Clone, Debug, Serialize)]
pub struct PartGrade {
    pub name: String,
    pub scenario: String,
    pub points: u32,
    pub points_max: u32,
    /// Seeds run: all of them when the part passed, up to the failing one when it did not.
    pub seeds_run: u64,
    pub seeds: u64,
    /// Why the part's points were lost.
    pub lost: Option<Lost>,
}

/// The first seed a part failed on, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Lost {
    pub seed: u64,
    /// The property violated, or the requirement not met (`ok_min`, `messages_max`,
    /// `panic`, `limit`).
    pub reason: String,
    pub message: String,
    /// The run's explanation of the violation, when one could be made.
    pub explanation: Option<String>,
}

/// What [`grade`] tells its caller as it goes.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// A seed of a part is about to run.
    Seed { part: &'a str, seed: u64 },
    /// A part is graded.
    Part(&'a PartGrade),
}

/// Grades `suite` with the protocols of `registry`, on `seeds` if given (else each part's
/// own), calling `progress` before each seed and after each part.
pub fn grade(
    registry: &Registry,
    suite: &Suite,
    seeds: Option<&[u64]>,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Grade, GradeError> {
    // Every scenario is read before anything runs: a typo is bad input, not lost points.
    let load = |(i, part): (usize, &Part)| {
        registry
            .load(&part.scenario)
            .map_err(|e| GradeError::Suite {
                at: format!("{}: parts[{i}] (`{}`)", suite.file.display(), part.name),
                message: e.to_string(),
            })
    };
    let scenarios = (suite.parts.iter().enumerate())
        .map(load)
        .collect::<Result<Vec<_>, _>>()?;
    let mut parts = Vec::with_capacity(suite.parts.len());
    for (part, scenario) in suite.parts.iter().zip(&scenarios) {
        let own: Vec<u64> = (0..part.seeds).collect();
        let graded = grade_part(part, scenario, seeds.unwrap_or(&own), progress)?;
        progress(Progress::Part(&graded));
        parts.push(graded);
    }
    Ok(Grade {
        suite: suite.name.clone(),
        file: suite.file.display().to_string(),
        hidden_seeds: seeds.is_some(),
        points: parts.iter().map(|p| p.points).sum(),
        points_max: suite.points_max(),
        parts,
    })
}

fn grade_part(
    part: &Part,
    scenario: &Scenario,
    seeds: &[u64],
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<PartGrade, GradeError> {
    let mut graded = PartGrade {
        name: part.name.clone(),
        scenario: part.scenario.display().to_string(),
        points: part.points,
        points_max: part.points,
        seeds_run: 0,
        seeds: seeds.len() as u64,
        lost: None,
    };
    for &seed in seeds {
        graded.seeds_run += 1;
        progress(Progress::Seed {
            part: &part.name,
            seed,
        });
        if let Some(lost) = judge_seed(part, scenario, seed)? {
            graded.points = 0;
            graded.lost = Some(lost);
            break;
        }
    }
    Ok(graded)
}

/// Runs `scenario` on `seed`: why the part fails there, if it does.
fn judge_seed(part: &Part, scenario: &Scenario, seed: u64) -> Result<Option<Lost>, GradeError> {
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    let lost = |reason: &str, message: String| Lost {
        seed,
        reason: reason.to_string(),
        message,
        explanation: None,
    };
    let mut report = match scenario::run(scenario, options) {
        Ok(report) => report,
        Err(scenario::RunError::Panic { message, time, .. }) => {
            let message = format!("a handler panicked at {time}: {message}");
            return Ok(Some(lost("panic", message)));
        }
        Err(e) => {
            return Err(GradeError::Run {
                scenario: part.scenario.display().to_string(),
                seed,
                message: e.to_string(),
            });
        }
    };
    if !report.expectation_met {
        return Ok(Some(unmet(scenario, &mut report, seed)));
    }
    if let Some(ok_min) = part.ok_min {
        let ops = report.history.as_ref().map(|h| h.ops);
        let (ok, all) = ops.map_or((0, 0), |c| (c.ok, c.ok + c.fail + c.info + c.pending));
        if all == 0 || (ok as f64) < ok_min * all as f64 {
            let share = if all == 0 {
                0.0
            } else {
                ok as f64 / all as f64
            };
            let message = format!(
                "{ok} of {all} client operations ended ok ({:.1} %); at least {:.1} % must",
                share * 100.0,
                ok_min * 100.0
            );
            return Ok(Some(lost("ok_min", message)));
        }
    }
    if let Some(max) = part.messages_max
        && report.stats.sent > max
    {
        let message = format!(
            "the nodes sent one another {} messages; at most {max} are allowed",
            report.stats.sent
        );
        return Ok(Some(lost("messages_max", message)));
    }
    Ok(costs(part, &report).map(|(reason, message)| lost(reason, message)))
}

/// Whether the run's operations that ended ok cost more than `part` allows, in messages or
/// latency: the requirement not met, and how.
fn costs(part: &Part, report: &RunReport) -> Option<(&'static str, String)> {
    let wanted = [
        part.messages_per_op_max.is_some(),
        part.latency_p50_max.is_some(),
        part.latency_p99_max.is_some(),
    ];
    if !wanted.contains(&true) {
        return None;
    }
    let history = report.history.as_ref();
    let Some(latency) = history.and_then(|h| h.latency) else {
        let reason = "latency";
        return Some((
            reason,
            "no client operation ended ok, so none can be measured".into(),
        ));
    };
    if let Some(max) = part.messages_per_op_max {
        let per_op = report.stats.sent as f64 / latency.ops as f64;
        if per_op > max {
            let message = format!(
                "the nodes sent one another {} messages for {} operations that ended ok: {per_op:.2} \
                 per operation; at most {max} are allowed",
                report.stats.sent, latency.ops
            );
            return Some(("messages_per_op_max", message));
        }
    }
    let limits = [
        (
            "latency_p50_max",
            "median",
            part.latency_p50_max,
            latency.p50_ns,
        ),
        (
            "latency_p99_max",
            "99th percentile",
            part.latency_p99_max,
            latency.p99_ns,
        ),
    ];
    for (reason, which, max, took_ns) in limits {
        if let Some(max) = max
            && took_ns > max.as_nanos()
        {
            let took = crate::time::SimDuration::from_nanos(took_ns);
            let message = format!(
                "the {which} operation took {took} from invocation to ok ({} operations); at \
                 most {max} is allowed",
                latency.ops
            );
            return Some((reason, message));
        }
    }
    None
}

/// Why a run did not meet its expectation, explained as `faultline run` explains it.
fn unmet(scenario: &Scenario, report: &mut RunReport, seed: u64) -> Lost {
    // An explanation that cannot be made leaves the verdict and its message as they are.
    let _ = crate::explain::attach_within(scenario, report, crate::explain::Budget::default());
    let history = report.history.as_ref().filter(|h| h.status == "violated");
    match (report.violations.first(), history) {
        (Some(found), _) => Lost {
            seed,
            reason: found.property.clone(),
            message: found.message.clone(),
            explanation: found.explanation.as_ref().map(|e| e.text.clone()),
        },
        (None, Some(history)) => Lost {
            seed,
            reason: history.name.to_string(),
            message: history.explanation.join("\n"),
            explanation: None,
        },
        (None, None) => Lost {
            seed,
            reason: report
                .limit
                .as_ref()
                .map_or("expect", |_| "limit")
                .to_string(),
            message: match &report.limit {
                Some(limit) => format!("the run stopped early: {limit}"),
                None => format!(
                    "the run ended with outcome {:?}, not what the scenario's `expect:` asks",
                    report.outcome
                ),
            },
            explanation: None,
        },
    }
}

/// The grade as JUnit XML: one `<testsuite>` named after the suite, one `<testcase>` per
/// part, and a `<failure>` in each part that lost its points, with the seed, the reason and
/// the replay command.
pub fn junit(grade: &Grade, replay: &dyn Fn(&PartGrade, u64) -> String) -> String {
    use crate::explore::summary::xml_escape;
    let failures = grade.parts.iter().filter(|p| p.lost.is_some()).count();
    let name = xml_escape(&grade.suite);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"faultline grade\" tests=\"{}\" failures=\"{failures}\">\n  \
         <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        grade.parts.len(),
        grade.parts.len()
    ));
    for part in &grade.parts {
        let case = xml_escape(&format!(
            "{} ({}/{} points)",
            part.name, part.points, part.points_max
        ));
        match &part.lost {
            None => out.push_str(&format!(
                "    <testcase classname=\"{name}\" name=\"{case}\"/>\n"
            )),
            Some(lost) => {
                let text = format!(
                    "seed {}: {}\n{}\nReplay: {}",
                    lost.seed,
                    lost.message,
                    lost.explanation.as_deref().unwrap_or(""),
                    replay(part, lost.seed)
                );
                out.push_str(&format!(
                    "    <testcase classname=\"{name}\" name=\"{case}\">\n      \
                     <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml_escape(&lost.reason),
                    xml_escape(&format!("seed {}: {}", lost.seed, lost.message)),
                    xml_escape(&text)
                ));
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
