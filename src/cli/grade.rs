//! `faultline grade`: a graded suite run, points per part, and why each lost point was lost.

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATION, Format};
use crate::grade::{self, Grade, PartGrade, SEEDS_VARIABLE, Suite};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(super) const GRADE_HELP: &str = "\
SUITE is a YAML file of parts, each a scenario with points:

  name: Unique ids
  parts:
    - name: one node hands out unique ids
      points: 2
      scenario: scenarios/one-node.yaml   # relative to the suite file
      seeds: 20                           # seeds 0..20 (default 10, at most 10000)
      ok_min: 0.99                        # optional: share of client ops that end ok
      messages_max: 0                     # optional: messages the nodes send one another
      messages_per_op_max: 10             # optional: such messages per operation that ended ok
      latency_p50_max: 5ms                # optional: median time from invocation to ok
      latency_p99_max: 50ms               # optional: 99th percentile

A part's points are all or nothing: on every seed its scenario must meet its `expect:` and the
part's requirements. For each part lost, the first failing seed is shown with the property,
its explanation and the command that replays it. Runs depend on their seed alone, so the same
protocol gets the same grade on any machine.

Hidden seeds: --seeds FILE, or the FAULTLINE_GRADE_SEEDS variable, lists the seeds every part
runs instead of its own: numbers and ranges A..B, separated by commas, spaces or new lines,
`#` starting a comment (at most 10000 seeds).

A seed that runs longer than --seed-time-max in wall time (60s unless given) stops the grade
with exit code 1 and names the seed: a handler that never returns cannot be interrupted.

Exit codes: 0 full marks, 1 points lost (or a seed that never finished), 2 bad input (the
suite, a scenario, the seeds).

Examples:
  faultline grade grade.yaml
  faultline grade grade.yaml --junit grade.xml --format json
  FAULTLINE_GRADE_SEEDS=1000..1050 faultline grade grade.yaml
  faultline grade grade.yaml --seeds hidden-seeds.txt";

#[derive(Args)]
pub(super) struct GradeArgs {
    /// The graded suite.
    suite: PathBuf,
    /// Run these seeds in every part instead of the suite's own (a file of numbers and
    /// ranges A..B); FAULTLINE_GRADE_SEEDS gives them as well.
    #[arg(long, value_name = "FILE")]
    seeds: Option<PathBuf>,
    /// Also write the grade as JUnit XML: one test case per part.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Stop the grade when one seed runs longer than this in wall time (a handler that
    /// never returns would hang it forever), e.g. 30s or 2m.
    #[arg(long, value_name = "D", default_value = "60s", value_parser = super::history::parse_duration)]
    seed_time_max: Duration,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub(super) fn grade_command(registry: &crate::Registry, args: &GradeArgs) -> u8 {
    let bad = |e: &dyn std::fmt::Display| {
        eprintln!("{}: {e}", super::program());
        EXIT_BAD_INPUT
    };
    let suite = match Suite::load(&args.suite) {
        Ok(suite) => suite,
        Err(e) => return bad(&e),
    };
    let seeds = match hidden_seeds(args) {
        Ok(seeds) => seeds,
        Err(message) => return bad(&message),
    };
    let bar = progress_bar(args.format == Format::Text, suite.parts.len());
    let graded = watched(args.seed_time_max, &bar, |progress| {
        grade::grade(registry, &suite, seeds.as_deref(), progress)
    });
    bar.finish_and_clear();
    let graded = match graded {
        Ok(graded) => graded,
        Err(e) => return bad(&e),
    };
    if let Some(path) = &args.junit {
        let xml = grade::junit(&graded, &|part, seed| replay(part, seed));
        if let Err(e) = std::fs::write(path, xml) {
            eprintln!("{}: cannot write the JUnit report: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
    }
    let text = match args.format {
        Format::Text => text(&graded),
        Format::Json => serde_json::to_string_pretty(&graded).expect("the grade serialises") + "\n",
    };
    let code = match graded.points == graded.points_max {
        true => EXIT_OK,
        false => EXIT_VIOLATION,
    };
    super::out::finish(&text, code)
}

/// The seed running now, and since when (wall time).
struct Running {
    part: String,
    seed: u64,
    since: Instant,
}

/// Runs `grade` on a thread of its own, watched: if one seed runs longer than `seed_time_max`,
/// the grade cannot be finished (a handler may never return, and nothing can stop it), so the
/// process says which seed it was and exits with code 1.
fn watched<T: Send>(
    seed_time_max: Duration,
    bar: &ProgressBar,
    grade: impl FnOnce(&mut dyn FnMut(grade::Progress<'_>)) -> T + Send,
) -> T {
    #[allow(clippy::disallowed_methods)] // wall time only stops a hung grade; it never shapes one
    let now = Instant::now;
    let running: Mutex<Option<Running>> = Mutex::new(None);
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut progress = |p: grade::Progress<'_>| match p {
                grade::Progress::Seed { part, seed } => {
                    let part = part.to_string();
                    let since = now();
                    *running.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(Running { part, seed, since });
                }
                grade::Progress::Part(part) => {
                    bar.set_message(part.name.clone());
                    bar.inc(1);
                }
            };
            grade(&mut progress)
        });
        while !worker.is_finished() {
            std::thread::sleep(Duration::from_millis(50));
            let guard = running.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(r) = guard.as_ref().filter(|r| r.since.elapsed() > seed_time_max) {
                bar.finish_and_clear();
                eprintln!(
                    "{}: part `{}`, seed {}: still running after {:?} of wall time, longer than \
                     --seed-time-max: a handler that never returns (an endless loop) keeps the \
                     grade from finishing; no grade is given. Replay the seed to find it.",
                    super::program(),
                    r.part,
                    r.seed,
                    seed_time_max
                );
                std::process::exit(i32::from(EXIT_VIOLATION));
            }
        }
        match worker.join() {
            Ok(graded) => graded,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The seeds `--seeds` or the variable gives, if either does (not both: which would win is
/// not for the grader to guess).
fn hidden_seeds(args: &GradeArgs) -> Result<Option<Vec<u64>>, String> {
    let variable = std::env::var(SEEDS_VARIABLE).ok();
    match (&args.seeds, variable) {
        (Some(_), Some(_)) => Err(format!(
            "both --seeds and {SEEDS_VARIABLE} give seeds; give one of them"
        )),
        (Some(path), None) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("{}: cannot read the seeds: {e}", path.display()))?;
            let origin = path.display().to_string();
            grade::parse_seeds(&text, &origin)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        (None, Some(text)) => grade::parse_seeds(&text, SEEDS_VARIABLE)
            .map(Some)
            .map_err(|e| e.to_string()),
        (None, None) => Ok(None),
    }
}

/// The command that replays `part`'s scenario on `seed`.
fn replay(part: &PartGrade, seed: u64) -> String {
    format!("{} run {} --seed {seed}", super::program(), part.scenario)
}

fn text(graded: &Grade) -> String {
    let seeds = match graded.hidden_seeds {
        true => "the seeds given",
        false => "the suite's seeds",
    };
    let mut out = format!("{} ({}), on {seeds}\n\n", graded.suite, graded.file);
    let width = graded.parts.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for part in &graded.parts {
        let score = format!("{}/{}", part.points, part.points_max);
        let how = match &part.lost {
            None => format!("{} of {} seeds passed", part.seeds_run, part.seeds),
            Some(lost) => format!("failed on seed {}: {}", lost.seed, lost.reason),
        };
        out.push_str(&format!("  {score:>7}  {:width$}  {how}\n", part.name));
    }
    out.push_str(&format!(
        "\nScore: {}/{}\n",
        graded.points, graded.points_max
    ));
    for (part, lost) in graded
        .parts
        .iter()
        .filter_map(|p| Some((p, p.lost.as_ref()?)))
    {
        let points = match part.points_max {
            1 => "1 point".to_string(),
            n => format!("{n} points"),
        };
        out.push_str(&format!(
            "\n{} lost {points} on seed {} ({} of {} seeds ran):\n  {}: {}\n",
            part.name,
            lost.seed,
            part.seeds_run,
            part.seeds,
            lost.reason,
            lost.message.replace('\n', "\n  ")
        ));
        if let Some(explanation) = &lost.explanation {
            out.push_str(&format!(
                "  {}\n",
                explanation.trim_end().replace('\n', "\n  ")
            ));
        }
        out.push_str(&format!("  Replay: {}\n", replay(part, lost.seed)));
    }
    out
}

fn progress_bar(wanted: bool, parts: usize) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(parts as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} part {pos}/{len} {msg}")
            .expect("valid template"),
    );
    bar
}
