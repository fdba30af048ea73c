//! A graded suite as a file: its parts, each a scenario run on seeds with requirements, and
//! the hidden seeds an instructor may grade on instead.

use super::GradeError;
use crate::serde_util::{f64_then, str_then, u64_then};
use crate::time::SimDuration;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Most parts in one suite.
pub const PARTS_MAX: usize = 64;
/// Most points one part is worth.
pub const POINTS_MAX: u32 = 1000;
/// Most seeds one part runs (its own, or the hidden ones).
pub const SEEDS_MAX: u64 = 10_000;
/// Seeds a part runs when the suite does not say.
pub const SEEDS_DEFAULT: u64 = 10;
/// Longest suite or part name.
const NAME_BYTES_MAX: usize = 200;

/// A graded suite: `faultline grade` runs every part and adds up the points.
#[derive(Clone, Debug)]
pub struct Suite {
    pub name: String,
    /// The suite file, as named.
    pub file: PathBuf,
    pub parts: Vec<Part>,
}

/// One part: a scenario that must meet its `expect:` and the part's requirements on every
/// seed for the part's points (all or nothing).
#[derive(Clone, Debug)]
pub struct Part {
    pub name: String,
    pub points: u32,
    /// The scenario, relative to the working directory (the suite names it relative to itself).
    pub scenario: PathBuf,
    /// Seeds `0..seeds` run, unless hidden seeds replace them.
    pub seeds: u64,
    /// The fraction of client operations that must end `ok`, on every seed.
    pub ok_min: Option<f64>,
    /// Most messages the nodes may send one another in a run.
    pub messages_max: Option<u64>,
    /// Most messages the nodes may send one another per operation that ended ok.
    pub messages_per_op_max: Option<f64>,
    /// Most time the median and the 99th percentile operation that ended ok may take.
    pub latency_p50_max: Option<SimDuration>,
    pub latency_p99_max: Option<SimDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    name: Name,
    parts: Vec<PartFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartFile {
    name: Name,
    points: Bounded<1, { POINTS_MAX as u64 }>,
    scenario: String,
    #[serde(default)]
    seeds: Option<Bounded<1, SEEDS_MAX>>,
    #[serde(default)]
    ok_min: Option<Fraction>,
    #[serde(default)]
    messages_max: Option<u64>,
    #[serde(default)]
    messages_per_op_max: Option<Positive>,
    #[serde(default)]
    latency_p50_max: Option<SimDuration>,
    #[serde(default)]
    latency_p99_max: Option<SimDuration>,
}

/// A name: not empty, at most `NAME_BYTES_MAX` bytes; refused where it is written.
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a name", |name| {
            match name.trim().is_empty() || name.len() > NAME_BYTES_MAX {
                true => Err(format!("a name is 1 to {NAME_BYTES_MAX} bytes, not blank")),
                false => Ok(Name(name.to_string())),
            }
        })
    }
}

/// A whole number from `MIN` to `MAX`; refused where it is written.
struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64_then(d, "a whole number", |value| {
            match (MIN..=MAX).contains(&value) {
                true => Ok(Bounded(value)),
                false => Err(format!(
                    "{value} is out of range: it must be from {MIN} to {MAX}"
                )),
            }
        })
    }
}

/// A fraction from 0 to 1; refused where it is written.
struct Fraction(f64);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64_then(d, "a fraction", |value| {
            match (0.0..=1.0).contains(&value) {
                true => Ok(Fraction(value)),
                false => Err(format!(
                    "{value} is out of range: a fraction is from 0 to 1"
                )),
            }
        })
    }
}

/// A number above 0; refused where it is written.
struct Positive(f64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64_then(d, "a number above 0", |value| {
            match value > 0.0 && value.is_finite() {
                true => Ok(Positive(value)),
                false => Err(format!("{value} is out of range: it must be above 0")),
            }
        })
    }
}

impl Suite {
    /// Reads the suite at `path`; its scenarios are named relative to it.
    pub fn load(path: &Path) -> Result<Suite, GradeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| GradeError::Suite {
            at: file.clone(),
            message: format!("cannot read the suite: {e}"),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Suite::parse(&text, &file, base)
    }

    /// Parses suite text; `file` names it in errors, and scenarios are relative to `base`.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Suite, GradeError> {
        let parsed: SuiteFile = serde_yaml::from_str(text).map_err(|e| {
            let at = match e.location() {
                Some(l) => format!("{file}:{}:{}", l.line(), l.column()),
                None => file.to_string(),
            };
            let message = e.to_string();
            // serde_yaml ends its messages with the location, given in front already.
            let message = match message.rfind(" at line ") {
                Some(cut) => message[..cut].to_string(),
                None => message,
            };
            GradeError::Suite { at, message }
        })?;
        let at = |i: usize| format!("{file}: parts[{i}]");
        if parsed.parts.is_empty() || parsed.parts.len() > PARTS_MAX {
            return Err(GradeError::Suite {
                at: format!("{file}: parts"),
                message: format!("a suite has 1 to {PARTS_MAX} parts"),
            });
        }
        let mut names = BTreeSet::new();
        let mut parts = Vec::with_capacity(parsed.parts.len());
        for (i, part) in parsed.parts.into_iter().enumerate() {
            if !names.insert(part.name.0.clone()) {
                return Err(GradeError::Suite {
                    at: at(i),
                    message: format!("the part name `{}` is used twice", part.name.0),
                });
            }
            parts.push(Part {
                name: part.name.0,
                points: part.points.0 as u32,
                scenario: normalized(&base.join(&part.scenario)),
                seeds: part.seeds.map_or(SEEDS_DEFAULT, |s| s.0),
                ok_min: part.ok_min.map(|f| f.0),
                messages_max: part.messages_max,
                messages_per_op_max: part.messages_per_op_max.map(|p| p.0),
                latency_p50_max: part.latency_p50_max,
                latency_p99_max: part.latency_p99_max,
            });
        }
        Ok(Suite {
            name: parsed.name.0,
            file: PathBuf::from(file),
            parts,
        })
    }

    pub fn points_max(&self) -> u32 {
        self.parts.iter().map(|p| p.points).sum()
    }
}

/// `path` with `a/..` pairs taken out, as written (links are not followed): replay commands
/// then name the file as a person would.
fn normalized(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        let after_name = matches!(out.components().next_back(), Some(Component::Normal(_)));
        match component {
            Component::ParentDir if after_name => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Parses a list of seeds: numbers and half-open ranges `A..B`, separated by commas, spaces or
/// new lines, `#` starting a comment. `origin` names where the text came from in errors. The
/// seeds come back in ascending order, each once.
pub fn parse_seeds(text: &str, origin: &str) -> Result<Vec<u64>, GradeError> {
    let mut seeds = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for item in line.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
            let bad = |message: String| GradeError::Seeds {
                at: format!("{origin}:{}", number + 1),
                message,
            };
            let (start, end) = match item.split_once("..") {
                Some((a, b)) => (a.parse::<u64>().ok(), b.parse::<u64>().ok()),
                None => {
                    let seed = item.parse::<u64>().ok();
                    (seed, seed.and_then(|s| s.checked_add(1)))
                }
            };
            let (Some(start), Some(end)) = (start, end) else {
                return Err(bad(format!("`{item}` is not a seed or a range A..B")));
            };
            if end <= start {
                return Err(bad(format!("the range `{item}` is empty")));
            }
            if end - start > SEEDS_MAX {
                return Err(bad(format!("`{item}` holds more than {SEEDS_MAX} seeds")));
            }
            seeds.extend(start..end);
            if seeds.len() as u64 > SEEDS_MAX {
                return Err(bad(format!("more than {SEEDS_MAX} seeds in all")));
            }
        }
    }
    if seeds.is_empty() {
        return Err(GradeError::Seeds {
            at: origin.to_string(),
            message: "no seed is listed".into(),
        });
    }
    Ok(seeds.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_numbers_and_ranges_in_order_each_once() {
        let seeds = parse_seeds("# hidden\n7, 3..5 4\n\n10..12 # more\n", "f").expect("seeds");
        assert_eq!(seeds, [3, 4, 7, 10, 11]);
        let error = |text| parse_seeds(text, "f").expect_err("refused").to_string();
        assert_eq!(error("1\n5..3"), "f:2: the range `5..3` is empty");
        assert_eq!(error("# none"), "f: no seed is listed");
        assert!(error("0..20000").contains("holds more than 10000 seeds"));
        assert!(error("0..6000 6000..12000").contains("more than 10000 seeds in all"));
        assert!(error("1.5").contains("`1.5` is not a seed"));
    }
}
