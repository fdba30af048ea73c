//! Deserialization helpers whose errors keep their YAML location.
//!
//! serde_yaml attaches the position of the value being read to any error raised while reading
//! it. Validation therefore happens inside `Deserialize` impls (never after), so that e.g. a
//! probability of 1.5 is reported at its own line and column.

use super::context::{inspect, one_of, protocols};
use crate::serde_util::{f64_then, str_then};
use serde::de::{Deserialize, Deserializer};

/// A probability in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64_then(d, "a probability between 0 and 1", |p| {
            crate::net::check_probability(p).map(Probability)
        })
    }
}

/// How a triggered fault names the node its trigger fired at.
pub const TRIGGER_NODE_NAME: &str = "$node";

/// A reference to a node by name; checked against the scenario's nodes in the second pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRef(pub String);

impl<'de> Deserialize<'de> for NodeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a node name", |name| {
            if name == TRIGGER_NODE_NAME {
                // Allowed by triggered faults only; `faults.rs` rejects it elsewhere.
                return Ok(NodeRef(name.to_string()));
            }
            check_known(name, "node", |c| {
                c.nodes.iter().map(String::as_str).collect()
            })?;
            Ok(NodeRef(name.to_string()))
        })
    }
}

/// A node an event of a `schedule:` acts on, checked against the scenario's nodes in the
/// second pass (where the error can still point at the name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventNodeRef(pub String);

impl<'de> Deserialize<'de> for EventNodeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a node name", |name| {
            check_known(name, "node", |c| {
                c.nodes.iter().map(String::as_str).collect()
            })?;
            Ok(EventNodeRef(name.to_string()))
        })
    }
}

/// A property name of the scenario's protocol, or the name of its workload's history check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyRef(pub String);

impl<'de> Deserialize<'de> for PropertyRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a property name", |name| {
            check_known(name, "property", |c| {
                c.properties
                    .iter()
                    .copied()
                    .chain(c.history_check)
                    .collect()
            })?;
            Ok(PropertyRef(name.to_string()))
        })
    }
}

/// A condition for a liveness goal: a property of the protocol, evaluated on node states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionRef(pub String);

impl<'de> Deserialize<'de> for ConditionRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a property name", |name| {
            if inspect(|c| c.history_check == Some(name)).unwrap_or(false) {
                return Err(format!(
                    "`{name}` judges the clients' history once the run is over; a liveness \
                     condition must be a property of the nodes' states"
                ));
            }
            check_known(name, "property", |c| c.properties.clone())?;
            Ok(ConditionRef(name.to_string()))
        })
    }
}

/// A bug variant of the scenario's protocol, by name or sealed (`{ sealed: "..." }`, see
/// [`super::seal`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BugRef {
    pub name: String,
    pub sealed: bool,
}

impl<'de> Deserialize<'de> for BugRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BugVisitor)
    }
}

struct BugVisitor;

impl<'de> serde::de::Visitor<'de> for BugVisitor {
    type Value = BugRef;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a bug variant name, or `{ sealed: \"...\" }`")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<BugRef, E> {
        check_known(name, "bug variant", |c| c.bugs.clone()).map_err(E::custom)?;
        Ok(BugRef {
            name: name.to_string(),
            sealed: false,
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<BugRef, A::Error> {
        use serde::de::Error;
        let mut sealed: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "sealed" || sealed.is_some() {
                return Err(A::Error::custom(format!(
                    "`bug:` takes a bug variant name or `{{ sealed: \"...\" }}`, not `{key}`"
                )));
            }
            sealed = Some(map.next_value()?);
        }
        let sealed = sealed.ok_or_else(|| A::Error::custom("`bug: {}` names no sealed bug"))?;
        // The first pass does not know the protocol yet: the second checks the name.
        let Some((protocol, bugs)) = inspect(|c| (c.protocol.clone(), c.bugs.clone())) else {
            return Ok(BugRef {
                name: sealed,
                sealed: true,
            });
        };
        match super::seal::unseal(&protocol, &sealed) {
            Some(name) if bugs.contains(&name.as_str()) => Ok(BugRef { name, sealed: true }),
            _ => Err(A::Error::custom(format!(
                "`{sealed}` is not a sealed bug variant of protocol `{protocol}` (`faultline \
                 seal {protocol} BUG` seals one)"
            ))),
        }
    }
}

fn check_known(
    name: &str,
    what: &str,
    known: impl FnOnce(&super::context::Context) -> Vec<&str>,
) -> Result<(), String> {
    let verdict = inspect(|c| {
        let names = known(c);
        if names.contains(&name) {
            Ok(())
        } else {
            let owner = if what == "node" {
                String::new()
            } else {
                format!(" of protocol `{}`", c.protocol)
            };
            Err(format!(
                "unknown {what} `{name}`{owner}; expected {}",
                one_of(&names)
            ))
        }
    });
    verdict.unwrap_or(Ok(()))
}

/// A registered protocol's name, checked on the first pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolRef(pub String);

impl<'de> Deserialize<'de> for ProtocolRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        str_then(d, "a protocol name", |name| {
            protocols(|known| {
                if known.contains(&name) {
                    Ok(ProtocolRef(name.to_string()))
                } else if known.is_empty() {
                    Err(format!(
                        "unknown protocol `{name}`: no protocol is registered"
                    ))
                } else {
                    Err(format!(
                        "unknown protocol `{name}`; expected {} (see the `list` subcommand)",
                        one_of(known)
                    ))
                }
            })
        })
    }
}
