//! The checker end to end on small histories of both models.

use super::*;
use crate::history::{self, Format};

fn report(model: TxnModel, consistency: Consistency, text: &str) -> Report {
    let h = history::parse("t.edn", text, Some(Format::Edn)).unwrap();
    let options = Options {
        consistency,
        ..Options::new(model)
    };
    check("t.edn", &h, &options).unwrap()
}

fn kinds(r: &Report) -> Vec<AnomalyKind> {
    r.counts.keys().copied().collect()
}

/// Sequential transactions, one a process: each `(ops, completed ops)`.
fn serial(txns: &[(&str, &str)]) -> String {
    txns.iter()
        .enumerate()
        .map(|(p, (inv, ok))| {
            format!(
                "{{:process {p} :type :invoke :f :txn :value {inv}}}\n\
                 {{:process {p} :type :ok :f :txn :value {ok}}}\n"
            )
        })
        .collect()
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/histories/isolation");

fn file(name: &str, consistency: Consistency) -> Report {
    let model = if name.starts_with("la-") {
        TxnModel::ListAppend
    } else {
        TxnModel::RwRegister
    };
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
    report(model, consistency, &text)
}

#[test]
fn each_minimal_history_shows_its_anomaly() {
    use AnomalyKind as A;
    let cases = [
        ("la-g0.edn", vec![A::G0]),
        ("la-g1a.edn", vec![A::G1a]),
        ("la-g1b.edn", vec![A::G1b]),
        ("la-g1c.edn", vec![A::G1c]),
        ("la-g-single.edn", vec![A::GSingle]),
        ("la-g2-item.edn", vec![A::G2Item]),
        ("la-g-single-realtime.edn", vec![A::GSingleRealtime]),
        ("la-internal.edn", vec![A::Internal]),
        ("la-lost-update.edn", vec![A::GSingle, A::LostUpdate]),
        ("la-incompatible-order.edn", vec![A::IncompatibleOrder]),
        ("la-garbage-read.edn", vec![A::GarbageRead]),
        ("la-duplicate-elements.edn", vec![A::DuplicateElements]),
        ("la-valid.edn", vec![]),
        ("rw-g0.edn", vec![A::G0, A::G1c]),
        ("rw-g1a.edn", vec![A::G1a]),
        ("rw-g1b.edn", vec![A::G1b]),
        ("rw-g1c.edn", vec![A::G1c]),
        ("rw-g-single.edn", vec![A::GSingle]),
        ("rw-g2-item.edn", vec![A::G2Item]),
        ("rw-g-single-realtime.edn", vec![A::GSingleRealtime]),
        ("rw-internal.edn", vec![A::Internal]),
        ("rw-lost-update.edn", vec![A::G2Item, A::LostUpdate]),
        ("rw-garbage-read.edn", vec![A::GarbageRead]),
        ("rw-valid.edn", vec![]),
    ];
    for (name, expected) in cases {
        let r = file(name, Consistency::StrictSerializable);
        assert_eq!(kinds(&r), expected, "{name}: {}", render::text(name, &r));
        assert_eq!(r.is_valid(), expected.is_empty(), "{name}");
    }
}

#[test]
fn a_weaker_level_allows_what_it_does_not_prohibit() {
    let r = file("la-g2-item.edn", Consistency::SnapshotIsolation);
    assert!(r.is_valid());
    assert_eq!(kinds(&r), [AnomalyKind::G2Item], "still reported");
    let r = file("la-g-single-realtime.edn", Consistency::Serializable);
    assert!(r.is_valid());
    let r = file("la-g-single.edn", Consistency::ReadCommitted);
    assert!(r.is_valid());
    assert!(!file("la-g-single.edn", Consistency::SnapshotIsolation).is_valid());
    assert!(!file("la-g1c.edn", Consistency::ReadCommitted).is_valid());
}

#[test]
fn a_cycle_is_told_edge_by_edge() {
    let r = file("la-g-single.edn", Consistency::StrictSerializable);
    let a = &r.anomalies[0];
    let words: Vec<&str> = a.cycle.iter().map(|e| e.words.as_str()).collect();
    assert_eq!(
        words,
        [
            "T1 read key \"x\" = [] before T0 appended 1 (rw)",
            "T1 read key \"y\" = [1], the version T0 wrote (wr)",
        ]
    );
    assert_eq!(a.txns[0].line, 2);
    assert_eq!(a.txns[0].micro_ops, "[r \"x\" []] [r \"y\" [1]]");
}

#[test]
fn serial_histories_are_valid_in_both_models() {
    let la = serial(&[
        ("[[:append 1 1]]", "[[:append 1 1]]"),
        ("[[:r 1 nil] [:append 1 2]]", "[[:r 1 [1]] [:append 1 2]]"),
        ("[[:r 1 nil]]", "[[:r 1 [1 2]]]"),
    ]);
    assert!(report(TxnModel::ListAppend, Consistency::StrictSerializable, &la).is_valid());
    let rw = serial(&[
        ("[[:w 1 1]]", "[[:w 1 1]]"),
        ("[[:r 1 nil] [:w 1 2]]", "[[:r 1 1] [:w 1 2]]"),
        ("[[:r 1 nil]]", "[[:r 1 2]]"),
    ]);
    let r = report(TxnModel::RwRegister, Consistency::StrictSerializable, &rw);
    assert!(r.is_valid(), "{}", render::text("rw", &r));
    assert_eq!(r.edges[&EdgeKind::Ww], 1);
}

#[test]
fn the_report_caps_what_it_describes_and_says_so() {
    // Twelve transactions each read the empty list of a key a failed one appended to.
    let mut text = String::from(
        "{:process 0 :type :invoke :f :txn :value [[:append 1 1]]}\n\
         {:process 0 :type :fail :f :txn :value [[:append 1 1]]}\n",
    );
    text +=
        &serial(&vec![("[[:r 1 nil]]", "[[:r 1 [1]]]"); 12]).replace(":process 0 ", ":process 99 ");
    let h = history::parse("t.edn", &text, Some(Format::Edn)).unwrap();
    let options = Options {
        anomalies_per_class_max: 3,
        ..Options::new(TxnModel::ListAppend)
    };
    let r = check("t.edn", &h, &options).unwrap();
    assert_eq!(r.counts[&AnomalyKind::G1a], 12);
    assert_eq!(r.anomalies.len(), 3);
    assert!(
        r.notes[0].contains("12 G1a anomalies found, the first 3 described"),
        "{:?}",
        r.notes
    );
}

#[test]
fn a_search_cut_short_gives_no_verdict_unless_something_prohibited_was_found() {
    let text = std::fs::read_to_string(format!("{DIR}/la-g2-item.edn")).unwrap();
    let h = history::parse("t.edn", &text, Some(Format::Edn)).unwrap();
    let options = Options {
        search_steps_max: 1,
        ..Options::new(TxnModel::ListAppend)
    };
    let r = check("t.edn", &h, &options).unwrap();
    assert!(matches!(r.verdict, Verdict::Unknown(_)), "{:?}", r.verdict);
    assert!(
        r.notes[0].starts_with("cycle search for G-single stopped at its share of the bound"),
        "{:?}",
        r.notes
    );
    // At a level that allows what the cut search was looking for, the verdict stands.
    let weak = Options {
        consistency: Consistency::ReadCommitted,
        ..options.clone()
    };
    assert!(check("t.edn", &h, &weak).unwrap().is_valid());
    // A prohibited anomaly found without the search still decides.
    let text = std::fs::read_to_string(format!("{DIR}/la-g1a.edn")).unwrap();
    let h = history::parse("t.edn", &text, Some(Format::Edn)).unwrap();
    assert_eq!(
        check("t.edn", &h, &options).unwrap().verdict,
        Verdict::Invalid
    );
}

#[test]
fn the_json_report_names_types_transactions_and_edges() {
    let r = file("rw-g-single-realtime.edn", Consistency::Serializable);
    let json = render::json(&r);
    assert_eq!(json["valid"], true);
    assert_eq!(json["allowed"], serde_json::json!(["G-single-realtime"]));
    let a = &json["anomalies"][0];
    assert_eq!(a["type"], "G-single-realtime");
    assert_eq!(a["prohibited"], false);
    assert_eq!(a["transactions"][0]["micro_ops"], "[r \"x\" nil]");
    assert_eq!(
        a["edges"][0]["words"],
        "T2 read key \"x\" = nil before T0 wrote 1 (rw)"
    );
    assert_eq!(
        a["edges"][1]["words"],
        "T0 completed before T2 was invoked (rt)"
    );
    assert_eq!(json["edges"]["rt"], 1);
}

#[test]
fn the_same_history_gives_the_same_report() {
    let text = std::fs::read_to_string(format!("{DIR}/la-lost-update.edn")).unwrap();
    // Parsed twice: values at other addresses must change nothing.
    let parse = || history::parse("t.edn", &text, Some(Format::Edn)).unwrap();
    let options = Options::new(TxnModel::ListAppend);
    let a = check("t.edn", &parse(), &options).unwrap();
    let b = check("t.edn", &parse(), &options).unwrap();
    assert_eq!(a.anomalies, b.anomalies);
    assert_eq!(render::json(&a)["anomalies"], render::json(&b)["anomalies"]);
}

/// A random history of a store that runs each transaction atomically at a moment between its
/// invocation and its completion: strict-serializable by construction. Some transactions fail
/// (and do nothing), some end indeterminate (having taken effect or not).
/// A client's process, and its open transaction: the micro-ops planned (as JSON) and, once it
/// ran, its completed micro-ops.
type Client = (u64, Option<(String, Option<String>)>);

/// With `stale`, a read misses the last append or write to its key one time in three.
fn atomic_store_history(seed: u64, model: TxnModel, stale: bool) -> String {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut lists: Vec<Vec<u64>> = vec![Vec::new(); 3];
    let mut next_value = 0;
    // Per client: its process and its open transaction (micro-ops, completed ones once run).
    let mut clients: Vec<Client> = (0..4).map(|p| (p, None)).collect();
    let (mut started, mut out) = (0, String::new());
    while started < 30 || clients.iter().any(|c| c.1.is_some()) {
        let c = rng.random_range(0..clients.len());
        let (p, open) = &mut clients[c];
        match open.take() {
            None if started < 30 => {
                let n = rng.random_range(1..=4);
                let mops: Vec<(bool, usize, u64)> = (0..n)
                    .map(|_| {
                        next_value += 1;
                        (rng.random_bool(0.5), rng.random_range(0..3), next_value)
                    })
                    .collect();
                let text = mops_text(model, &mops, None, &mut rng);
                out += &format!("{{:process {p} :type :invoke :f :txn :value {text}}}\n");
                *open = Some((serde_json::to_string(&mops).unwrap(), None));
                started += 1;
            }
            None => {}
            Some((mops, None)) => match rng.random_range(0..10) {
                // Fails, or times out, without running.
                0 | 1 => {
                    let kind = if rng.random_bool(0.5) { "fail" } else { "info" };
                    let value = invoked(model, &mops);
                    out += &format!("{{:process {p} :type :{kind} :f :txn :value {value}}}\n");
                    *p += 100;
                }
                // Runs now, atomically.
                _ => {
                    let planned: Vec<(bool, usize, u64)> = serde_json::from_str(&mops).unwrap();
                    let done = mops_text(model, &planned, Some((&mut lists, stale)), &mut rng);
                    *open = Some((mops, Some(done)));
                }
            },
            Some((mops, Some(done))) => {
                let kind = match rng.random_range(0..10) {
                    0 => "info",
                    _ => "ok",
                };
                let value = if kind == "ok" {
                    done
                } else {
                    invoked(model, &mops)
                };
                out += &format!("{{:process {p} :type :{kind} :f :txn :value {value}}}\n");
                if kind == "info" {
                    *p += 100;
                }
            }
        }
    }
    out
}

fn invoked(model: TxnModel, mops: &str) -> String {
    let planned: Vec<(bool, usize, u64)> = serde_json::from_str(mops).unwrap();
    let mut unused = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    mops_text(model, &planned, None, &mut unused)
}

/// The micro-ops as EDN; with the store, run against it (reads filled in, stale ones too if
/// asked).
fn mops_text(
    model: TxnModel,
    mops: &[(bool, usize, u64)],
    mut store: Option<(&mut Vec<Vec<u64>>, bool)>,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> String {
    use rand::RngExt;
    let mut parts = Vec::new();
    for &(write, key, value) in mops {
        let f = match (write, model) {
            (true, TxnModel::ListAppend) => "append",
            (true, TxnModel::RwRegister) => "w",
            (false, _) => "r",
        };
        let shown = match (write, store.as_mut()) {
            (true, Some((lists, _))) => {
                lists[key].push(value);
                value.to_string()
            }
            (true, None) => value.to_string(),
            (false, None) => "nil".to_string(),
            (false, Some((lists, stale))) => {
                let list = &lists[key];
                let seen = match *stale && rng.random_bool(1.0 / 3.0) {
                    true => &list[..list.len().saturating_sub(1)],
                    false => &list[..],
                };
                match model {
                    TxnModel::ListAppend => format!("{seen:?}").replace(',', ""),
                    TxnModel::RwRegister => seen.last().map_or("nil".to_string(), u64::to_string),
                }
            }
        };
        parts.push(format!("[:{f} {key} {shown}]"));
    }
    format!("[{}]", parts.join(" "))
}

#[test]
fn histories_of_an_atomic_store_are_strict_serializable() {
    for model in [TxnModel::ListAppend, TxnModel::RwRegister] {
        for seed in 0..150 {
            let text = atomic_store_history(seed, model, false);
            let r = report(model, Consistency::StrictSerializable, &text);
            assert!(
                r.is_valid(),
                "{model} seed {seed}:\n{text}\n{}",
                render::text("h", &r)
            );
        }
        // The same store with stale reads is caught, or the test would prove nothing.
        let caught = (0..150)
            .filter(|&seed| {
                let text = atomic_store_history(seed, model, true);
                !report(model, Consistency::StrictSerializable, &text).is_valid()
            })
            .count();
        assert!(caught > 100, "{model}: {caught} of 150 stale stores caught");
    }
}
