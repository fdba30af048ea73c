//! Paxos as a write-once register (`client_values: true`, a `register` workload on key 0).
//!
//! A write proposes its value (the node's first write becomes its proposal) and is answered
//! once the node learns the chosen value: `ok` if it is the written value, `fail` otherwise,
//! since in single-decree Paxos a value that was not chosen never will be. A read returns the
//! learned value, and fails while the node knows none: answering nil there could hide a value
//! already chosen and acknowledged elsewhere.

use super::{Paxos, Phase, Val};
use crate::history::Value;
use crate::process::Ctx;
use crate::workload::{ClientOp, Reply, Request};

/// Most client writes one node keeps waiting for the decision; more are refused.
pub const PENDING_MAX: usize = 1024;

impl Paxos {
    pub(super) fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        if !self.client_values {
            let why = "this paxos decides among its nodes' own values (client_values: false)";
            ctx.reply(request.id, Reply::Fail(why));
            return;
        }
        match request.op {
            ClientOp::Read { key: 0 } => {
                let reply = match self.durable.learned {
                    Some(value) => Reply::Ok(Value::Int(value as i64)),
                    None => Reply::Fail("no value is known here to be chosen yet"),
                };
                ctx.reply(request.id, reply);
            }
            ClientOp::Write { key: 0, value } => {
                let Ok(value) = Val::try_from(value) else {
                    ctx.reply(
                        request.id,
                        Reply::Fail("only values from 0 up are proposed"),
                    );
                    return;
                };
                self.write(ctx, request, value);
            }
            ClientOp::Read { .. } | ClientOp::Write { .. } => {
                ctx.reply(request.id, Reply::Fail("paxos holds one register, key 0"));
            }
            _ => ctx.reply(
                request.id,
                Reply::Fail("paxos serves reads and writes only"),
            ),
        }
    }

    fn write(&mut self, ctx: &mut Ctx<'_, Self>, request: Request, value: Val) {
        if let Some(chosen) = self.durable.learned {
            ctx.reply(request.id, verdict(chosen, value));
            return;
        }
        if self.pending.len() >= PENDING_MAX {
            ctx.reply(request.id, Reply::Fail("too many writes are waiting here"));
            return;
        }
        self.pending.insert(request.id, value);
        if self.own.is_none() {
            self.own = Some(value);
        }
        // Propose now rather than at the next timer, unless a proposal is under way.
        if self.phase == Phase::Idle {
            self.propose(ctx);
        }
    }

    /// Answers every waiting write now that `chosen` is learned.
    pub(super) fn answer_writes(&mut self, ctx: &mut Ctx<'_, Self>, chosen: Val) {
        for (id, value) in std::mem::take(&mut self.pending) {
            ctx.reply(id, verdict(chosen, value));
        }
    }
}

fn verdict(chosen: Val, written: Val) -> Reply {
    if chosen == written {
        Reply::Ok(Value::Nil)
    } else {
        Reply::Fail("another value was chosen")
    }
}
