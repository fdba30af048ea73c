//! Latency distributions for message delivery.
//!
//! In YAML a latency is a mapping with exactly one key:
//! `{ constant: 5ms }`, `{ uniform: [1ms, 10ms] }`, `{ normal: { mean: 10ms, std: 2ms } }`,
//! `{ exponential: { mean: 5ms, min: 1ms } }`, `{ pareto: { scale: 1ms, shape: 1.5, max: 2s } }`,
//! `{ mix: [ { weight: 0.999, latency: ... }, { weight: 0.001, latency: ... } ] }`.

use crate::time::SimDuration;
use rand::RngExt;
use rand::distr::uniform::{SampleUniform, UniformSampler};
use rand_distr::{Distribution, Exp1, StandardNormal};
use serde::{Deserialize, Deserializer, Serialize};

/// Bound on resampling a truncated normal before clamping at zero.
const NORMAL_RESAMPLES_MAX: u32 = 16;
/// Pareto draws are capped here unless the distribution names its own `max`.
pub const PARETO_DEFAULT_MAX: SimDuration = SimDuration::from_secs(3600);
/// Bound on nesting of `mix` inside `mix`.
const MIX_DEPTH_MAX: u32 = 4;

/// How long a message takes from send to delivery.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "LatencyFields")]
pub enum Latency {
    Constant(SimDuration),
    /// Uniform over `[low, high]`, inclusive.
    Uniform(SimDuration, SimDuration),
    /// Normal, truncated at zero (negative draws are redrawn).
    Normal {
        mean: SimDuration,
        std: SimDuration,
    },
    /// `min` plus an exponential draw with the given mean.
    Exponential {
        mean: SimDuration,
        min: SimDuration,
    },
    /// Pareto with minimum `scale` and tail index `shape`, capped at `max`.
    Pareto {
        scale: SimDuration,
        shape: f64,
        max: SimDuration,
    },
    /// A weighted mixture, e.g. 99.9 % fast and 0.1 % slow.
    Mix(Vec<MixPart>),
}

/// One component of a [`Latency::Mix`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixPart {
    pub weight: f64,
    pub latency: Latency,
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Uniform(SimDuration::from_millis(1), SimDuration::from_millis(10))
    }
}

impl Latency {
    /// Draws one latency in nanoseconds.
    #[inline]
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            Latency::Constant(d) => *d,
            // What `random_range(lo..=hi)` calls, without its out-of-line wrapper.
            Latency::Uniform(lo, hi) => SimDuration(
                <u64 as SampleUniform>::Sampler::sample_single_inclusive(lo.0, hi.0, rng)
                    .expect("a uniform latency's low bound is at most its high bound"),
            ),
            other => other.sample_shaped(rng),
        }
    }

    /// One latency for a message whose sender holds rank `rank` of `bands` (0 the highest):
    /// a uniform latency is drawn within the rank's slice of its range, any other latency as
    /// [`Latency::sample`] draws it plus `rank` nanoseconds (see `priority`).
    pub(crate) fn sample_ranked<R: rand::Rng + ?Sized>(
        &self,
        rank: u32,
        bands: u32,
        rng: &mut R,
    ) -> SimDuration {
        match self {
            Latency::Uniform(lo, hi) if bands > 1 => {
                let (width, bands) = (u128::from(hi.0 - lo.0), u128::from(bands));
                let band = |k: u128| lo.0 + (width * k / bands) as u64;
                let (low, high) = (band(u128::from(rank)), band(u128::from(rank) + 1));
                Latency::Uniform(SimDuration(low), SimDuration(high)).sample(rng)
            }
            other => other.sample(rng) + SimDuration(u64::from(rank)),
        }
    }

    /// [`Latency::sample`] for the distributions other than constant and uniform, out of line
    /// so that the common ones inline into the send path.
    #[inline(never)]
    fn sample_shaped<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            Latency::Constant(_) | Latency::Uniform(..) => self.sample(rng),
            Latency::Normal { mean, std } => sample_normal(*mean, *std, rng),
            Latency::Exponential { mean, min } => {
                let x: f64 = Exp1.sample(rng);
                *min + SimDuration(to_ns(x * mean.0 as f64))
            }
            Latency::Pareto { scale, shape, max } => {
                let u: f64 = rng.random::<f64>();
                // Inverse CDF on (0, 1]: scale / u^(1/shape).
                let x = scale.0 as f64 / (1.0 - u).powf(1.0 / shape);
                SimDuration(to_ns(x).min(max.0))
            }
            Latency::Mix(parts) => {
                let total: f64 = parts.iter().map(|p| p.weight).sum();
                let mut pick = rng.random::<f64>() * total;
                for part in parts {
                    if pick < part.weight {
                        return part.latency.sample(rng);
                    }
                    pick -= part.weight;
                }
                parts[parts.len() - 1].latency.sample(rng)
            }
        }
    }

    /// A short human description, e.g. `uniform 1ms..10ms`.
    pub fn describe(&self) -> String {
        match self {
            Latency::Constant(d) => format!("constant {d}"),
            Latency::Uniform(lo, hi) => format!("uniform {lo}..{hi}"),
            Latency::Normal { mean, std } => format!("normal mean {mean} std {std}"),
            Latency::Exponential { mean, min } => format!("exponential mean {mean} min {min}"),
            Latency::Pareto { scale, shape, max } => {
                format!("pareto scale {scale} shape {shape} max {max}")
            }
            Latency::Mix(parts) => {
                let inner: Vec<String> = parts
                    .iter()
                    .map(|p| format!("{} × {}", p.weight, p.latency.describe()))
                    .collect();
                format!("mix [{}]", inner.join(", "))
            }
        }
    }

    /// Checks that the distribution can be drawn from: uniform bounds in order, a Pareto
    /// shape that is a positive number and a scale no larger than its cap, mixes with at
    /// least one part, finite weights of at least 0 (not all 0), nested at most
    /// `MIX_DEPTH_MAX` deep. The YAML reader and [`super::LinkConfig::validate`] both call it.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_at(0)
    }

    fn validate_at(&self, depth: u32) -> Result<(), String> {
        match self {
            Latency::Uniform(lo, hi) if lo > hi => Err(format!(
                "uniform latency [{lo}, {hi}] has its low bound above its high bound"
            )),
            Latency::Pareto { shape, .. } if !(shape.is_finite() && *shape > 0.0) => Err(format!(
                "pareto shape must be a positive number, got {shape}"
            )),
            Latency::Pareto { scale, max, .. } if scale > max => {
                Err(format!("pareto scale {scale} is above its max {max}"))
            }
            Latency::Mix(_) if depth >= MIX_DEPTH_MAX => {
                Err(format!("latency mixes nest at most {MIX_DEPTH_MAX} deep"))
            }
            Latency::Mix(parts) => validate_mix(parts, depth),
            _ => Ok(()),
        }
    }
}

fn validate_mix(parts: &[MixPart], depth: u32) -> Result<(), String> {
    if parts.is_empty() {
        return Err("a latency mix needs at least one part".into());
    }
    for part in parts {
        if !(part.weight.is_finite() && part.weight >= 0.0) {
            return Err(format!(
                "mix weight must be a number ≥ 0, got {}",
                part.weight
            ));
        }
        part.latency.validate_at(depth + 1)?;
    }
    if parts.iter().all(|p| p.weight == 0.0) {
        return Err("a latency mix needs at least one weight above 0".into());
    }
    Ok(())
}

fn sample_normal<R: rand::Rng + ?Sized>(
    mean: SimDuration,
    std: SimDuration,
    rng: &mut R,
) -> SimDuration {
    for _ in 0..NORMAL_RESAMPLES_MAX {
        let z: f64 = StandardNormal.sample(rng);
        let x = mean.0 as f64 + z * std.0 as f64;
        if x >= 0.0 {
            return SimDuration(to_ns(x));
        }
    }
    SimDuration::ZERO
}

/// Rounds a non-negative float of nanoseconds, saturating.
fn to_ns(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x.round() as u64
    }
}

/// The YAML shape: exactly one of the keys below.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    constant: Option<SimDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uniform: Option<[SimDuration; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normal: Option<NormalFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exponential: Option<ExponentialFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pareto: Option<ParetoFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mix: Option<Vec<MixPart>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalFields {
    mean: SimDuration,
    std: SimDuration,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExponentialFields {
    mean: SimDuration,
    #[serde(default)]
    min: SimDuration,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParetoFields {
    scale: SimDuration,
    shape: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<SimDuration>,
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::serde_util::map_then(
            d,
            "a latency such as { uniform: [1ms, 10ms] }",
            |f: LatencyFields| Latency::try_from(f),
        )
    }
}

const LATENCY_KINDS: &str = "constant, uniform, normal, exponential, pareto or mix";

impl TryFrom<LatencyFields> for Latency {
    type Error = String;
    fn try_from(f: LatencyFields) -> Result<Self, String> {
        let mut found: Vec<Latency> = Vec::new();
        if let Some(d) = f.constant {
            found.push(Latency::Constant(d));
        }
        if let Some([lo, hi]) = f.uniform {
            found.push(Latency::Uniform(lo, hi));
        }
        if let Some(n) = f.normal {
            found.push(Latency::Normal {
                mean: n.mean,
                std: n.std,
            });
        }
        if let Some(e) = f.exponential {
            found.push(Latency::Exponential {
                mean: e.mean,
                min: e.min,
            });
        }
        if let Some(p) = f.pareto {
            let max = p.max.unwrap_or(PARETO_DEFAULT_MAX);
            found.push(Latency::Pareto {
                scale: p.scale,
                shape: p.shape,
                max,
            });
        }
        if let Some(parts) = f.mix {
            found.push(Latency::Mix(parts));
        }
        if found.len() != 1 {
            return Err(format!(
                "a latency names exactly one distribution ({LATENCY_KINDS}), found {}",
                found.len()
            ));
        }
        let latency = found.pop().expect("one latency");
        latency.validate()?;
        Ok(latency)
    }
}

impl From<Latency> for LatencyFields {
    fn from(l: Latency) -> Self {
        let mut f = LatencyFields::default();
        match l {
            Latency::Constant(d) => f.constant = Some(d),
            Latency::Uniform(lo, hi) => f.uniform = Some([lo, hi]),
            Latency::Normal { mean, std } => f.normal = Some(NormalFields { mean, std }),
            Latency::Exponential { mean, min } => {
                f.exponential = Some(ExponentialFields { mean, min })
            }
            Latency::Pareto { scale, shape, max } => {
                f.pareto = Some(ParetoFields {
                    scale,
                    shape,
                    max: Some(max),
                })
            }
            Latency::Mix(parts) => f.mix = Some(parts),
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_millis(x)
    }

    fn samples(l: &Latency, n: usize) -> Vec<u64> {
        let mut rng = stream(1, Stream::Network);
        (0..n).map(|_| l.sample(&mut rng).0).collect()
    }

    #[test]
    fn uniform_stays_in_bounds_and_spreads() {
        let s = samples(&Latency::Uniform(ms(1), ms(5)), 10_000);
        assert!(s.iter().all(|&x| (ms(1).0..=ms(5).0).contains(&x)));
        let mean = s.iter().sum::<u64>() as f64 / s.len() as f64;
        assert!((mean - 3e6).abs() < 0.1e6, "mean {mean}");
    }

    #[test]
    fn normal_is_truncated_at_zero_and_centred() {
        let s = samples(
            &Latency::Normal {
                mean: ms(1),
                std: ms(2),
            },
            10_000,
        );
        assert!(s.iter().all(|&x| x < u64::MAX / 2));
        let near = samples(
            &Latency::Normal {
                mean: ms(50),
                std: ms(1),
            },
            10_000,
        );
        let mean = near.iter().sum::<u64>() as f64 / near.len() as f64;
        assert!((mean - 50e6).abs() < 0.1e6, "mean {mean}");
    }

    #[test]
    fn exponential_respects_its_minimum() {
        let s = samples(
            &Latency::Exponential {
                mean: ms(5),
                min: ms(2),
            },
            10_000,
        );
        assert!(s.iter().all(|&x| x >= ms(2).0));
        let mean = s.iter().sum::<u64>() as f64 / s.len() as f64;
        assert!((mean - 7e6).abs() < 0.3e6, "mean {mean}");
    }

    #[test]
    fn pareto_has_a_floor_and_a_cap() {
        let l = Latency::Pareto {
            scale: ms(1),
            shape: 1.1,
            max: ms(100),
        };
        let s = samples(&l, 10_000);
        assert!(s.iter().all(|&x| x >= ms(1).0 && x <= ms(100).0));
        assert!(s.iter().any(|&x| x > ms(10).0), "no tail at all");
    }

    #[test]
    fn long_tail_mix_follows_its_weights() {
        let mix = Latency::Mix(vec![
            MixPart {
                weight: 0.99,
                latency: Latency::Constant(ms(1)),
            },
            MixPart {
                weight: 0.01,
                latency: Latency::Constant(ms(500)),
            },
        ]);
        let slow = samples(&mix, 100_000)
            .iter()
            .filter(|&&x| x == ms(500).0)
            .count();
        assert!((700..1300).contains(&slow), "slow draws: {slow}");
    }

    #[test]
    fn yaml_shapes_parse_and_bad_ones_are_rejected() {
        let ok: Latency = serde_yaml::from_str("{ uniform: [1ms, 10ms] }").unwrap();
        assert_eq!(ok, Latency::Uniform(ms(1), ms(10)));
        let p: Latency = serde_yaml::from_str("pareto: { scale: 1ms, shape: 2 }").unwrap();
        assert_eq!(
            p,
            Latency::Pareto {
                scale: ms(1),
                shape: 2.0,
                max: PARETO_DEFAULT_MAX
            }
        );
        for bad in [
            "{ uniform: [10ms, 1ms] }",
            "{ constant: 1ms, uniform: [1ms, 2ms] }",
            "{ }",
            "{ gaussian: 1ms }",
            "{ pareto: { scale: 1ms, shape: -1 } }",
            "{ mix: [] }",
            "{ constant: -3ms }",
        ] {
            assert!(
                serde_yaml::from_str::<Latency>(bad).is_err(),
                "{bad} accepted"
            );
        }
    }
}
