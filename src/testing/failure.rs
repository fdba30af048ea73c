//! What a failed sweep reports: the seed, the violations and the faults, in a message that
//! says how to reproduce the run, optionally also written to a file.

use super::shrink::{BuilderRun, BuilderShrink};
use crate::faults::TimedFault;
use crate::net::LinkConfig;
use crate::scenario::Found;
use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable naming a directory where failed sweeps write their reproduction.
pub const FAILURES_DIR_ENV: &str = "FAULTLINE_FAILURES_DIR";

/// Why a seed failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FailureKind {
    /// The run did not meet its expectation (or, for a builder sweep, broke a property).
    Unmet,
    /// Two runs of the same seed gave different trace hashes (or histories).
    Nondeterministic { first: u64, second: u64 },
    /// The scenario could not be loaded or the run stopped with an error.
    Error(String),
    /// Every seed passed, but none reached this `sometimes` property: what the sweep was
    /// meant to exercise never happened. `seed` is then the first seed of the sweep.
    NeverReached { property: String, seeds: u64 },
}

/// The first seed of a sweep that failed.
#[derive(Clone, Debug)]
pub struct SweepFailure {
    /// What was swept: the scenario's file (or name), or `builder`.
    pub source: String,
    pub seed: u64,
    pub kind: FailureKind,
    /// What the run expected, in words (empty for a builder sweep).
    pub expected: String,
    pub violations: Vec<Found>,
    /// The fault schedule of the failing run, as the run used it (drawn faults included).
    pub faults: Vec<TimedFault>,
    /// The network's default link as the run used it (swarm settings drawn), for a
    /// scenario sweep.
    pub network: Option<LinkConfig>,
    /// The nodes' names, to print the faults as a scenario names them.
    pub node_names: Vec<String>,
    /// Where the reproduction was written, if it was.
    pub written_to: Option<PathBuf>,
    /// The failing seed's scenario as a file that replays it (scenario sweeps only); written
    /// beside the reproduction.
    pub scenario_yaml: Option<String>,
    /// The failing run shrunk: the fewest faults and the kindest network found that still
    /// break the same property (builder sweeps that asked for it,
    /// [`BuilderSweep::shrink_failures`](super::BuilderSweep::shrink_failures)).
    pub shrunk: Option<BuilderShrink>,
}

impl SweepFailure {
    /// The failing run of a builder sweep — its seed, faults and default link — to shrink with
    /// [`shrink_builder`](super::shrink_builder); `None` for a failure without a run behind it
    /// or of a scenario sweep (whose scenario [`mod@crate::explore::shrink`] shrinks).
    pub fn builder_run(&self) -> Option<BuilderRun> {
        if self.scenario_yaml.is_some() || self.kind != FailureKind::Unmet {
            return None;
        }
        Some(BuilderRun {
            seed: self.seed,
            faults: self.faults.clone(),
            network: self.network.clone()?,
        })
    }

    /// Writes this failure's message to `dir` (created if missing), as
    /// `<source stem>-seed-<seed>.txt`; the write goes through a temporary file and a rename
    /// so that a crash never leaves half a reproduction behind.
    pub fn write_to(&mut self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let stem = Path::new(&self.source)
            .file_stem()
            .map_or_else(|| "sweep".to_string(), |s| s.to_string_lossy().into_owned());
        let path = dir.join(format!("{stem}-seed-{}.txt", self.seed));
        if let Some(yaml) = &self.scenario_yaml {
            write_atomically(&path.with_extension("yaml"), yaml)?;
        }
        self.written_to = Some(path.clone());
        write_atomically(&path, &self.to_string())?;
        Ok(path)
    }

    /// Writes the reproduction to the directory named by [`FAILURES_DIR_ENV`] or `dir`, if
    /// either is set. A failure to write is noted in the message rather than hiding the
    /// failure it reports.
    pub(crate) fn record(mut self: Box<Self>, dir: Option<&Path>) -> Box<SweepFailure> {
        let from_env = std::env::var_os(FAILURES_DIR_ENV).map(PathBuf::from);
        if let Some(dir) = dir.map(Path::to_path_buf).or(from_env)
            && let Err(e) = self.write_to(&dir)
        {
            self.expected
                .push_str(&format!(" (cannot write to {}: {e})", dir.display()));
        }
        self
    }
}

fn write_link(f: &mut fmt::Formatter<'_>, link: &LinkConfig) -> fmt::Result {
    writeln!(
        f,
        "network: latency {}, drop {}, duplicate {}",
        link.latency.describe(),
        link.drop,
        link.duplicate
    )
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

impl SweepFailure {
    /// When the first violation was found; faults after it played no part in it.
    fn violated_at(&self) -> Option<crate::time::SimTime> {
        self.violations.iter().map(|v| v.time).min()
    }

    fn write_violations(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for v in &self.violations {
            writeln!(f, "  violation: {}", v.headline())?;
            for line in v.explanation.iter().flat_map(|x| x.text.lines()) {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }

    fn write_run(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seed = self.seed;
        if let Some(link) = &self.network {
            write_link(f, link)?;
        }
        let until = self.violated_at();
        let (before, after): (Vec<&TimedFault>, Vec<&TimedFault>) = self
            .faults
            .iter()
            .partition(|tf| until.is_none_or(|t| tf.at <= t));
        writeln!(f, "to reproduce, run seed {seed} with this fault schedule:")?;
        if before.is_empty() {
            writeln!(f, "  (no faults)")?;
        }
        for tf in before {
            writeln!(f, "  at {}: {}", tf.at, tf.fault.describe(&self.node_names))?;
        }
        if !after.is_empty() {
            writeln!(
                f,
                "  ({} later faults left out: they came after the violation)",
                after.len()
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for SweepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (source, seed) = (&self.source, self.seed);
        match &self.kind {
            FailureKind::Unmet => write!(f, "{source}, seed {seed}: expectation not met")?,
            FailureKind::Nondeterministic { first, second } => write!(
                f,
                "{source}, seed {seed}: not deterministic (trace hashes {first:#018x} and {second:#018x})"
            )?,
            FailureKind::Error(e) => write!(f, "{source}, seed {seed}: {e}")?,
            FailureKind::NeverReached { property, seeds } => {
                // No run to reproduce: the remedy is more seeds or other faults.
                writeln!(
                    f,
                    "{source}: `sometimes` property {property} was never reached in {seeds} \
                     seeds from seed {seed}: the bug's precondition was never exercised \
                     (try more seeds, or faults that bring it about)"
                )?;
                return self.write_location(f);
            }
        }
        if !self.expected.is_empty() {
            write!(f, " (expected {})", self.expected)?;
        }
        writeln!(f)?;
        self.write_violations(f)?;
        self.write_run(f)?;
        self.write_shrunk(f)?;
        self.write_location(f)
    }
}

impl SweepFailure {
    fn write_shrunk(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(shrunk) = &self.shrunk else {
            return Ok(());
        };
        let after = &shrunk.after;
        writeln!(
            f,
            "shrunk in {} runs: seed {} still breaks {} with {} of the {} faults and a kinder network:",
            shrunk.runs,
            after.seed,
            shrunk.property,
            after.faults.len(),
            shrunk.before.faults.len()
        )?;
        write!(f, "  ")?;
        write_link(f, &after.network)?;
        if after.faults.is_empty() {
            writeln!(f, "  (no faults)")?;
        }
        for tf in &after.faults {
            writeln!(f, "  at {}: {}", tf.at, tf.fault.describe(&self.node_names))?;
        }
        Ok(())
    }

    fn write_location(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.written_to {
            writeln!(f, "written to {}", path.display())?;
            if self.scenario_yaml.is_some() {
                let yaml = path.with_extension("yaml");
                writeln!(f, "replay it with: faultline run {}", yaml.display())?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for SweepFailure {}
