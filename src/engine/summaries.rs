//! Recording node summaries ([`crate::Summary`]) for the viewer's state strip: each handler's
//! node summarised after it runs. Off by default; when off, a handler call costs one
//! predictable branch more.

use super::Sim;
use super::process::{Ctx, Process};
use crate::ids::NodeId;
use crate::protocol::Protocol;
use crate::summary::Summary;

/// Summarises a process (the protocol's [`Protocol::summary`], chosen when recording starts).
pub(crate) type Summarize<P> = fn(&P) -> Summary;

impl<P: Process> Sim<P> {
    /// From now on, every handler's node is summarised after the handler and its summary
    /// handed to the trace sink ([`crate::trace::TraceSink::node_summary`]).
    pub fn record_summaries(&mut self)
    where
        P: Protocol,
    {
        self.summarize = Some(<P as Protocol>::summary);
    }

    /// Runs a handler of node `id`, whose trace event was just recorded, with states too if
    /// they are recorded, and hands the node's summary after it to the sink.
    #[cold]
    #[inline(never)]
    pub(super) fn handle_summarizing(
        &mut self,
        id: NodeId,
        summarize: Summarize<P>,
        handler: impl FnOnce(&mut P, &mut Ctx<'_, P>),
    ) {
        let index = self.core.tracer.count() - 1;
        match self.render_state {
            Some(render) => self.handle_recording(id, render, handler),
            None => {
                let proc = self.procs[id.index()]
                    .as_mut()
                    .expect("an up node has a process");
                let mut ctx = Ctx::engine(id, &mut self.core, &mut self.nodes[id.index()]);
                handler(proc, &mut ctx);
            }
        }
        if let Some(proc) = self.procs[id.index()].as_ref() {
            let summary = summarize(proc);
            self.core.tracer.node_summary(index, id, &summary);
        }
    }
}
