//! Triggered faults at run time: counting the events each trigger watches, and firing.
//!
//! Nothing here runs in a run without triggers: the core holds `None`. With triggers, each
//! kind of event (notes, sends, deliveries) is looked at only while a trigger of that kind
//! is still armed, and a message's kind is read only then.

use crate::faults::trigger::message_kind;
use crate::faults::{Fault, MessageAction, Response, TriggeredFault, Watch};
use crate::ids::NodeId;
use crate::time::SimTime;

struct Armed {
    spec: TriggeredFault,
    seen: u32,
    fired: bool,
}

/// A fault a trigger fired, due at `at`.
pub(crate) struct Fired {
    pub(crate) at: SimTime,
    pub(crate) fault: Fault,
    /// The event's node, where the trace notes the firing.
    pub(crate) node: NodeId,
    /// Which trigger fired, by its index among the run's triggers.
    pub(crate) index: usize,
}

/// The triggers of one run.
pub(crate) struct Triggers {
    armed: Vec<Armed>,
    /// Armed triggers by kind of event: notes, sends, deliveries.
    live: [u32; 3],
    kind_buf: String,
    /// Fired and not yet scheduled; the step loop moves them into the schedule.
    pub(crate) fired: Vec<Fired>,
}

const NOTE: usize = 0;
const SENT: usize = 1;
const DELIVERED: usize = 2;

fn slot(watch: &Watch) -> usize {
    match watch {
        Watch::Note(_) => NOTE,
        Watch::Sent(_) => SENT,
        Watch::Delivered(_) => DELIVERED,
    }
}

impl Triggers {
    /// `None` for a run without triggers, so the hot paths test one pointer.
    pub(crate) fn new(specs: Vec<TriggeredFault>) -> Option<Box<Triggers>> {
        if specs.is_empty() {
            return None;
        }
        let mut live = [0; 3];
        for s in &specs {
            live[slot(&s.trigger.watch)] += 1;
        }
        let armed = specs
            .into_iter()
            .map(|spec| Armed {
                spec,
                seen: 0,
                fired: false,
            })
            .collect();
        Some(Box::new(Triggers {
            armed,
            live,
            kind_buf: String::new(),
            fired: Vec::new(),
        }))
    }

    /// The trigger `index` as given.
    pub(crate) fn spec(&self, index: usize) -> &TriggeredFault {
        &self.armed[index].spec
    }

    /// Stops every trigger: faults stop when the liveness phase begins.
    pub(crate) fn disarm(&mut self) {
        self.live = [0; 3];
    }

    /// Every trigger, as given, and whether it has fired.
    pub(crate) fn all(&self) -> impl Iterator<Item = (&TriggeredFault, bool)> {
        self.armed.iter().map(|a| (&a.spec, a.fired))
    }

    pub(crate) fn watches_notes(&self) -> bool {
        self.live[NOTE] > 0
    }

    pub(crate) fn watches_sends(&self) -> bool {
        self.live[SENT] > 0
    }

    pub(crate) fn watches_deliveries(&self) -> bool {
        self.live[DELIVERED] > 0
    }

    /// `node` wrote the note `text` at `now`.
    pub(crate) fn on_note(&mut self, node: NodeId, text: &str, now: SimTime) {
        self.count(NOTE, node, now, |p| text.contains(p));
    }

    /// `from` sent `msg` at `now`: what to do to it, and which trigger says so, if one does.
    pub(crate) fn on_sent<M: std::fmt::Debug>(
        &mut self,
        from: NodeId,
        msg: &M,
        now: SimTime,
    ) -> Option<(MessageAction, usize)> {
        let mut kind = std::mem::take(&mut self.kind_buf);
        message_kind(msg, &mut kind);
        let action = self.count(SENT, from, now, |p| p == kind);
        self.kind_buf = kind;
        action
    }

    /// `msg` was delivered to `to` at `now`.
    pub(crate) fn on_delivered<M: std::fmt::Debug>(&mut self, to: NodeId, msg: &M, now: SimTime) {
        let mut kind = std::mem::take(&mut self.kind_buf);
        message_kind(msg, &mut kind);
        self.count(DELIVERED, to, now, |p| p == kind);
        self.kind_buf = kind;
    }

    /// Counts an event of `kind` at `node` against every armed trigger of that kind whose
    /// pattern `matches`, and fires those that reach their `nth`.
    fn count(
        &mut self,
        kind: usize,
        node: NodeId,
        now: SimTime,
        matches: impl Fn(&str) -> bool,
    ) -> Option<(MessageAction, usize)> {
        let mut action = None;
        for (index, a) in self.armed.iter_mut().enumerate() {
            let t = &a.spec.trigger;
            if a.fired
                || self.live[kind] == 0
                || slot(&t.watch) != kind
                || t.node.is_some_and(|n| n != node)
                || t.before.is_some_and(|b| now >= b)
            {
                continue;
            }
            if !matches(t.watch.pattern()) {
                continue;
            }
            a.seen += 1;
            if a.seen < t.nth {
                continue;
            }
            a.fired = true;
            self.live[kind] -= 1;
            match &a.spec.response {
                Response::Message(m) => action = action.or(Some((*m, index))),
                Response::Fault { after, fault } => self.fired.push(Fired {
                    at: now + *after,
                    fault: fault.for_node(node),
                    node,
                    index,
                }),
            }
        }
        action
    }
}
