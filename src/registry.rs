//! The protocols scenario files can name, and so every subcommand of [`crate::cli::main`].
//!
//! ```
//! use faultline::Registry;
//!
//! let registry = Registry::builtin();
//! assert!(registry.names().contains(&"raft"));
//! let scenario = registry.load("scenarios/echo-loss.yaml".as_ref())?;
//! assert_eq!(scenario.protocol, "echo");
//!
//! // A registry knows only what was put in it, and says so where the file names another.
//! let error = Registry::empty().load("scenarios/echo-loss.yaml".as_ref()).unwrap_err();
//! assert!(error.to_string().contains("unknown protocol `echo`"), "{error}");
//! # Ok::<(), faultline::scenario::ScenarioError>(())
//! ```
//!
//! A protocol of your own is added with [`Registry::with`]; see the [`crate::protocol`]
//! module for a complete one and docs/your-protocol.md for a walkthrough.

use crate::protocol::{Protocol, ProtocolInfo};
use crate::scenario::{self, ProtocolEntry, Scenario, ScenarioError};
use std::path::Path;

/// A set of protocols by name, in the order they were added (the order `list` shows).
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: Vec<ProtocolEntry>,
}

impl Registry {
    /// A registry with no protocol at all; [`Registry::builtin`] has the reference protocols.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Adds protocol `P`, named in scenario files by [`Protocol::NAME`].
    ///
    /// # Panics
    /// If a protocol of that name is already registered: two protocols answering to one
    /// name would make scenario files ambiguous.
    #[must_use]
    pub fn with<P: Protocol>(mut self) -> Registry {
        assert!(
            self.get(P::NAME).is_none(),
            "a protocol named `{}` is already registered",
            P::NAME
        );
        self.entries.push(ProtocolEntry::of::<P>());
        self
    }

    /// The registered protocols' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(ProtocolEntry::name).collect()
    }

    /// The protocol named `name`.
    pub fn get(&self, name: &str) -> Option<&ProtocolEntry> {
        self.entries.iter().find(|e| e.name() == name)
    }

    /// Every registered protocol's documentation, in order.
    pub fn infos(&self) -> Vec<ProtocolInfo> {
        self.entries.iter().map(ProtocolEntry::info).collect()
    }

    /// Reads and validates a scenario file naming one of these protocols.
    pub fn load(&self, path: &Path) -> Result<Scenario, ScenarioError> {
        scenario::load(&self.entries, path)
    }

    /// Parses and validates scenario text; `file` names it in errors.
    pub fn parse(&self, text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        scenario::parse(&self.entries, text, file)
    }
}
