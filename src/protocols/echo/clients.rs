//! Echo as a unique-id service: a client's `generate` is served by the server like a node's
//! request, with the next sequence number, durable before the reply leaves. Other nodes
//! redirect clients to the server. The history is checked for duplicate ids.

use super::{Echo, KEY_COUNTER, Role, SERVER, Server};
use crate::history::Value;
use crate::process::Ctx;
use crate::workload::{ClientOp, Reply, Request};

impl Echo {
    pub(super) fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
        let reply = match (&mut self.role, &request.op) {
            (Role::Server(server), ClientOp::Generate) => server.generate(ctx),
            (Role::Server(_), _) => Reply::Fail("echo serves only unique-id generation"),
            (Role::Client(_), _) => Reply::Redirect(Some(SERVER)),
        };
        ctx.reply(request.id, reply);
    }
}

impl Server {
    /// The next sequence number, made durable first (unless the log is unsynced).
    fn generate(&mut self, ctx: &mut Ctx<'_, Echo>) -> Reply {
        self.counter += 1;
        let storage = ctx.storage();
        storage.put(KEY_COUNTER, self.counter.to_le_bytes());
        if self.bug != Some(super::Bug::UnsyncedLog) {
            storage.sync();
        }
        Reply::Ok(Value::Int(self.counter as i64))
    }
}
