//! Setting aside, before the search, indeterminate ops that cannot change the verdict.
//!
//! Each indefinite (`info`, or never completed) op of a key is one more op the search may
//! linearise at any point after its invocation or leave out, and its memo tells apart every
//! combination of them: a crash storm that leaves dozens of ops on one key indeterminate can
//! exhaust any budget. Two kinds are left out of the search:
//!
//! - **every indefinite read**, in any model: its output is unknown, so it matches every state
//!   and changes none, and placing it anywhere or nowhere is all the same;
//! - **an indefinite write no read observes**: in a key whose ops are all reads and writes
//!   (every `register` key, a `cas-register` or `kv` key with no `cas` and no `append`; failed
//!   ops are gone already, as they are from the search), one of a value `v` that no read of
//!   the key returns (an `ok` read with a known output; the interned ids are what the model
//!   compares). A cas or an append observes the state without returning it, so such a key
//!   keeps its writes.
//!
//! **Soundness.** The verdict is unchanged. A linearisation without such an op is one with it,
//! since an indefinite op may be left out. Conversely, take a linearisation that places one at
//! some point. Without a read there, every other op sees the same states. Without a write of
//! `v` there, the ops after it up to the next write (or the end) are reads that would have to
//! return `v`, which none does, or that have an unknown output, which any state matches. Either
//! way dropping it leaves a sequence in which every op still returns what it returned, in the
//! same real-time order. Ops set aside one after another keep the condition for the rest, as
//! the reads with known outputs stay. The initial value needs no special case: a read of it
//! observes a write of it, so such a write stays.
//!
//! **The op named on failure** is the same too. A failing search names the op whose return is
//! the furthest any configuration it can reach meets: the earliest return of an op it leaves
//! out. Every configuration the search without the set-aside ops reaches, the search with them
//! reaches too; and dropping the set-aside ops from the steps that reach any configuration of
//! the latter leaves, by the argument above applied to that prefix, steps the former takes,
//! to a configuration with the same completed ops linearised. A set-aside op never returns,
//! so the two meet the same earliest return. The set-aside ops are put back when listing the
//! ops concurrent with the one named.

use super::model::Call;
use super::search::Partition;

/// The ops of one partition left out of its search. They are all indefinite, so each one is
/// concurrent with every op that returns after its invocation.
#[derive(Clone, Debug, Default)]
pub struct SetAside {
    /// Their indices in the history, ascending.
    pub members: Vec<usize>,
    /// The real-time rank of each one's call.
    pub call_pos: Vec<usize>,
    /// How many of them are reads; the rest are writes.
    pub reads: usize,
}

/// Whether a state of `p` is only ever observed by a read returning it: every op reads or
/// writes (a cas compares the state, an append builds on it).
fn reads_and_writes_only(p: &Partition) -> bool {
    p.calls
        .iter()
        .all(|c| matches!(c, Call::Read { .. } | Call::Write { .. }))
}

/// The values some read of `p` returns, ascending.
fn observed(p: &Partition) -> Vec<u32> {
    let mut observed: Vec<u32> = p
        .calls
        .iter()
        .filter_map(|c| match c {
            Call::Read { out } => *out,
            _ => None,
        })
        .collect();
    observed.sort_unstable();
    observed.dedup();
    observed
}

/// Keeps the entries of `v` whose flag in `keep` is set.
fn retain_flagged<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut flags = keep.iter();
    v.retain(|_| flags.next().copied().unwrap_or(true));
}

/// Removes from `p` the indefinite reads, and the indefinite writes no read observes (see the
/// module's comment), and the same entries from `members` (the history index of each op of
/// `p`); returns them.
pub fn set_aside_indeterminate(p: &mut Partition, members: &mut Vec<usize>) -> SetAside {
    let mut aside = SetAside::default();
    // None when a cas or an append may observe what a write left: then every write stays.
    let observable = if reads_and_writes_only(p) {
        Some(observed(p))
    } else {
        None
    };
    let keep: Vec<bool> = p
        .calls
        .iter()
        .zip(&p.return_pos)
        .map(|(call, ret)| match (call, ret, &observable) {
            (_, Some(_), _) => true,
            (Call::Read { out: None }, None, _) => false,
            (Call::Write { value }, None, Some(observed)) => observed.binary_search(value).is_ok(),
            _ => true,
        })
        .collect();
    if keep.iter().all(|&k| k) {
        return aside;
    }
    for (i, _) in keep.iter().enumerate().filter(|(_, k)| !**k) {
        aside.members.push(members[i]);
        aside.call_pos.push(p.call_pos[i]);
        aside.reads += usize::from(matches!(p.calls[i], Call::Read { .. }));
    }
    retain_flagged(&mut p.calls, &keep);
    retain_flagged(&mut p.call_pos, &keep);
    retain_flagged(&mut p.return_pos, &keep);
    retain_flagged(members, &keep);
    aside
}

#[cfg(test)]
mod tests {
    use super::super::{Cutting, ModelKind, Options, Report, Verdict, check_reducing};
    use crate::history::{History, Op, Status, Value};
    use std::time::Duration;

    /// Builds a history event by event: ops open and complete in the order written.
    #[derive(Default)]
    struct Builder {
        ops: Vec<Op>,
        events: usize,
    }

    impl Builder {
        /// Invokes `f` on `key` with `input`; returns the op's index.
        fn invoke(&mut self, f: &str, key: Option<&str>, input: Value) -> usize {
            self.ops.push(Op {
                process: self.ops.len() as u64,
                f: f.to_string(),
                key: key.map(str::to_string),
                input,
                output: Value::Nil,
                output_unknown: false,
                status: Status::Info,
                invoke_index: self.events,
                invoke_line: self.events + 1,
                invoke_column: 1,
                return_index: None,
                jepsen_index: None,
            });
            self.events += 1;
            self.ops.len() - 1
        }

        /// Completes op `i` with `status` and `output`; an info op stays pending.
        fn complete(&mut self, i: usize, status: Status, output: Value) {
            let op = &mut self.ops[i];
            op.status = status;
            op.output = output;
            if status != Status::Info {
                op.return_index = Some(self.events);
            }
            self.events += 1;
        }

        /// An op that completes before the next one is invoked.
        fn done(&mut self, f: &str, input: Value, status: Status, output: Value) -> usize {
            let i = self.invoke(f, None, input);
            self.complete(i, status, output);
            i
        }

        fn history(self) -> History {
            History {
                ops: self.ops,
                numbering: Default::default(),
                events: self.events,
                unknown_nil: false,
            }
        }
    }

    fn options(model: ModelKind, steps_max: u64) -> Options {
        Options {
            model,
            initial: None,
            time_budget: Duration::from_secs(600),
            steps_max,
            threads: 1,
        }
    }

    fn check(h: &History, model: ModelKind, steps_max: u64, reduce: bool) -> Report {
        let options = options(model, steps_max);
        check_reducing("h", h, &options, Cutting::DEFAULT, reduce).expect("valid")
    }

    fn int(v: i64) -> Value {
        Value::Int(v)
    }

    fn text(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    fn pair(from: Value, to: Value) -> Value {
        Value::List(vec![from, to])
    }

    #[test]
    fn linearizability_unread_info_writes_no_longer_exhaust_the_search() {
        // Thirty writes that timed out, none of whose values is ever read, then a read of a
        // value nobody wrote: the search would try every subset of the thirty before giving up.
        let mut b = Builder::default();
        for v in 0..30 {
            b.invoke("write", None, int(100 + v));
        }
        b.done("write", int(1), Status::Ok, Value::Nil);
        let bad = b.done("read", Value::Nil, Status::Ok, int(2));
        let h = b.history();
        let steps_max = 1 << 20;
        let whole = check(&h, ModelKind::Register, steps_max, false);
        assert!(matches!(whole.verdict, Verdict::Unknown(_)), "{whole:?}");
        assert_eq!(whole.info_writes_set_aside, 0);
        let reduced = check(&h, ModelKind::Register, steps_max, true);
        let Verdict::NotLinearizable(failure) = &reduced.verdict else {
            panic!("{reduced:?}");
        };
        assert_eq!(failure.op, bad);
        // The writes set aside are still named among the ops concurrent with it.
        assert_eq!(failure.concurrent, (0..8).collect::<Vec<_>>());
        assert_eq!((reduced.info_writes_set_aside, reduced.ops), (30, 32));
    }

    #[test]
    fn linearizability_info_reads_are_set_aside_in_every_model() {
        // Thirty reads that timed out around a cas that cannot have succeeded: the search
        // would try every subset of the thirty before giving up. The cas keeps the key's
        // writes, not its reads.
        let mut b = Builder::default();
        b.done("write", int(1), Status::Ok, Value::Nil);
        b.invoke("write", None, int(3));
        for _ in 0..30 {
            b.invoke("read", None, Value::Nil);
        }
        let bad = b.done("cas", pair(int(2), int(4)), Status::Ok, Value::Bool(true));
        let h = b.history();
        let steps_max = 1 << 20;
        let whole = check(&h, ModelKind::CasRegister, steps_max, false);
        assert!(matches!(whole.verdict, Verdict::Unknown(_)), "{whole:?}");
        let reduced = check(&h, ModelKind::CasRegister, steps_max, true);
        let Verdict::NotLinearizable(failure) = &reduced.verdict else {
            panic!("{reduced:?}");
        };
        assert_eq!(failure.op, bad);
        assert_eq!(failure.concurrent, (1..9).collect::<Vec<_>>());
        let counts = (reduced.info_reads_set_aside, reduced.info_writes_set_aside);
        assert_eq!((counts, reduced.ops), ((30, 0), 33));
    }

    #[test]
    fn linearizability_info_writes_of_a_few_values_take_effect_in_order() {
        // Thirty timed-out writes of 1 and 2, values that reads return, so none is set
        // aside; then a read of a value nobody wrote. Tried in any order, the search would
        // try every subset of the thirty; in invocation order, 16 × 16 prefixes.
        let mut b = Builder::default();
        b.done("write", int(1), Status::Ok, Value::Nil);
        b.done("read", Value::Nil, Status::Ok, int(1));
        for v in 0..30 {
            b.invoke("write", None, int(1 + v % 2));
        }
        b.done("read", Value::Nil, Status::Ok, int(2));
        let bad = b.done("read", Value::Nil, Status::Ok, int(5));
        let h = b.history();
        let steps_max = 1 << 20;
        let whole = check(&h, ModelKind::Register, steps_max, false);
        assert!(matches!(whole.verdict, Verdict::Unknown(_)), "{whole:?}");
        let reduced = check(&h, ModelKind::Register, steps_max, true);
        let Verdict::NotLinearizable(failure) = &reduced.verdict else {
            panic!("{reduced:?}");
        };
        assert_eq!(failure.op, bad);
        assert_eq!(failure.concurrent, (2..10).collect::<Vec<_>>());
        assert_eq!(reduced.info_writes_set_aside, 0);
    }

    #[test]
    fn linearizability_an_info_write_a_read_returns_stays() {
        // The info write of 5 must take effect after the write of 1 for the read of 5; the
        // one of 6 is never read and goes.
        let mut b = Builder::default();
        b.invoke("write", None, int(5));
        b.invoke("write", None, int(6));
        b.done("write", int(1), Status::Ok, Value::Nil);
        b.done("read", Value::Nil, Status::Ok, int(5));
        let h = b.history();
        for reduce in [false, true] {
            let report = check(&h, ModelKind::Register, u64::MAX, reduce);
            assert_eq!(report.verdict, Verdict::Linearizable);
            assert_eq!(report.info_writes_set_aside, usize::from(reduce));
        }
        // Once the read is definitely before the write of 5, the history is not linearizable.
        let mut b = Builder::default();
        b.done("write", int(1), Status::Ok, Value::Nil);
        b.done("read", Value::Nil, Status::Ok, int(5));
        b.invoke("write", None, int(5));
        let report = check(&b.history(), ModelKind::Register, u64::MAX, true);
        assert!(matches!(report.verdict, Verdict::NotLinearizable(_)));
        assert_eq!(report.info_writes_set_aside, 0);
    }

    #[test]
    fn linearizability_info_writes_a_cas_or_append_observes_stay() {
        // A cas from 7 succeeds only if the info write of 7 took effect, though no read
        // returns 7.
        let mut b = Builder::default();
        b.done("write", int(1), Status::Ok, Value::Nil);
        b.invoke("write", None, int(7));
        b.done("cas", pair(int(7), int(8)), Status::Ok, Value::Bool(true));
        b.done("read", Value::Nil, Status::Ok, int(8));
        let report = check(&b.history(), ModelKind::CasRegister, u64::MAX, true);
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!(report.info_writes_set_aside, 0);
        // A cas that fails observes too: here it fails only if the write of 7 took effect.
        let mut b = Builder::default();
        b.invoke("write", None, int(7));
        b.done(
            "cas",
            pair(Value::Nil, int(8)),
            Status::Ok,
            Value::Bool(false),
        );
        let report = check(&b.history(), ModelKind::CasRegister, u64::MAX, true);
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!(report.info_writes_set_aside, 0);
        // A kv append builds on the value put: "ab" is read, "a" never is.
        let mut b = Builder::default();
        b.invoke("put", None, text("a"));
        b.done("append", text("b"), Status::Ok, Value::Nil);
        b.done("get", Value::Nil, Status::Ok, text("ab"));
        let report = check(&b.history(), ModelKind::Kv, u64::MAX, true);
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!(report.info_writes_set_aside, 0);
    }

    #[test]
    fn linearizability_cas_register_and_kv_keys_of_reads_and_writes_are_reduced() {
        // Key "x" has a cas and keeps its info write; key "y" only reads and writes.
        let mut b = Builder::default();
        let w = b.invoke("write", Some("x"), int(3));
        b.complete(w, Status::Info, Value::Nil);
        let c = b.invoke("cas", Some("x"), pair(int(1), int(2)));
        b.complete(c, Status::Fail, Value::Nil);
        let w = b.invoke("write", Some("y"), int(3));
        b.complete(w, Status::Info, Value::Nil);
        let r = b.invoke("read", Some("y"), Value::Nil);
        b.complete(r, Status::Ok, Value::Nil);
        // The failed cas is removed before the search, so it observes nothing: both go.
        let report = check(&b.history(), ModelKind::CasRegister, u64::MAX, true);
        assert_eq!((report.info_writes_set_aside, report.removed), (2, 1));
        let mut b = Builder::default();
        b.invoke("put", None, text("a"));
        b.done("get", Value::Nil, Status::Ok, text(""));
        let report = check(&b.history(), ModelKind::Kv, u64::MAX, true);
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!(report.info_writes_set_aside, 1);
    }

    #[test]
    fn linearizability_a_key_of_only_unread_info_writes_is_linearizable() {
        let mut b = Builder::default();
        b.invoke("write", None, int(1));
        b.invoke("write", None, int(2));
        let report = check(&b.history(), ModelKind::Register, u64::MAX, true);
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!(
            (report.info_writes_set_aside, report.ops, report.partitions),
            (2, 2, 1)
        );
    }

    /// One step of a generated history: `(process, key, function, value, outcome)`. A process
    /// with no open op invokes `function` on `key` with `value`; one with an open op completes
    /// it with `outcome` (0, 1, 5 ok; 2 fail; 3 info; 4 ok with an unknown output), a read
    /// returning `value`, a cas succeeding iff `value` is even.
    type Step = (u8, u8, u8, u8, u8);

    /// A history of `model`'s functions over a few values, from `steps`; ops left open pend.
    fn generated(model: ModelKind, steps: &[Step]) -> History {
        let value = |v: u8| match model {
            ModelKind::Kv => text(["", "a", "b", "ab"][usize::from(v % 4)]),
            _ if v == 0 => Value::Nil,
            _ => int(i64::from(v)),
        };
        let mut b = Builder::default();
        let mut open: [Option<usize>; 4] = [None; 4];
        for &(p, key, f, v, outcome) in steps {
            let slot = &mut open[usize::from(p % 4)];
            let Some(i) = slot.take() else {
                let (f, input) = match (f, model) {
                    (0, _) => ("read", Value::Nil),
                    (2, ModelKind::CasRegister | ModelKind::Kv) => {
                        ("cas", pair(value(v), value(v / 2 + 1)))
                    }
                    (3, ModelKind::Kv) => ("append", value(v)),
                    _ => ("write", value(v.max(1))),
                };
                *slot = Some(b.invoke(f, Some(&key.to_string()), input));
                continue;
            };
            let status = [Status::Ok, Status::Fail, Status::Info][usize::from(outcome.min(2))];
            let output = match b.ops[i].f.as_str() {
                "read" => value(v),
                "cas" => Value::Bool(v % 2 == 0),
                _ => Value::Nil,
            };
            b.complete(i, status, output);
            b.ops[i].output_unknown = outcome == 4 && status == Status::Ok;
        }
        b.history()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// The reductions of indeterminate ops (set aside, and interchangeable ones tried in
        /// invocation order) change nothing, whether a key is cut in pieces or not: not
        /// whether the history is linearizable, and for each key not the verdict, the op
        /// named, the concurrent ops listed or the ops counted. (Of several failing keys, the
        /// one named is the first to fail in a round of the search, and a smaller search may
        /// fail sooner.)
        #[test]
        fn linearizability_reductions_keep_the_verdict(
            steps in proptest::collection::vec((0..4u8, 0..2u8, 0..4u8, 0..4u8, 0..6u8), 1..48),
            model in proptest::sample::select(vec![
                ModelKind::Register,
                ModelKind::CasRegister,
                ModelKind::Kv,
            ]),
            cut: bool,
            min_piece_ops in 1..4usize,
            max_cut_states in 1..4usize,
            max_piece_steps in proptest::sample::select(vec![8u64, 64, 1 << 16]),
            force_compact_memo: bool,
        ) {
            let h = generated(model, &steps);
            let options = options(model, u64::MAX);
            let cutting = Cutting {
                enabled: cut,
                min_piece_ops,
                max_cut_states,
                max_piece_steps,
                force_compact_memo,
            };
            let both = |h: &History| {
                let whole = check_reducing("h", h, &options, Cutting::OFF, false).expect("valid");
                let reduced = check_reducing("h", h, &options, cutting, true).expect("valid");
                (whole, reduced)
            };
            let (whole, reduced) = both(&h);
            let linearizable = |r: &Report| r.verdict == Verdict::Linearizable;
            proptest::prop_assert_eq!(linearizable(&whole), linearizable(&reduced));
            for key in ["0", "1"] {
                // The other key's ops fail, so they are left out and the indices stay.
                let mut one = h.clone();
                for op in one.ops.iter_mut().filter(|op| op.key.as_deref() != Some(key)) {
                    op.status = Status::Fail;
                }
                let (whole, reduced) = both(&one);
                proptest::prop_assert_eq!(&whole.verdict, &reduced.verdict, "{:?}", one.ops);
                proptest::prop_assert_eq!(whole.ops, reduced.ops);
            }
        }
    }
}
