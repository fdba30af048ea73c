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
