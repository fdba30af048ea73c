//! Virtual time: [`SimTime`] (an instant) and [`SimDuration`] (a span), both in nanoseconds.
//!
//! Durations parse from strings such as `"150ms"`, `"2s"`, `"1.5s"`, `"250us"`, `"10ns"`, `"1m"`.
//! Parsing is exact decimal arithmetic (no floating point), so the same text always gives the
//! same number of nanoseconds on every machine.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

/// A signed span of simulated time (clock offsets and jumps), in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignedDuration(pub i64);

const NS_PER_US: u64 = 1_000;
const NS_PER_MS: u64 = 1_000_000;
const NS_PER_S: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(ns: u64) -> SimTime {
        SimTime(ns)
    }
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
    }
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s * NS_PER_S)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Time since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(ns: u64) -> SimDuration {
        SimDuration(ns)
    }
    pub const fn from_micros(us: u64) -> SimDuration {
        SimDuration(us * NS_PER_US)
    }
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * NS_PER_MS)
    }
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NS_PER_S)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        assert!(earlier <= self, "time went backwards: {earlier} > {self}");
        SimDuration(self.0 - earlier.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; write a number and a unit, e.g. \"150ms\" or \"2s\"")]
    Empty,
    #[error("negative duration \"{0}\"; durations must be zero or more")]
    Negative(String),
    #[error(
        "cannot parse duration \"{0}\"; write a number and a unit (ns, us, ms, s, m, h), e.g. \"150ms\", \"1.5s\""
    )]
    Invalid(String),
    #[error("duration \"{0}\" is too large (at most about 584 years)")]
    Overflow(String),
}

/// Parses an unsigned duration such as `"1.5s"` into nanoseconds.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    if t.starts_with('-') {
        return Err(DurationError::Negative(t.to_string()));
    }
    parse_unsigned_ns(t).map(SimDuration)
}

/// Parses a signed duration such as `"-200ms"` into nanoseconds.
pub fn parse_signed_duration(text: &str) -> Result<SignedDuration, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let ns = parse_unsigned_ns(body).map_err(|e| match e {
        DurationError::Invalid(_) => DurationError::Invalid(t.to_string()),
        other => other,
    })?;
    let ns = i64::try_from(ns).map_err(|_| DurationError::Overflow(t.to_string()))?;
    Ok(SignedDuration(if negative { -ns } else { ns }))
}

fn parse_unsigned_ns(t: &str) -> Result<u64, DurationError> {
    let invalid = || DurationError::Invalid(t.to_string());
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(invalid)?;
    let (number, unit) = (&t[..split], t[split..].trim());
    let scale = match unit {
        "ns" => 1,
        "us" | "µs" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_S,
        "m" | "min" => 60 * NS_PER_S,
        "h" => 3600 * NS_PER_S,
        _ => return Err(invalid()),
    };
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(invalid());
    }
    let overflow = || DurationError::Overflow(t.to_string());
    let whole_value: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| overflow())?
    };
    let mut ns = whole_value.checked_mul(scale).ok_or_else(overflow)?;
    // Exact decimal fraction: digits beyond the unit's resolution in nanoseconds are rejected.
    let mut place = scale;
    for digit in frac.bytes() {
        place /= 10;
        let d = u64::from(digit - b'0');
        if place == 0 {
            if d != 0 {
                return Err(DurationError::Invalid(format!("{t} (finer than 1ns)")));
            }
            continue;
        }
        ns = ns.checked_add(d * place).ok_or_else(overflow)?;
    }
    Ok(ns)
}

/// Writes nanoseconds in the shortest exact unit: `1.5s`, `150ms`, `7ns`.
fn format_ns(ns: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let units = [(NS_PER_S, "s"), (NS_PER_MS, "ms"), (NS_PER_US, "us")];
    for (scale, name) in units {
        if ns >= scale {
            let whole = ns / scale;
            let frac = ns % scale;
            if frac == 0 {
                return write!(f, "{whole}{name}");
            }
            let width = scale.ilog10() as usize;
            let digits = format!("{frac:0width$}");
            return write!(f, "{whole}.{}{name}", digits.trim_end_matches('0'));
        }
    }
    write!(f, "{ns}ns")
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_ns(self.0, f)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_ns(self.0, f)
    }
}

impl fmt::Display for SignedDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            f.write_str("-")?;
        }
        format_ns(self.0.unsigned_abs(), f)
    }
}

impl std::str::FromStr for SimDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s)
    }
}

struct DurationVisitor<const SIGNED: bool>;

impl<const SIGNED: bool> Visitor<'_> for DurationVisitor<SIGNED> {
    type Value = i128;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration with a unit, e.g. \"150ms\", \"2s\" or \"1.5s\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i128, E> {
        if SIGNED {
            parse_signed_duration(v).map(|d| i128::from(d.0))
        } else {
            parse_duration(v).map(|d| i128::from(d.0))
        }
        .map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        if v == 0 {
            Ok(0)
        } else {
            Err(E::custom(format!(
                "duration {v} has no unit; write e.g. \"{v}ms\" or \"{v}s\""
            )))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        if v >= 0 {
            return self.visit_u64(v as u64);
        }
        Err(E::custom(format!(
            "duration {v} has no unit; write e.g. \"{v}ms\""
        )))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i128, E> {
        Err(E::custom(format!(
            "duration {v} has no unit; write e.g. \"{v}s\""
        )))
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor::<false>)
            .map(|ns| SimDuration(ns as u64))
    }
}

impl<'de> Deserialize<'de> for SignedDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor::<true>)
            .map(|ns| SignedDuration(ns as i64))
    }
}

impl<'de> Deserialize<'de> for SimTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SimDuration::deserialize(d).map(|d| SimTime(d.0))
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for SignedDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for SimTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_fractions() {
        assert_eq!(parse_duration("150ms"), Ok(SimDuration(150_000_000)));
        assert_eq!(parse_duration("2s"), Ok(SimDuration(2_000_000_000)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration(1_500_000_000)));
        assert_eq!(parse_duration("0.25ms"), Ok(SimDuration(250_000)));
        assert_eq!(parse_duration("7ns"), Ok(SimDuration(7)));
        assert_eq!(parse_duration("3us"), Ok(SimDuration(3_000)));
        assert_eq!(parse_duration("2m"), Ok(SimDuration(120_000_000_000)));
        assert_eq!(parse_duration(" 1 s "), Ok(SimDuration(NS_PER_S)));
    }

    #[test]
    fn rejects_bad_durations() {
        assert!(matches!(
            parse_duration("-1s"),
            Err(DurationError::Negative(_))
        ));
        assert!(matches!(
            parse_duration("fast"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("10"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3s"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("5parsecs"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("1.5ns"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::Overflow(_))
        ));
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
    }

    #[test]
    fn signed_durations() {
        assert_eq!(
            parse_signed_duration("-200ms"),
            Ok(SignedDuration(-200_000_000))
        );
        assert_eq!(
            parse_signed_duration("+1s"),
            Ok(SignedDuration(1_000_000_000))
        );
    }

    #[test]
    fn display_round_trips() {
        for text in ["1.5s", "150ms", "7ns", "2.000001s", "3us", "0ns"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&d.to_string()), Ok(d), "{text}");
        }
        assert_eq!(SimDuration(1_500_000_000).to_string(), "1.5s");
        assert_eq!(SignedDuration(-5_000_000).to_string(), "-5ms");
    }

    #[test]
    #[should_panic(expected = "time went backwards")]
    fn subtracting_a_later_time_panics() {
        let _ = SimTime(1) - SimTime(2);
    }
}
