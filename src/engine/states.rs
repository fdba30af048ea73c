//! Recording node states into the trace: each handler's node rendered with `Debug` before and
//! after it runs. Off by default; when off, a handler call costs one predictable branch more.

use super::Sim;
use super::process::{Ctx, Process};
use crate::ids::NodeId;
use std::fmt;

/// Renders a process state into a buffer (monomorphised `Debug`, chosen when recording starts).
pub(crate) type RenderState<P> = fn(&P, &mut String);

fn render_debug<P: fmt::Debug>(process: &P, out: &mut String) {
    use fmt::Write;
    out.clear();
    let _ = write!(out, "{process:?}");
}

impl<P: Process> Sim<P> {
    /// From now on, every handler's node state is rendered with `Debug` before and after the
    /// handler and handed to the trace sink ([`crate::trace::TraceSink::node_states`]).
    pub fn record_states(&mut self)
    where
        P: fmt::Debug,
    {
        self.render_state = Some(render_debug::<P>);
    }

    /// Runs a handler of node `id`, whose trace event was just recorded.
    #[inline(always)]
    pub(crate) fn handle(&mut self, id: NodeId, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>)) {
        if let Some(summarize) = self.summarize {
            self.handle_summarizing(id, summarize, handler);
            return;
        }
        if let Some(render) = self.render_state {
            self.handle_recording(id, render, handler);
            return;
        }
        let proc = self.procs[id.index()]
            .as_mut()
            .expect("an up node has a process");
        let mut ctx = Ctx::engine(id, &mut self.core, &mut self.nodes[id.index()]);
        handler(proc, &mut ctx);
    }

    #[cold]
    #[inline(never)]
    pub(super) fn handle_recording(
        &mut self,
        id: NodeId,
        render: RenderState<P>,
        handler: impl FnOnce(&mut P, &mut Ctx<'_, P>),
    ) {
        let index = self.core.tracer.count() - 1;
        let proc = self.procs[id.index()]
            .as_mut()
            .expect("an up node has a process");
        // Only handlers change a process, so its state before one is what the last one left,
        // unless the process was replaced since (a start, a crash, an explored state).
        let before = match self.rendered.remove(&id) {
            Some(text) => text,
            None => {
                let mut text = String::new();
                render(proc, &mut text);
                text
            }
        };
        let mut ctx = Ctx::engine(id, &mut self.core, &mut self.nodes[id.index()]);
        handler(proc, &mut ctx);
        // The state after is about as long as the one before: no regrowing while rendering.
        let mut after = String::with_capacity(before.len() + before.len() / 8);
        render(proc, &mut after);
        self.core.tracer.node_states(index, &before, &after);
        self.rendered.insert(id, after);
    }
}
