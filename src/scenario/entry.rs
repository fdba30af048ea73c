//! A protocol as a scenario sees it: its parameters with their type erased, and the one place
//! where a scenario turns into a simulation of a particular [`Protocol`].
//!
//! Everything about a protocol that depends on its type (reading `params:`, building nodes,
//! running and checking) is monomorphised here once per registered protocol, behind
//! [`ProtocolEntry`]; the rest of the scenario layer, and everything above it (fuzzing,
//! shrinking, explanations), works on any protocol without naming it.

use super::Scenario;
use super::context;
use super::exhaustive::{ExploreOptions, explore_typed, replay_typed};
use super::run::{RunError, RunOptions, RunReport, run_typed};
use super::schema::ScenarioFile;
use crate::exhaustive::{ExploreError, Outcome, Progress};
use crate::protocol::{Protocol, ProtocolInfo};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Error as _, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A scenario's `params:`: the typed parameters of its protocol ([`Protocol::Params`]).
///
/// ```
/// use faultline::protocols::paxos::Params;
/// let mut scenario = faultline::Registry::builtin().load("scenarios/paxos-agreement.yaml".as_ref())?;
/// let params = scenario.params.get_mut::<Params>().expect("a Paxos scenario");
/// params.client_values = true;
/// assert!(scenario.params.get::<faultline::protocols::raft::Params>().is_none());
/// # Ok::<(), faultline::scenario::ScenarioError>(())
/// ```
pub struct ProtocolParams(Box<dyn ErasedParams>);

/// What [`ProtocolParams`] needs of a protocol's parameter type.
trait ErasedParams: Any + fmt::Debug + Send + Sync {
    fn clone_box(&self) -> Box<dyn ErasedParams>;
    fn to_yaml(&self) -> Result<serde_yaml::Value, serde_yaml::Error>;
}

impl<T: Serialize + Clone + fmt::Debug + Send + Sync + 'static> ErasedParams for T {
    fn clone_box(&self) -> Box<dyn ErasedParams> {
        Box::new(self.clone())
    }
    fn to_yaml(&self) -> Result<serde_yaml::Value, serde_yaml::Error> {
        serde_yaml::to_value(self)
    }
}

impl ProtocolParams {
    /// Wraps a protocol's parameters.
    pub fn new<T: Serialize + Clone + fmt::Debug + Send + Sync + 'static>(
        params: T,
    ) -> ProtocolParams {
        ProtocolParams(Box::new(params))
    }

    /// The parameters, if they are a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        let any: &dyn Any = self.0.as_ref();
        any.downcast_ref()
    }

    /// The parameters, if they are a `T`, to change before a run.
    pub fn get_mut<T: 'static>(&mut self) -> Option<&mut T> {
        let any: &mut dyn Any = self.0.as_mut();
        any.downcast_mut()
    }
}

impl Clone for ProtocolParams {
    fn clone(&self) -> Self {
        ProtocolParams(self.0.clone_box())
    }
}

impl fmt::Debug for ProtocolParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for ProtocolParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value = self.0.to_yaml().map_err(serde::ser::Error::custom)?;
        value.serialize(s)
    }
}

/// What the scenario layer does with a protocol whose type it does not know.
trait Erased: Send + Sync {
    fn info(&self) -> ProtocolInfo;
    /// The second parsing pass, with `params:` read as this protocol's own type.
    fn read(
        &self,
        text: &str,
    ) -> Result<(ScenarioFile<IgnoredAny>, ProtocolParams), serde_yaml::Error>;
    fn run(&self, scenario: &Scenario, options: RunOptions) -> Result<RunReport, RunError>;
    fn explore(
        &self,
        scenario: &Scenario,
        options: ExploreOptions,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<Outcome, ExploreError>;
    fn replay(&self, scenario: &Scenario, options: RunOptions) -> Result<RunReport, RunError>;
    /// Whether the protocol's default parameters fit a node count.
    fn default_params_check(&self) -> fn(u32) -> Result<(), String>;
}

struct Typed<P>(PhantomData<fn() -> P>);

/// `params:` read as protocol `P`'s own type, then checked by [`Protocol::check_params`] while
/// the parser still knows where they are.
struct Checked<P: Protocol>(P::Params);

impl<'de, P: Protocol> Deserialize<'de> for Checked<P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The check runs inside the visitor, where serde_yaml still knows the position of
        // `params:` and puts it on the error; after `deserialize` returns it no longer would.
        d.deserialize_any(CheckedVisitor::<P>(PhantomData))
    }
}

struct CheckedVisitor<P>(PhantomData<fn() -> P>);

impl<P: Protocol> CheckedVisitor<P> {
    fn checked<'de, D: Deserializer<'de>>(d: D) -> Result<Checked<P>, D::Error> {
        let params = P::Params::deserialize(d)?;
        check::<P>(&params).map_err(D::Error::custom)?;
        Ok(Checked(params))
    }
}

impl<'de, P: Protocol> Visitor<'de> for CheckedVisitor<P> {
    type Value = Checked<P>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the parameters of protocol `{}`", P::NAME)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Checked<P>, A::Error> {
        Self::checked(MapAccessDeserializer::new(map))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Checked<P>, A::Error> {
        Self::checked(SeqAccessDeserializer::new(seq))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Checked<P>, E> {
        Self::checked(().into_deserializer())
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Checked<P>, E> {
        Self::checked(v.into_deserializer())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Checked<P>, E> {
        Self::checked(v.into_deserializer())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Checked<P>, E> {
        Self::checked(v.into_deserializer())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Checked<P>, E> {
        Self::checked(v.into_deserializer())
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Checked<P>, E> {
        Self::checked(v.into_deserializer())
    }
}

fn check<P: Protocol>(params: &P::Params) -> Result<(), String> {
    let nodes = context::inspect(|c| c.nodes.len()).unwrap_or(0);
    let nodes = u32::try_from(nodes).unwrap_or(u32::MAX);
    P::check_params(params, nodes)
}

impl<P: Protocol> Erased for Typed<P> {
    fn info(&self) -> ProtocolInfo {
        ProtocolInfo::of::<P>()
    }

    fn read(
        &self,
        text: &str,
    ) -> Result<(ScenarioFile<IgnoredAny>, ProtocolParams), serde_yaml::Error> {
        let file: ScenarioFile<Checked<P>> = serde_yaml::from_str(text)?;
        let (file, params) = file.split();
        // Defaults were checked against the node count where `nodes:` is read.
        let params = params.map_or_else(P::Params::default, |Checked(params)| params);
        Ok((file, ProtocolParams::new(params)))
    }

    fn default_params_check(&self) -> fn(u32) -> Result<(), String> {
        |nodes| P::check_params(&P::Params::default(), nodes)
    }

    fn run(&self, scenario: &Scenario, options: RunOptions) -> Result<RunReport, RunError> {
        let params = scenario
            .params
            .get::<P::Params>()
            .ok_or(RunError::Params { protocol: P::NAME })?;
        run_typed::<P>(scenario, params, options)
    }

    fn explore(
        &self,
        scenario: &Scenario,
        options: ExploreOptions,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<Outcome, ExploreError> {
        let params = scenario
            .params
            .get::<P::Params>()
            .ok_or_else(|| ExploreError::Build(format!("the parameters are not {}'s", P::NAME)))?;
        explore_typed::<P>(scenario, params, options, progress)
    }

    fn replay(&self, scenario: &Scenario, options: RunOptions) -> Result<RunReport, RunError> {
        let params = scenario
            .params
            .get::<P::Params>()
            .ok_or(RunError::Params { protocol: P::NAME })?;
        replay_typed::<P>(scenario, params, options)
    }
}

/// One protocol a scenario can name: see [`crate::Registry`].
#[derive(Clone)]
pub struct ProtocolEntry {
    name: &'static str,
    erased: Arc<dyn Erased>,
}

impl ProtocolEntry {
    pub(crate) fn of<P: Protocol>() -> ProtocolEntry {
        ProtocolEntry {
            name: P::NAME,
            erased: Arc::new(Typed::<P>(PhantomData)),
        }
    }

    /// The name scenario files give it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its parameters, properties and bug variants.
    pub fn info(&self) -> ProtocolInfo {
        self.erased.info()
    }

    pub(crate) fn read(
        &self,
        text: &str,
    ) -> Result<(ScenarioFile<IgnoredAny>, ProtocolParams), serde_yaml::Error> {
        self.erased.read(text)
    }

    pub(crate) fn default_params_check(&self) -> fn(u32) -> Result<(), String> {
        self.erased.default_params_check()
    }

    pub(crate) fn run(
        &self,
        scenario: &Scenario,
        options: RunOptions,
    ) -> Result<RunReport, RunError> {
        self.erased.run(scenario, options)
    }

    pub(crate) fn explore(
        &self,
        scenario: &Scenario,
        options: ExploreOptions,
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<Outcome, ExploreError> {
        self.erased.explore(scenario, options, progress)
    }

    pub(crate) fn replay(
        &self,
        scenario: &Scenario,
        options: RunOptions,
    ) -> Result<RunReport, RunError> {
        self.erased.replay(scenario, options)
    }
}

impl fmt::Debug for ProtocolEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}
