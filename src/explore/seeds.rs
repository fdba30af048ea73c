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
}
