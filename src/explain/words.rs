//! One event in plain words, for the explanation's steps and the ShiViz log's descriptions.

use super::capture::Captured;
use super::causality::Causality;
use crate::process::NodeId;
use crate::trace::{TraceKind, client_name, client_op};

/// Message contents and other details longer than this are cut, to keep a step on one line.
pub const MAX_DETAIL_CHARS: usize = 110;

/// Names listed before the rest are counted: a violation can involve every node of a big run.
pub const NAMES_LISTED_MAX: usize = 8;

/// `n1, n2, n3` or, for a long list, `n1, n2, ..., n8 and 192 more`.
pub fn name_list(names: &[String]) -> String {
    let shown = names[..names.len().min(NAMES_LISTED_MAX)].join(", ");
    match names.len().saturating_sub(NAMES_LISTED_MAX) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// `detail`, on one line and at most [`MAX_DETAIL_CHARS`] characters.
pub fn short(detail: &str) -> String {
    let flat: String = detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= MAX_DETAIL_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(MAX_DETAIL_CHARS - 1).collect();
    format!("{cut}…")
}

/// Describes event `i` of `events`: `n4 received Vote { .. } from n3 (sent at 615.6ms)`.
pub fn event_words(events: &[Captured], causality: &Causality, i: usize) -> String {
    let c = &events[i];
    let name = |n: NodeId| {
        causality
            .hosts
            .get(n.index())
            .cloned()
            .unwrap_or_else(|| n.to_string())
    };
    let who = name(c.event.node);
    let detail = c.detail.as_deref().map(short);
    let client = |kind| {
        client_op(&kind).map_or_else(String::new, |(c, _)| format!("client {}", client_name(c)))
    };
    // An op is named by its number in the history, as the report and the viewer name it.
    let op = |kind| match client_op(&kind) {
        Some((c, seq)) => match causality.ops.number(c, seq) {
            Some(n) => format!("op {n}"),
            None => format!("seq {seq}"),
        },
        None => String::new(),
    };
    match c.event.kind {
        TraceKind::Deliver { from, msg_id } | TraceKind::Hold { from, msg_id } => {
            arrival(events, causality, i, &name(from), msg_id)
        }
        TraceKind::Send { to, msg_id } => format!(
            "{who} sent {} to {} (msg {msg_id})",
            detail.unwrap_or_else(|| "a message".into()),
            name(to)
        ),
        TraceKind::TimerFired { timer } => match detail {
            Some(tag) => format!("{who}'s timer {tag} fired"),
            None => format!("{who}'s timer {timer} fired"),
        },
        TraceKind::Note => format!("{who} notes: {}", detail.unwrap_or_default()),
        TraceKind::Crash { lost_writes } => {
            format!("{who} crashed, losing {lost_writes} unsynced storage writes")
        }
        TraceKind::Partition | TraceKind::Heal | TraceKind::Pause | TraceKind::Resume => {
            let what = c.event.kind.name();
            match detail {
                Some(d) => format!("{what} at {who}: {d}"),
                None => format!("{what} at {who}"),
            }
        }
        TraceKind::Invoke { .. } => format!(
            "{} invoked {}, {}, sending it to {who}",
            client(c.event.kind),
            op(c.event.kind),
            detail.unwrap_or_default()
        ),
        TraceKind::Request { .. } => {
            format!(
                "{who} received {}'s request ({})",
                client(c.event.kind),
                op(c.event.kind)
            )
        }
        TraceKind::RequestLost { .. } => format!(
            "{who} was down when {}'s request arrived ({})",
            client(c.event.kind),
            op(c.event.kind)
        ),
        TraceKind::Reply { .. } => format!(
            "{who} replied to {} ({}): {}",
            client(c.event.kind),
            op(c.event.kind),
            detail.unwrap_or_default()
        ),
        TraceKind::Complete { status, .. } => format!(
            "{} recorded {} as {}",
            client(c.event.kind),
            op(c.event.kind),
            status.name()
        ),
        _ => {
            let line = c.event.describe(&causality.hosts[..causality.node_count]);
            // `describe` starts with `#i at t: `; the step shows index and time itself.
            let words = line.split_once(": ").map_or(line.as_str(), |(_, w)| w);
            match detail {
                Some(d) => format!("{words} ({d})"),
                None => words.to_string(),
            }
        }
    }
}

/// `n4 received Vote { .. } from n3 (msg 95, sent at 615.6ms)`, for a delivery or a hold.
fn arrival(
    events: &[Captured],
    causality: &Causality,
    i: usize,
    from: &str,
    msg_id: u64,
) -> String {
    let c = &events[i];
    let who = causality.host_name(i);
    let verb = match c.event.kind {
        TraceKind::Hold { .. } => "holds, while paused,",
        _ => "received",
    };
    let Some(s) = causality.remote_pred(i) else {
        return format!("{who} {verb} msg {msg_id} from {from}");
    };
    let copy = match events[s].event.kind {
        TraceKind::Duplicate { .. } => ", a duplicate copy made by the network",
        _ => "",
    };
    let at = events[s].event.time;
    match events[original_send(events, causality, s)]
        .detail
        .as_deref()
    {
        Some(what) => format!(
            "{who} {verb} {} from {from} (msg {msg_id}{copy}, sent at {at})",
            short(what)
        ),
        None => format!("{who} {verb} msg {msg_id} from {from}{copy}"),
    }
}

/// The events whose details [`event_words`] reads for event `i`: `i` itself and, for an
/// arrival, the send of the message's contents.
pub(super) fn detail_sources(
    events: &[Captured],
    causality: &Causality,
    i: usize,
) -> impl Iterator<Item = usize> + use<> {
    let send = match events[i].event.kind {
        TraceKind::Deliver { .. } | TraceKind::Hold { .. } => causality
            .remote_pred(i)
            .map(|s| original_send(events, causality, s)),
        _ => None,
    };
    std::iter::once(i).chain(send)
}

/// Records a handler writes between a send and the network's copy of it, at most.
const MAX_COPY_DISTANCE: usize = 64;

/// For a duplicate's copy, the send of the original message (which holds its contents);
/// otherwise `s` itself.
fn original_send(events: &[Captured], causality: &Causality, s: usize) -> usize {
    let TraceKind::Duplicate { msg_id, .. } = events[s].event.kind else {
        return s;
    };
    let mut cur = s;
    for _ in 0..MAX_COPY_DISTANCE {
        match causality.local_pred(cur) {
            Some(p) => cur = p,
            None => break,
        }
        if matches!(events[cur].event.kind, TraceKind::Send { msg_id: m, .. } if m == msg_id) {
            return cur;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_cuts_long_details_and_flattens_lines() {
        assert_eq!(short("a\nb"), "a b");
        let long = "x".repeat(MAX_DETAIL_CHARS + 5);
        let cut = short(&long);
        assert_eq!(cut.chars().count(), MAX_DETAIL_CHARS);
        assert!(cut.ends_with('…'));
    }
}
