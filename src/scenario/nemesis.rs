//! `nemesis:` and `swarm:` — random faults and network settings, validated where they are
//! written and drawn per seed by [`Scenario::materialize`].
//!
//! ```yaml
//! nemesis:
//!   until: 8s
//!   partitions: { every: 1s..3s, last: 200ms..1s, modes: [isolate, ring] }
//!   crashes: { every: 2s..5s, restart_after: 300ms..1s }
//! swarm: { drop: [0, 0.1], latency_mean: 1ms..20ms }
//! ```

use super::Scenario;
use super::context::inspect;
use crate::faults::check_drift;
use crate::faults::nemesis::{Episodes, Nemesis, PartitionMode, SkewEpisodes, Span, Spread, Swarm};
use crate::faults::{Draw, RandomFaults};
use crate::serde_util::{map_then, str_then};
use crate::time::{SignedDuration, SimDuration, SimTime};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A value a range may hold: written as text or as a number.
trait Bound: Copy + PartialOrd + fmt::Display {
    fn from_text(text: &str) -> Result<Self, String>;
    fn from_number(x: f64) -> Result<Self, String>;
}

impl Bound for SimDuration {
    fn from_text(text: &str) -> Result<Self, String> {
        crate::time::parse_duration(text).map_err(|e| e.to_string())
    }
    fn from_number(x: f64) -> Result<Self, String> {
        if x == 0.0 {
            return Ok(SimDuration::ZERO);
        }
        Err(format!(
            "{x} has no unit; write a duration such as \"150ms\""
        ))
    }
}

impl Bound for SignedDuration {
    fn from_text(text: &str) -> Result<Self, String> {
        crate::time::parse_signed_duration(text).map_err(|e| e.to_string())
    }
    fn from_number(x: f64) -> Result<Self, String> {
        SimDuration::from_number(x).map(|_| SignedDuration(0))
    }
}

/// A probability in [0, 1].
#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct Prob(f64);

impl fmt::Display for Prob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Bound for Prob {
    fn from_text(text: &str) -> Result<Self, String> {
        let x: f64 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a probability; write e.g. 0.01 for 1 %"))?;
        Prob::from_number(x)
    }
    fn from_number(p: f64) -> Result<Self, String> {
        crate::net::check_probability(p).map(Prob)
    }
}

/// A clock drift: a rate above 0.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct Drift(f64);

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Bound for Drift {
    fn from_text(text: &str) -> Result<Self, String> {
        let x: f64 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a drift rate such as 1.05"))?;
        Drift::from_number(x)
    }
    fn from_number(x: f64) -> Result<Self, String> {
        check_drift(x).map(Drift)
    }
}

/// A range: `low..high`, `[low, high]`, or one value; low no higher than high.
struct RangeOf<T>(Span<T>);

impl<'de, T: Bound> Deserialize<'de> for RangeOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RangeVisitor(PhantomData))
    }
}

struct RangeVisitor<T>(PhantomData<T>);

fn ordered<T: Bound>(low: T, high: T) -> Result<RangeOf<T>, String> {
    if low > high {
        return Err(format!(
            "the range {low}..{high} is reversed: write the low bound first ({high}..{low})"
        ));
    }
    Ok(RangeOf(Span { low, high }))
}

impl<'de, T: Bound> Visitor<'de> for RangeVisitor<T> {
    type Value = RangeOf<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a range such as 1s..3s or [0, 0.1], or one value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RangeOf<T>, E> {
        let range = match v.split_once("..") {
            Some((a, b)) => T::from_text(a.trim())
                .and_then(|low| T::from_text(b.trim()).and_then(|high| ordered(low, high))),
            None => T::from_text(v.trim()).map(|x| RangeOf(Span::fixed(x))),
        };
        range.map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RangeOf<T>, E> {
        T::from_number(v)
            .map(|x| RangeOf(Span::fixed(x)))
            .map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RangeOf<T>, E> {
        self.visit_f64(v as f64)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RangeOf<T>, E> {
        self.visit_f64(v as f64)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RangeOf<T>, A::Error> {
        let two = "a range list has exactly two items, [low, high]";
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Scalar>()? {
            if items.len() == 2 {
                return Err(de::Error::custom(two));
            }
            items.push(item.into_bound::<T>().map_err(de::Error::custom)?);
        }
        match items[..] {
            [low, high] => ordered(low, high).map_err(de::Error::custom),
            _ => Err(de::Error::custom(two)),
        }
    }
}

/// One item of a `[low, high]` list.
enum Scalar {
    Number(f64),
    Text(String),
}

impl Scalar {
    fn into_bound<T: Bound>(self) -> Result<T, String> {
        match self {
            Scalar::Number(x) => T::from_number(x),
            Scalar::Text(t) => T::from_text(&t),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a duration")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpanFields {
    every: RangeOf<SimDuration>,
    last: RangeOf<SimDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionFields {
    every: RangeOf<SimDuration>,
    last: RangeOf<SimDuration>,
    modes: Option<Vec<PartitionMode>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CrashFields {
    every: RangeOf<SimDuration>,
    restart_after: RangeOf<SimDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseFields {
    every: RangeOf<SimDuration>,
    resume_after: RangeOf<SimDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SkewFields {
    every: RangeOf<SimDuration>,
    last: Option<RangeOf<SimDuration>>,
    offset: Option<RangeOf<SignedDuration>>,
    drift: Option<RangeOf<Drift>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NemesisFields {
    until: Option<Until>,
    partitions: Option<PartitionFields>,
    crashes: Option<CrashFields>,
    pauses: Option<PauseFields>,
    clogs: Option<SpanFields>,
    skew: Option<SkewFields>,
}

/// `until:`, checked against the run's duration and its liveness phase.
struct Until(SimTime);

impl<'de> Deserialize<'de> for Until {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a time such as \"8s\"", |text| {
            let t = SimTime(
                crate::time::parse_duration(text)
                    .map_err(|e| e.to_string())?
                    .0,
            );
            if t == SimTime::ZERO {
                return Err("the nemesis' `until` must be more than 0".into());
            }
            if let Some(end) = inspect(|c| c.duration_ns).filter(|&end| t.0 > end) {
                return Err(format!(
                    "the nemesis' `until` is {t}, after the run ends (duration {})",
                    SimDuration(end)
                ));
            }
            if let Some(at) = inspect(|c| c.liveness_at_ns)
                .flatten()
                .filter(|&at| t.0 >= at)
            {
                return Err(format!(
                    "the nemesis' `until` is {t}, but faults stop when the liveness phase \
                     begins at {}; make `until` earlier",
                    SimTime(at)
                ));
            }
            Ok(Until(t))
        })
    }
}

/// `nemesis:` as validated; `until` is resolved on the second pass.
#[derive(Debug, Clone)]
pub struct NemesisSpec(pub Nemesis);

impl<'de> Deserialize<'de> for NemesisSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(
            d,
            "a nemesis such as { crashes: { every: 2s..5s, restart_after: 1s } }",
            convert,
        )
    }
}

fn episodes(every: RangeOf<SimDuration>, last: RangeOf<SimDuration>) -> Episodes {
    Episodes {
        every: every.0,
        last: last.0,
        spread: Spread::Uniform,
    }
}

/// By default episodes end by 70 % of the run, and 1 ms before a liveness phase.
fn default_until() -> SimTime {
    let end = inspect(|c| c.duration_ns).unwrap_or(0);
    let mut until = (u128::from(end) * 7 / 10) as u64;
    if let Some(at) = inspect(|c| c.liveness_at_ns).flatten() {
        until = until.min(at.saturating_sub(1_000_000));
    }
    SimTime(until)
}

fn convert(f: NemesisFields) -> Result<NemesisSpec, String> {
    if f.partitions.is_none()
        && f.crashes.is_none()
        && f.pauses.is_none()
        && f.clogs.is_none()
        && f.skew.is_none()
    {
        return Err(
            "a nemesis needs at least one of `partitions`, `crashes`, `pauses`, \
                    `clogs` or `skew`"
                .into(),
        );
    }
    let partitions = match f.partitions {
        Some(p) => {
            let modes = p.modes.unwrap_or_else(|| PartitionMode::ALL.to_vec());
            if modes.is_empty() {
                return Err("`partitions.modes` is empty; leave it out for every mode".into());
            }
            Some((episodes(p.every, p.last), modes))
        }
        None => None,
    };
    let skew = f.skew.map(|s| SkewEpisodes {
        episodes: Episodes {
            every: s.every.0,
            last: s.last.map_or(s.every.0, |l| l.0),
            spread: Spread::Uniform,
        },
        offset: s.offset.map_or(Span::fixed(SignedDuration(0)), |o| o.0),
        drift: s.drift.map_or(Span::fixed(1.0), |d| Span {
            low: d.0.low.0,
            high: d.0.high.0,
        }),
    });
    Ok(NemesisSpec(Nemesis {
        until: f.until.map_or_else(default_until, |u| u.0),
        partitions,
        crashes: f.crashes.map(|c| episodes(c.every, c.restart_after)),
        pauses: f.pauses.map(|p| episodes(p.every, p.resume_after)),
        clogs: f.clogs.map(|c| episodes(c.every, c.last)),
        skew,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwarmFields {
    drop: Option<RangeOf<Prob>>,
    duplicate: Option<RangeOf<Prob>>,
    latency_mean: Option<RangeOf<SimDuration>>,
}

/// `swarm:` as validated.
#[derive(Debug, Clone)]
pub struct SwarmSpec(pub Swarm);

impl<'de> Deserialize<'de> for SwarmSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        map_then(
            d,
            "swarm parameters such as { drop: [0, 0.1], latency_mean: 1ms..20ms }",
            |f: SwarmFields| {
                let prob = |r: RangeOf<Prob>| Span {
                    low: r.0.low.0,
                    high: r.0.high.0,
                };
                Ok(SwarmSpec(Swarm {
                    drop: f.drop.map(prob),
                    duplicate: f.duplicate.map(prob),
                    latency_mean: f.latency_mean.map(|r| r.0),
                }))
            },
        )
    }
}

impl Scenario {
    /// The scenario as it runs under `seed`: the nemesis's faults drawn and merged into
    /// `faults` (by time, scripted faults first at the same instant, the liveness phase
    /// last), the swarm's values applied to the default link, `nemesis` and `swarm` removed
    /// and `seed` set. The result holds no randomness but the seed.
    pub fn materialize(&self, seed: u64) -> Scenario {
        self.draw(seed, None)
    }

    /// [`Scenario::materialize`], with its scripted faults first replaced by a random
    /// schedule drawn from the seed when `random` is given (see [`Draw`]).
    pub fn draw(&self, seed: u64, random: Option<&RandomFaults>) -> Scenario {
        let mut s = self.clone();
        s.seed = seed;
        let draw = Draw {
            random: random.cloned(),
            nemesis: s.nemesis.take(),
            swarm: s.swarm.take(),
        };
        let nodes = s.node_names.len() as u32;
        draw.apply(seed, nodes, &mut s.faults, &mut s.network);
        s.triggers.extend(draw.triggers(seed, nodes));
        s
    }
}
