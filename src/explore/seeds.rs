//! Which seeds a sweep runs: a half-open range `A..B`, optionally one shard `K/N` of it.

use std::fmt;
use std::str::FromStr;

/// Most seeds one sweep may hold.
pub const SEEDS_MAX: u64 = 1 << 40;

/// Seeds `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    pub start: u64,
    pub end: u64,
}

impl SeedRange {
    /// The first `count` seeds from 0.
    pub fn first(count: u64) -> SeedRange {
        SeedRange {
            start: 0,
            end: count,
        }
    }

    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FromStr for SeedRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a seed range such as 0..1000");
        let (a, b) = s.split_once("..").ok_or_else(bad)?;
        let start: u64 = a.trim().parse().map_err(|_| bad())?;
        let end: u64 = b.trim().parse().map_err(|_| bad())?;
        if end <= start {
            return Err(format!(
                "the seed range `{s}` is empty; write A..B with A < B"
            ));
        }
        if end - start > SEEDS_MAX {
            return Err(format!(
                "the seed range `{s}` holds more than {SEEDS_MAX} seeds"
            ));
        }
        Ok(SeedRange { start, end })
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Shard `index` of `count`: the seeds with `seed % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn holds(&self, seed: u64) -> bool {
        seed % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a shard such as 0/4 (index/count, index < count)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The seeds one sweep planned: a range, and the shard of it if any. In a report as
/// `{"seeds": "0..1000", "shard": "1/4"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SeedSet {
    #[serde(with = "as_text")]
    pub seeds: SeedRange,
    #[serde(with = "as_text_opt")]
    pub shard: Option<Shard>,
}

impl fmt::Display for SeedSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shard {
            Some(shard) => write!(f, "seeds {} shard {shard}", self.seeds),
            None => write!(f, "seeds {}", self.seeds),
        }
    }
}

impl SeedSet {
    /// The smallest seed both sets hold, if any: the seeds of the common range that agree
    /// with both shards, found by the Chinese remainder theorem rather than by a walk over
    /// ranges that may hold 2^40 seeds.
    pub fn first_common(&self, other: &SeedSet) -> Option<u64> {
        let start = self.seeds.start.max(other.seeds.start);
        let end = self.seeds.end.min(other.seeds.end);
        if start >= end {
            return None;
        }
        let whole = Shard { index: 0, count: 1 };
        let (a, b) = (self.shard.unwrap_or(whole), other.shard.unwrap_or(whole));
        let (residue, modulus) = crt(
            u128::from(a.index),
            u128::from(a.count),
            u128::from(b.index),
            u128::from(b.count),
        )?;
        let below = u128::from(start) % modulus;
        let offset = match residue >= below {
            true => residue - below,
            false => modulus - (below - residue),
        };
        let first = u128::from(start).checked_add(offset)?;
        u64::try_from(first).ok().filter(|&s| s < end)
    }
}

/// The `x` with `x ≡ a (mod m)` and `x ≡ b (mod n)`, as `(x mod l, l)` with `l = lcm(m, n)`;
/// none when no `x` exists. `a < m`, `b < n`, and `m, n < 2^64`, so nothing overflows `u128`.
fn crt(a: u128, m: u128, b: u128, n: u128) -> Option<(u128, u128)> {
    let g = gcd(m, n);
    let diff = (b + n - a % n) % n;
    if !diff.is_multiple_of(g) {
        return None;
    }
    let (m_g, n_g) = (m / g, n / g);
    // t with m·t ≡ b − a (mod n), i.e. (m/g)·t ≡ (b − a)/g (mod n/g).
    let t = (diff / g % n_g) * inverse(m_g % n_g, n_g) % n_g;
    let l = m_g * n;
    Some(((a + m * t) % l, l))
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The inverse of `a` modulo `n` (`a` and `n` coprime; 0 when `n` is 1).
fn inverse(a: u128, n: u128) -> u128 {
    if n == 1 {
        return 0;
    }
    // Extended Euclid on signed values: every quotient and coefficient stays below `n`.
    let (mut r0, mut r1) = (n as i128, a as i128);
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    t0.rem_euclid(n as i128) as u128
}

/// `SeedRange` and `Shard` as their command-line text in JSON.
mod as_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr<Err = String>,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

mod as_text_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr<Err = String>,
        D: Deserializer<'de>,
    {
        Option::<String>::deserialize(d)?
            .map(|t| t.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// The seeds of `range` that `shard` holds, in order.
pub fn selected(range: SeedRange, shard: Option<Shard>) -> impl Iterator<Item = u64> {
    (range.start..range.end).filter(move |&s| shard.is_none_or(|sh| sh.holds(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_shards_parse_and_partition() {
        let r: SeedRange = "3..10".parse().unwrap();
        assert_eq!(r.len(), 7);
        assert!("5..5".parse::<SeedRange>().is_err());
        assert!("x..5".parse::<SeedRange>().is_err());
        assert!("2/2".parse::<Shard>().is_err());
        let a: Vec<u64> = selected(r, Some("0/2".parse().unwrap())).collect();
        let b: Vec<u64> = selected(r, Some("1/2".parse().unwrap())).collect();
        assert_eq!((a, b), (vec![4, 6, 8], vec![3, 5, 7, 9]));
    }

    #[test]
    fn the_first_common_seed_agrees_with_a_walk() {
        let sets: Vec<SeedSet> = [
            ("0..40", None),
            ("5..30", Some("1/4")),
            ("0..40", Some("3/4")),
            ("0..40", Some("2/6")),
            ("10..40", Some("0/9")),
            ("0..40", Some("1/2")),
            ("20..25", Some("4/5")),
        ]
        .iter()
        .map(|(r, s)| SeedSet {
            seeds: r.parse().unwrap(),
            shard: s.map(|s| s.parse().unwrap()),
        })
        .collect();
        for a in &sets {
            for b in &sets {
                let walk = selected(a.seeds, a.shard).find(|&s| {
                    b.seeds.start <= s && s < b.seeds.end && b.shard.is_none_or(|sh| sh.holds(s))
                });
                assert_eq!(a.first_common(b), walk, "{a} and {b}");
            }
        }
        let huge = |k: u64| SeedSet {
            seeds: SeedRange {
                start: 0,
                end: u64::MAX,
            },
            shard: Some(Shard {
                index: k,
                count: u64::MAX - 1,
            }),
        };
        assert_eq!(huge(3).first_common(&huge(4)), None);
        assert_eq!(huge(3).first_common(&huge(3)), Some(3));
    }
}
