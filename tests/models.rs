//! The collection models of `check-history` (fifo-queue, unordered-queue, linearizable-set,
//! multi-register) against a brute-force oracle on thousands of random small histories, and
//! through the real binary on handmade good and bad histories in EDN and JSON Lines.

mod common;

use common::{faultline, fresh_dir};
use faultline::history::{self, Op, Status, Value};
use faultline::linearizability::{self, ModelKind, Options, Verdict};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A small deterministic generator (splitmix64).
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// The state the oracle keeps: a queue or multiset as a list, a set, or a map.
#[derive(Clone, Debug, PartialEq)]
enum State {
    Items(Vec<Value>),
    Map(BTreeMap<Value, Value>),
}

/// Every state `op` may lead to from `state` (none if its output is impossible there). An
/// indeterminate op's output is unknown, so it may lead anywhere its function allows.
fn successors(model: ModelKind, state: &State, op: &Op) -> Vec<State> {
    let known = op.status == Status::Ok;
    match (model, state, op.f.as_str()) {
        (ModelKind::FifoQueue | ModelKind::UnorderedQueue, State::Items(items), "enqueue") => {
            let mut next = items.clone();
            next.push(op.input.clone());
            vec![State::Items(next)]
        }
        (ModelKind::FifoQueue, State::Items(items), "dequeue") => match items.split_first() {
            Some((head, rest)) if !known || *head == op.output => {
                vec![State::Items(rest.to_vec())]
            }
            None if !known => vec![state.clone()],
            _ => vec![],
        },
        (ModelKind::UnorderedQueue, State::Items(items), "dequeue") => (0..items.len())
            .filter(|&i| !known || items[i] == op.output)
            .map(|i| {
                let mut next = items.clone();
                next.remove(i);
                State::Items(next)
            })
            .collect(),
        (ModelKind::Set, State::Items(items), "add") => {
            let mut next = items.clone();
            if !next.contains(&op.input) {
                next.push(op.input.clone());
                next.sort();
            }
            vec![State::Items(next)]
        }
        (ModelKind::Set, State::Items(items), "read") => match &op.output {
            Value::List(read) if known && read != items => vec![],
            _ => vec![state.clone()],
        },
        (ModelKind::MultiRegister, State::Map(map), "txn") => txn(map, op).into_iter().collect(),
        _ => unreachable!("{model} {state:?} {}", op.f),
    }
}

/// A multi-register transaction on `map`; reads of an indeterminate one are unknown.
fn txn(map: &BTreeMap<Value, Value>, op: &Op) -> Option<State> {
    let known = op.status == Status::Ok;
    let Value::List(micros) = (if known { &op.output } else { &op.input }) else {
        unreachable!()
    };
    let mut map = map.clone();
    for micro in micros {
        let Value::List(parts) = micro else {
            unreachable!()
        };
        let (f, key, value) = (&parts[0], &parts[1], &parts[2]);
        if *f == Value::Str("w".into()) {
            map.insert(key.clone(), value.clone());
        } else if known && map.get(key).unwrap_or(&Value::Nil) != value {
            return None;
        }
    }
    Some(State::Map(map))
}

/// Linearizability by brute force: every order that respects real time, indeterminate ops
/// optional, every successor state tried.
fn brute_force(model: ModelKind, ops: &[&Op], done: &mut Vec<bool>, state: &State) -> bool {
    let finished = ops.iter().zip(done.iter());
    if finished
        .clone()
        .all(|(o, d)| *d || o.status == Status::Info)
    {
        return true;
    }
    for i in 0..ops.len() {
        let minimal = ops
            .iter()
            .zip(done.iter())
            .all(|(p, d)| *d || p.return_index.is_none_or(|r| r > ops[i].invoke_index));
        if done[i] || !minimal {
            continue;
        }
        done[i] = true;
        let found = successors(model, state, ops[i])
            .iter()
            .any(|next| brute_force(model, ops, done, next));
        done[i] = false;
        if found {
            return true;
        }
    }
    false
}

/// A random call of `model` as (f, value at invocation).
fn random_call(g: &mut Gen, model: ModelKind) -> (&'static str, String) {
    match model {
        ModelKind::FifoQueue | ModelKind::UnorderedQueue if g.below(2) == 0 => {
            ("enqueue", g.below(3).to_string())
        }
        ModelKind::FifoQueue | ModelKind::UnorderedQueue => ("dequeue", "null".into()),
        ModelKind::Set if g.below(2) == 0 => ("add", g.below(3).to_string()),
        ModelKind::Set => ("read", "null".into()),
        _ => {
            let micros: Vec<String> = (0..1 + g.below(2))
                .map(|_| match g.below(2) {
                    0 => format!("[\"w\", {}, {}]", g.below(2), g.below(3)),
                    _ => format!("[\"r\", {}, null]", g.below(2)),
                })
                .collect();
            ("txn", format!("[{}]", micros.join(", ")))
        }
    }
}

/// What an ok completion of `f` returns, at random: often impossible, so both verdicts occur.
fn random_output(g: &mut Gen, f: &str, input: &str) -> String {
    match f {
        "dequeue" => g.below(3).to_string(),
        "read" => {
            let set: Vec<String> = (0..3)
                .filter(|_| g.below(2) == 0)
                .map(|v| v.to_string())
                .collect();
            format!("[{}]", set.join(", "))
        }
        "txn" => {
            let mut out = input.to_string();
            while let Some(at) = out.find("null") {
                let value = match g.below(4) {
                    3 => "null".to_string(),
                    v => v.to_string(),
                };
                out.replace_range(at..at + 4, &value);
            }
            out
        }
        _ => input.to_string(),
    }
}

/// A random history of `model` with up to 3 processes, as JSON Lines.
fn random_history(g: &mut Gen, model: ModelKind, steps: usize) -> String {
    let mut open: [Option<(&str, String)>; 3] = [None, None, None];
    let mut text = String::new();
    let mut line = |p: usize, kind: &str, f: &str, value: &str| {
        text += &format!(
            "{{\"process\": {p}, \"type\": \"{kind}\", \"f\": \"{f}\", \"value\": {value}}}\n"
        );
    };
    for _ in 0..steps {
        let p = g.below(3) as usize;
        match open[p].take() {
            None => {
                let (f, input) = random_call(g, model);
                line(p, "invoke", f, &input);
                open[p] = Some((f, input));
            }
            Some((f, input)) => match g.below(8) {
                0 => line(p, "fail", f, &input),
                1 => line(p, "info", f, &input),
                _ => line(p, "ok", f, &random_output(g, f, &input)),
            },
        }
    }
    text
}

fn verdict(h: &history::History, model: ModelKind) -> bool {
    let options = Options {
        model,
        initial: None,
        time_budget: Duration::from_secs(60),
        steps_max: u64::MAX,
        threads: 1,
    };
    let report = linearizability::check("random", h, &options).unwrap();
    match report.verdict {
        Verdict::Linearizable => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown(why) => panic!("unknown: {why}"),
    }
}

#[test]
fn collection_models_agree_with_brute_force() {
    let models = [
        ModelKind::FifoQueue,
        ModelKind::UnorderedQueue,
        ModelKind::Set,
        ModelKind::MultiRegister,
    ];
    for (m, model) in models.into_iter().enumerate() {
        let mut g = Gen(0x51ed_2700 + m as u64);
        let (mut linearizable, cases) = (0, 1500);
        for _ in 0..cases {
            let steps = 2 + g.below(13) as usize;
            let text = random_history(&mut g, model, steps);
            let h = history::parse("random", &text, None).expect("generated histories parse");
            let kept: Vec<&Op> = h.ops.iter().filter(|o| o.status != Status::Fail).collect();
            let empty = match model {
                ModelKind::MultiRegister => State::Map(BTreeMap::new()),
                _ => State::Items(Vec::new()),
            };
            let expected = brute_force(model, &kept, &mut vec![false; kept.len()], &empty);
            let got = verdict(&h, model);
            assert_eq!(got, expected, "{model}:\n{text}");
            linearizable += usize::from(got);
        }
        // Both verdicts occur often, so the comparison means something.
        assert!(
            linearizable > cases / 10 && linearizable < cases * 9 / 10,
            "{model}: {linearizable} of {cases} linearizable"
        );
    }
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = fresh_dir("models", name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `check-history FILE --model MODEL EXTRA...`: stdout and stderr, and the exit code.
fn check(name: &str, text: &str, model: &str, extra: &[&str]) -> (String, Option<i32>) {
    let file = write(name, text);
    let args = ["check-history", file.to_str().unwrap(), "--model", model];
    let out = faultline(&[&args[..], extra].concat());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code())
}

/// Two enqueues, the first completed before the second began, dequeued in the wrong order:
/// not a FIFO queue, but a fine unordered one.
const OUT_OF_ORDER: &str = "[{:process 0 :type :invoke :f :enqueue :value 1 :index 0}
 {:process 0 :type :ok :f :enqueue :value 1 :index 1}
 {:process 1 :type :invoke :f :enqueue :value 2 :index 2}
 {:process 1 :type :ok :f :enqueue :value 2 :index 3}
 {:process 0 :type :invoke :f :dequeue :value nil :index 4}
 {:process 0 :type :ok :f :dequeue :value 2 :index 5}
 {:process 0 :type :invoke :f :dequeue :value nil :index 6}
 {:process 0 :type :ok :f :dequeue :value 1 :index 7}]";

#[test]
fn queues_fifo_and_unordered() {
    let (text, code) = check("order.edn", OUT_OF_ORDER, "fifo-queue", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("op 4 (line 5, :index 5, process 0: dequeue -> 2) cannot be linearised"),
        "{text}"
    );
    let (text, code) = check("order.edn", OUT_OF_ORDER, "unordered-queue", &[]);
    assert_eq!(code, Some(0), "{text}");
    // Concurrent enqueues may be dequeued in either order, even from a FIFO queue.
    let concurrent = OUT_OF_ORDER.replace(
        "{:process 0 :type :ok :f :enqueue :value 1 :index 1}\n {:process 1 :type :invoke :f :enqueue :value 2 :index 2}",
        "{:process 1 :type :invoke :f :enqueue :value 2 :index 2}\n {:process 0 :type :ok :f :enqueue :value 1 :index 1}",
    );
    assert_ne!(concurrent, OUT_OF_ORDER);
    let (text, code) = check("concurrent.edn", &concurrent, "fifo-queue", &[]);
    assert_eq!(code, Some(0), "{text}");
    // An element dequeued twice, or never enqueued, breaks both.
    let twice = OUT_OF_ORDER.replace(
        ":f :dequeue :value 1 :index 7",
        ":f :dequeue :value 2 :index 7",
    );
    for model in ["fifo-queue", "unordered-queue"] {
        let (text, code) = check("twice.edn", &twice, model, &[]);
        assert_eq!(code, Some(1), "{model}: {text}");
    }
}

#[test]
fn queues_read_json_lines_and_keep_keys_apart() {
    let jsonl = "\
{\"process\": 0, \"type\": \"invoke\", \"f\": \"enqueue\", \"key\": \"a\", \"value\": 1}
{\"process\": 0, \"type\": \"ok\", \"f\": \"enqueue\", \"key\": \"a\", \"value\": 1}
{\"process\": 1, \"type\": \"invoke\", \"f\": \"enqueue\", \"key\": \"b\", \"value\": 2}
{\"process\": 1, \"type\": \"ok\", \"f\": \"enqueue\", \"key\": \"b\", \"value\": 2}
{\"process\": 0, \"type\": \"invoke\", \"f\": \"dequeue\", \"key\": \"b\"}
{\"process\": 0, \"type\": \"ok\", \"f\": \"dequeue\", \"key\": \"b\", \"value\": 2}
{\"process\": 0, \"type\": \"invoke\", \"f\": \"dequeue\", \"key\": \"a\"}
{\"process\": 0, \"type\": \"fail\", \"f\": \"dequeue\", \"key\": \"a\"}
";
    let (text, code) = check("keys.jsonl", jsonl, "fifo-queue", &["--format", "json"]);
    assert_eq!(code, Some(0), "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["partitions"], 2, "{text}");
    assert_eq!(report["failed_removed"], 1, "{text}");
    // Dequeuing key a's element from key b is impossible.
    let crossed = jsonl.replace("\"key\": \"b\", \"value\": 2}\n{\"process\": 0, \"type\": \"invoke\", \"f\": \"dequeue\", \"key\": \"a\"}",
        "\"key\": \"b\", \"value\": 1}\n{\"process\": 0, \"type\": \"invoke\", \"f\": \"dequeue\", \"key\": \"a\"}");
    assert_ne!(crossed, jsonl);
    let (text, code) = check("crossed.jsonl", &crossed, "fifo-queue", &[]);
    assert_eq!(code, Some(1), "{text}");
}

/// Adds of 1 and 2, the second concurrent with a read that saw only it.
const SET: &str = "[{:process 0 :type :invoke :f :add :value 1}
 {:process 0 :type :ok :f :add :value 1}
 {:process 0 :type :invoke :f :add :value 2}
 {:process 1 :type :invoke :f :read :value nil}
 {:process 1 :type :ok :f :read :value #{2}}
 {:process 0 :type :ok :f :add :value 2}]";

#[test]
fn linearizable_set_reads_exactly_what_was_added() {
    let (text, code) = check("set.edn", SET, "linearizable-set", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("process 1: read -> [2]"), "{text}");
    let good = SET.replace("#{2}", "#{1 2}");
    let (text, code) = check("set.edn", &good, "linearizable-set", &[]);
    assert_eq!(code, Some(0), "{text}");
    let early = SET.replace("#{2}", "#{1}");
    let (text, code) = check("set.edn", &early, "linearizable-set", &[]);
    assert_eq!(
        code,
        Some(0),
        "the add of 2 may come after the read: {text}"
    );
    let scalar = SET.replace("#{2}", "2");
    let (text, code) = check("set.edn", &scalar, "linearizable-set", &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("set.edn:4:2: a read of the linearizable-set model returns the whole set"),
        "{text}"
    );
}

/// Two transactions over keys x and y, and one over z alone: a read of y's write that missed
/// x's, though one transaction wrote both.
const TXNS: &str = "[{:process 0 :type :invoke :f :txn :value [[:w :x 1] [:w :y 1]]}
 {:process 0 :type :ok :f :txn :value [[:w :x 1] [:w :y 1]]}
 {:process 1 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}
 {:process 2 :type :invoke :f :txn :value [[:w :z 3] [:r :z nil]]}
 {:process 2 :type :ok :f :txn :value [[:w :z 3] [:r :z 3]]}
 {:process 1 :type :ok :f :txn :value [[:r :x 2] [:r :y 1]]}]";

#[test]
fn multi_register_transactions_across_keys() {
    let (text, code) = check("txns.edn", TXNS, "multi-register", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("2 key group(s)"), "{text}");
    assert!(
        text.contains("op 2 (line 3, process 1: txn [[\"r\" \"x\" 2] [\"r\" \"y\" 1]])"),
        "{text}"
    );
    let good = TXNS.replace("[[:r :x 2] [:r :y 1]]", "[[:r :x 1] [:r :y 1]]");
    let (text, code) = check("txns.edn", &good, "multi-register", &[]);
    assert_eq!(code, Some(0), "{text}");
    // A read of nil is unknown, as Knossos reads it, unless asked to be the value nil.
    let nil = TXNS.replace("[[:r :x 2] [:r :y 1]]", "[[:r :x nil] [:r :y 1]]");
    let (text, code) = check("nil.edn", &nil, "multi-register", &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nil reads  1 ok read of nil"), "{text}");
    let (text, code) = check("nil.edn", &nil, "multi-register", &["--nil-reads", "value"]);
    assert_eq!(code, Some(1), "x was 1 once y was: {text}");
}

#[test]
fn multi_register_input_errors_are_located() {
    let cases = [
        (
            TXNS.replace("[[:w :z 3] [:r :z 3]]", "[[:w :z 3] [:x :z 3]]"),
            "4:2",
            "`x` is neither r nor w",
        ),
        (
            TXNS.replace("[[:w :z 3] [:r :z 3]]", "[[:w :z]]"),
            "4:2",
            "[\"w\" \"z\"] is not one",
        ),
        (
            TXNS.replace("[[:w :z 3] [:r :z 3]]", "3"),
            "4:2",
            "its completion's value is 3",
        ),
        (
            TXNS.replace(
                ":f :txn :value [[:w :x 1] [:w :y 1]]}\n",
                ":f :read :value 1}\n",
            ),
            "1:2",
            "no function `read`",
        ),
    ];
    for (text, at, what) in cases {
        let (out, code) = check("bad.edn", &text, "multi-register", &[]);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains(&format!("bad.edn:{at}: ")), "{at}: {out}");
        assert!(out.contains(what), "{what}: {out}");
    }
}

#[test]
fn multi_register_keys_start_at_the_initial_value() {
    // As Knossos's own multi-register example starts from {:x 0 :y 0}.
    let zeros = "[{:process 0 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}
 {:process 0 :type :ok :f :txn :value [[:r :x 0] [:r :y 0]]}
 {:process 1 :type :invoke :f :txn :value [[:w :x 1] [:r :z nil]]}
 {:process 1 :type :ok :f :txn :value [[:w :x 1] [:r :z 0]]}]";
    let (text, code) = check("zeros.edn", zeros, "multi-register", &[]);
    assert_eq!(code, Some(1), "keys start as nil: {text}");
    let (text, code) = check("zeros.edn", zeros, "multi-register", &["--initial", "0"]);
    assert_eq!(code, Some(0), "{text}");
    let (text, code) = check("zeros.edn", zeros, "multi-register", &["--initial", "1"]);
    assert_eq!(code, Some(1), "{text}");
}

#[test]
fn collection_models_refuse_an_initial_value() {
    for (model, words) in [
        ("fifo-queue", "a queue starts empty"),
        ("unordered-queue", "a queue starts empty"),
        ("linearizable-set", "a set starts empty"),
    ] {
        let (text, code) = check("initial.edn", SET, model, &["--initial", "0"]);
        assert_eq!(code, Some(2), "{model}: {text}");
        assert!(text.contains(words), "{model}: {text}");
    }
    let options = Options {
        model: ModelKind::FifoQueue,
        initial: Some(Value::Int(0)),
        time_budget: Duration::from_secs(1),
        steps_max: u64::MAX,
        threads: 1,
    };
    let h = history::parse("q.edn", OUT_OF_ORDER, None).unwrap();
    let error = linearizability::check("q.edn", &h, &options).unwrap_err();
    assert!(error.message.contains("a queue starts empty"), "{error}");
}
