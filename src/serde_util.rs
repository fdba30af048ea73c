//! Serde helpers shared by the YAML-facing types.

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Reads a mapping as `F`, then converts it with `convert`; a conversion error is located at
/// the mapping.
pub fn map_then<'de, D, F, T>(
    d: D,
    expecting: &'static str,
    convert: fn(F) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: Deserialize<'de>,
{
    struct V<F, T> {
        expecting: &'static str,
        convert: fn(F) -> Result<T, String>,
        marker: PhantomData<F>,
    }
    impl<'de, F: Deserialize<'de>, T> Visitor<'de> for V<F, T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let fields = F::deserialize(MapAccessDeserializer::new(map))?;
            (self.convert)(fields).map_err(de::Error::custom)
        }
    }
    d.deserialize_map(V {
        expecting,
        convert,
        marker: PhantomData,
    })
}

/// Reads a string and checks it with `check`; the error is located at the string itself.
pub fn str_then<'de, D, T, F>(d: D, expecting: &'static str, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    struct V<F>(&'static str, F);
    impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(V(expecting, check))
}

/// Reads a number as `f64` and checks it with `check`; the error is located at the number.
pub fn f64_then<'de, D, T, F>(d: D, expecting: &'static str, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(f64) -> Result<T, String>,
{
    struct V<F>(&'static str, F);
    impl<'de, T, F: FnOnce(f64) -> Result<T, String>> Visitor<'de> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            self.visit_f64(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            self.visit_f64(v as f64)
        }
    }
    d.deserialize_f64(V(expecting, check))
}

/// Reads an unsigned integer and checks it with `check`; the error is located at the number.
pub fn u64_then<'de, D, T, F>(d: D, expecting: &'static str, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(u64) -> Result<T, String>,
{
    struct V<F>(&'static str, F);
    impl<'de, T, F: FnOnce(u64) -> Result<T, String>> Visitor<'de> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            match u64::try_from(v) {
                Ok(u) => self.visit_u64(u),
                Err(_) => Err(E::custom(format!("{v} is negative; expected {}", self.0))),
            }
        }
    }
    d.deserialize_u64(V(expecting, check))
}
