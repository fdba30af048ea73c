//! A history's ops in the search's form: calls whose values are interned ids, and, for the
//! multi-register, the split of a history into groups of keys that no transaction joins.

use super::compound::Micro;
use super::model::{self, Call, CallKind, ModelKind, Values};
use crate::history::{History, Op, ParseError, Status, Value};
use std::collections::BTreeMap;

pub(super) fn located(path: &str, op: &Op, message: String) -> ParseError {
    ParseError {
        path: path.to_string(),
        line: op.invoke_line,
        column: op.invoke_column,
        message,
    }
}

/// Turns one op into the search's form, interning its values. `unknown_nil`: a transaction's
/// read of nil is a value nobody recorded (see [`History::unknown_nil`]).
pub(super) fn to_call(
    path: &str,
    op: &Op,
    model: ModelKind,
    values: &mut Values,
    unknown_nil: bool,
) -> Result<Call, ParseError> {
    let Some(kind) = model.function(&op.f) else {
        let message = format!(
            "the {model} model has no function `{}` (it knows {})",
            op.f,
            model.functions()
        );
        return Err(located(path, op, message));
    };
    let known = op.status == Status::Ok && !op.output_unknown;
    let out = |values: &mut Values| known.then(|| values.intern(&op.output));
    Ok(match kind {
        CallKind::Read if model == ModelKind::Set => Call::Read {
            out: match known {
                true => Some(set_of(path, op, values)?),
                false => None,
            },
        },
        CallKind::Read => Call::Read { out: out(values) },
        CallKind::Write => Call::Write {
            value: values.intern(&op.input),
        },
        CallKind::Append => Call::Append {
            value: values.intern(&op.input),
        },
        CallKind::Acquire | CallKind::Release => lock_call(kind, values, known),
        CallKind::Cas => cas_call(path, op, values, known)?,
        CallKind::Enqueue => {
            let value = values.intern(&op.input);
            match model {
                ModelKind::FifoQueue => Call::Enqueue { value },
                _ => Call::Insert { value },
            }
        }
        CallKind::Dequeue => match model {
            ModelKind::FifoQueue => Call::Dequeue { out: out(values) },
            _ => Call::Remove { out: out(values) },
        },
        CallKind::Add => Call::Add {
            value: values.intern(&op.input),
        },
        CallKind::Txn => {
            let micros = micro_ops(path, op, values, unknown_nil)?;
            Call::Txn {
                index: values.compound.add_txn(micros),
            }
        }
    })
}

/// A mutex's acquire or release as a cas that must apply.
fn lock_call(kind: CallKind, values: &mut Values, known: bool) -> Call {
    let [from, to] = if kind == CallKind::Acquire {
        [&model::LOCKED[0], &model::LOCKED[1]]
    } else {
        [&model::LOCKED[1], &model::LOCKED[0]]
    };
    // A failed call is removed before the search; one that completed applied; an
    // indeterminate one applies if it can, or never.
    Call::Cas {
        from: values.intern(from),
        to: values.intern(to),
        ok: known.then_some(true),
    }
}

fn cas_call(path: &str, op: &Op, values: &mut Values, known: bool) -> Result<Call, ParseError> {
    let pair = match &op.input {
        Value::List(pair) if pair.len() == 2 => pair,
        _ => return Err(located(path, op, "cas needs a value [from to]".to_string())),
    };
    let ok = match (&op.output, known) {
        (_, false) => None,
        (Value::Bool(b), true) => Some(*b),
        (_, true) => Some(true),
    };
    Ok(Call::Cas {
        from: values.intern(&pair[0]),
        to: values.intern(&pair[1]),
        ok,
    })
}

/// The set a read of the linearizable set returned, as a collection id.
fn set_of(path: &str, op: &Op, values: &mut Values) -> Result<u32, ParseError> {
    let Value::List(elements) = &op.output else {
        let message = format!(
            "a read of the linearizable-set model returns the whole set, a list; this one \
             returned {}",
            op.output
        );
        return Err(located(path, op, message));
    };
    let ids = elements.iter().map(|e| values.intern(e)).collect();
    Ok(values.compound.set_of(ids))
}

/// A transaction's micro-operations: `[r k v]` / `[read k v]` and `[w k v]` / `[write k v]`.
/// An ok transaction is read from its completion, whose reads carry the values read; an
/// indeterminate one from its invocation, its reads unknown.
fn micro_ops(
    path: &str,
    op: &Op,
    values: &mut Values,
    unknown_nil: bool,
) -> Result<Vec<Micro>, ParseError> {
    let known = op.status == Status::Ok;
    let source = if known { &op.output } else { &op.input };
    let bad = |what: String| {
        let message = format!(
            "a txn's value is a list of micro-operations [r key value] or [w key value]; {what}"
        );
        located(path, op, message)
    };
    let Value::List(items) = source else {
        let at = if known { "its completion's" } else { "its" };
        return Err(bad(format!("{at} value is {source}")));
    };
    let mut micros = Vec::with_capacity(items.len());
    for item in items {
        let Value::List(parts) = item else {
            return Err(bad(format!("{item} is not one")));
        };
        let [Value::Str(f), key, value] = parts.as_slice() else {
            return Err(bad(format!("{item} is not one")));
        };
        let write = match f.as_str() {
            "r" | "read" => false,
            "w" | "write" => true,
            _ => return Err(bad(format!("`{f}` is neither r nor w"))),
        };
        let unknown = !write && (!known || (unknown_nil && *value == Value::Nil));
        micros.push(Micro {
            key: values.intern(key),
            write,
            value: (!unknown).then(|| values.intern(value)),
        });
    }
    Ok(micros)
}

/// The keys a transaction touches, read from its invocation (or its completion, if the
/// invocation holds no list). Malformed micro-operations are reported by [`to_call`].
fn txn_keys(op: &Op) -> Vec<&Value> {
    let source = match (&op.input, &op.output) {
        (Value::List(items), _) if !items.is_empty() => items,
        (_, Value::List(items)) => items,
        _ => return Vec::new(),
    };
    source
        .iter()
        .filter_map(|item| match item {
            Value::List(parts) => parts.get(1),
            _ => None,
        })
        .collect()
}

/// For each op of `history` that is not failed, its group: ops share a group iff a chain of
/// transactions links their keys. Groups are numbered in order of their first op, so the
/// split is the same on every run. Linearizability is local (Herlihy and Wing): a history of
/// transactions over disjoint groups of keys is linearizable iff each group's is.
pub(super) fn key_groups(history: &History) -> Vec<Option<usize>> {
    let mut key_index: BTreeMap<&Value, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut op_root: Vec<Option<usize>> = Vec::with_capacity(history.ops.len());
    for op in &history.ops {
        if op.status == Status::Fail {
            op_root.push(None);
            continue;
        }
        // A transaction with no key joins a group of its own.
        let fresh = parent.len();
        parent.push(fresh);
        for key in txn_keys(op) {
            let k = *key_index.entry(key).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            });
            let (a, b) = (find(&mut parent, fresh), find(&mut parent, k));
            parent[b.max(a)] = b.min(a);
        }
        op_root.push(Some(fresh));
    }
    let mut numbered: BTreeMap<usize, usize> = BTreeMap::new();
    op_root
        .into_iter()
        .map(|root| {
            let root = find(&mut parent, root?);
            let next = numbered.len();
            Some(*numbered.entry(root).or_insert(next))
        })
        .collect()
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}
