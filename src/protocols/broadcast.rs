//! Placeholder; replaced by the real protocol.

use super::{BugDoc, BuiltinProtocol, ParamDoc};
use crate::check::Property;
use crate::process::{Ctx, NodeId, Process, TimerId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

pub struct Broadcast;

impl Process for Broadcast {
    type Message = ();
    type Timer = ();
    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}
    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _t: TimerId, _tag: ()) {}
}

impl BuiltinProtocol for Broadcast {
    const NAME: &'static str = "broadcast";
    const SUMMARY: &'static str = "placeholder";
    type Params = Params;
    fn param_docs() -> &'static [ParamDoc] {
        &[]
    }
    fn bugs() -> &'static [BugDoc] {
        &[]
    }
    fn properties() -> Vec<Property<Self>> {
        Vec::new()
    }
    fn new(_id: NodeId, _n: u32, _params: &Params, _bug: Option<&'static str>) -> Self {
        Broadcast
    }
}
