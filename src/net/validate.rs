//! The one validation of link settings. [`crate::SimBuilder::build`] calls
//! [`NetworkConfig::validate`]; the scenario parser checks each `network:` value with the same
//! functions while reading it, so both reject the same settings in the same words.

use super::{LinkConfig, NetworkConfig};
use crate::ids::NodeId;
use std::fmt;

/// A probability as accepted everywhere: in [0, 1] (NaN is not).
pub fn check_probability(p: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!(
            "probability {p} is outside [0, 1]; write e.g. 0.01 for 1 %"
        ))
    }
}

/// A link capacity as accepted everywhere: at least one message in flight (a capacity of 0
/// would silently drop every message), at most `u32::MAX`.
pub fn check_capacity(messages: u64) -> Result<u32, String> {
    match u32::try_from(messages) {
        Ok(c) if c >= 1 => Ok(c),
        _ => Err(format!(
            "capacity {messages} must be between 1 and {} messages in flight",
            u32::MAX
        )),
    }
}

impl LinkConfig {
    /// Checks every setting of the link: a valid [`super::Latency`], `drop` and `duplicate`
    /// probabilities in [0, 1], a capacity of at least 1. The message starts with the field,
    /// as the parser's does (`drop: probability 1.5 is outside [0, 1]; ...`).
    ///
    /// ```
    /// use faultline::LinkConfig;
    ///
    /// assert!(LinkConfig::default().validate().is_ok());
    /// let lossy = LinkConfig { drop: f64::NAN, ..LinkConfig::default() };
    /// assert!(lossy.validate().unwrap_err().starts_with("drop: probability NaN is outside [0, 1]"));
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        let field = |name: &'static str| move |e: String| format!("{name}: {e}");
        self.latency.validate().map_err(field("latency"))?;
        check_probability(self.drop).map_err(field("drop"))?;
        check_probability(self.duplicate).map_err(field("duplicate"))?;
        if let Some(c) = self.capacity {
            check_capacity(u64::from(c)).map_err(field("capacity"))?;
        }
        Ok(())
    }
}

/// What is wrong with a network: which link, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkError {
    /// `None` for the default link, else the directed override `(from, to)`.
    pub link: Option<(NodeId, NodeId)>,
    pub message: String,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", link_words(self.link), self.message)
    }
}

impl std::error::Error for LinkError {}

/// `the default link` or `link n1 → n2`.
pub(crate) fn link_words(link: Option<(NodeId, NodeId)>) -> String {
    match link {
        None => "the default link".into(),
        Some((from, to)) => format!("link {from} → {to}"),
    }
}

impl NetworkConfig {
    /// Checks the default link and every override ([`LinkConfig::validate`]), and that each
    /// override joins two of the `node_count` nodes.
    pub fn validate(&self, node_count: u32) -> Result<(), LinkError> {
        let fail = |link, message| Err(LinkError { link, message });
        if let Err(message) = self.default.validate() {
            return fail(None, message);
        }
        for (&(from, to), config) in &self.links {
            let link = Some((from, to));
            if let Some(&node) = [from, to].iter().find(|n| n.0 >= node_count) {
                return fail(link, crate::faults::node_out_of_range(node, node_count));
            }
            if let Err(message) = config.validate() {
                return fail(link, message);
            }
        }
        Ok(())
    }
}
