//! `topology:` through the real binary and real files: message and client latencies follow the
//! region matrix, the report gives each client region's latency, region faults expand into
//! node faults that replay, and runs are deterministic.

mod common;

use common::{faultline, fresh_dir};
use faultline::net::{Region, RegionPair, Topology};
use faultline::scenario::{self, RunOptions, Scenario};
use faultline::workload::{Model, WorkloadConfig};
use faultline::{Fault, Latency, NodeId, SimBuilder, SimError, SimTime};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

fn load(name: &str) -> Scenario {
    faultline::Registry::builtin()
        .load(&path(name))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run_json(file: &str) -> (i32, Value) {
    let out = faultline(&["run", file, "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{file}: {e}: {stdout}"));
    (out.status.code().expect("exit code"), json)
}

fn lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .expect("trace written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn ns(v: &Value) -> u64 {
    v["t_ns"].as_u64().expect("t_ns")
}

/// raft-regions.yaml: us-east n1–n3, eu-west n4, ap-south n5; within 1–3 ms, us-east–eu-west
/// 35–45 ms, else 90–110 ms.
fn region_of(node: &str) -> &'static str {
    match node {
        "n1" | "n2" | "n3" => "us-east",
        "n4" => "eu-west",
        _ => "ap-south",
    }
}

fn bounds_ms(a: &str, b: &str) -> (u64, u64) {
    match (a, b) {
        _ if a == b => (1, 3),
        ("us-east", "eu-west") | ("eu-west", "us-east") => (35, 45),
        _ => (90, 110),
    }
}

fn within(latency_ns: u64, (low, high): (u64, u64)) -> bool {
    (low * 1_000_000..=high * 1_000_000).contains(&latency_ns)
}

#[test]
fn every_message_and_client_request_takes_its_regions_latency() {
    let dir = fresh_dir("topology", "matrix");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let trace = dir.join("trace.jsonl");
    let file = path("raft-regions.yaml");
    let out = faultline(&[
        "run",
        file.to_str().expect("utf-8"),
        "--trace",
        trace.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let events = lines(&trace);
    let mut sent: BTreeMap<u64, (u64, String, String)> = BTreeMap::new();
    let (mut checked, mut crossing) = (0, 0);
    for e in &events {
        match e["kind"].as_str() {
            Some("send") => {
                let from = e["node"].as_str().expect("node").to_string();
                let to = e["to"].as_str().expect("to").to_string();
                sent.insert(e["msg_id"].as_u64().expect("id"), (ns(e), from, to));
            }
            Some("deliver") => {
                let (at, from, to) = &sent[&e["msg_id"].as_u64().expect("id")];
                let bounds = bounds_ms(region_of(from), region_of(to));
                assert!(
                    within(ns(e) - at, bounds),
                    "{from} → {to} took {} ns, outside {bounds:?} ms",
                    ns(e) - at
                );
                checked += 1;
                crossing += usize::from(region_of(from) != region_of(to));
            }
            _ => {}
        }
    }
    assert!(checked > 1000 && crossing > 100, "{checked} {crossing}");
    client_requests_take_their_regions_latency(&events);
}

/// Clients 0 and 1 sit in us-east, 2 and 3 in eu-west, 4 and 5 in ap-south: each op's first
/// request crosses from the client's region to its node's.
fn client_requests_take_their_regions_latency(events: &[Value]) {
    let clients = [
        "us-east", "us-east", "eu-west", "eu-west", "ap-south", "ap-south",
    ];
    let mut invoked: BTreeMap<(u64, u64), (u64, String)> = BTreeMap::new();
    let mut homes = BTreeSet::new();
    for e in events {
        let key = || {
            (
                e["client"].as_u64().expect("client"),
                e["seq"].as_u64().expect("seq"),
            )
        };
        match e["kind"].as_str() {
            Some("invoke") => {
                let node = e["node"].as_str().expect("node").to_string();
                invoked.insert(key(), (ns(e), node));
            }
            Some("request") => {
                let Some((at, node)) = invoked.remove(&key()) else {
                    continue; // a request after a redirect
                };
                let client = clients[key().0 as usize];
                homes.insert((client, region_of(&node)));
                let bounds = bounds_ms(client, region_of(&node));
                assert!(within(ns(e) - at, bounds), "client {:?}", key());
            }
            _ => {}
        }
    }
    for region in ["us-east", "eu-west", "ap-south"] {
        assert!(
            homes.contains(&(region, region)),
            "a {region} client first asks a node of its region: {homes:?}"
        );
    }
}

#[test]
fn the_report_gives_each_client_regions_latency_in_text_and_json() {
    let file = path("quorum-kv-regions.yaml");
    let file = file.to_str().expect("utf-8");
    let (code, json) = run_json(file);
    assert_eq!(code, 0, "{json}");
    let regions = json["history"]["latency_by_region"]
        .as_array()
        .expect("per-region latency");
    let p50 = |i: usize| regions[i]["latency"]["p50_ns"].as_u64().expect("p50");
    assert_eq!(regions[0]["region"], "us-east");
    assert_eq!(regions[1]["region"], "eu-west");
    assert_eq!(regions[1]["clients"], 2);
    // A us-east quorum stays in us-east; an eu-west one always crosses the ocean and back.
    assert!(p50(0) < 10_000_000, "{}", p50(0));
    assert!(p50(1) >= 70_000_000, "{}", p50(1));
    let ops: u64 = regions
        .iter()
        .map(|r| r["latency"]["ops"].as_u64().expect("ops"))
        .sum();
    assert_eq!(Some(ops), json["history"]["latency"]["ops"].as_u64());
    let out = faultline(&["run", file]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |region: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(region))
            .unwrap_or_else(|| panic!("no {region} line in {text}"))
            .to_string()
    };
    assert!(line("us-east").contains("2 clients"), "{text}");
    for field in ["ok", "p50", "p99", "max"] {
        assert!(line("eu-west").contains(field), "{text}");
    }
}

#[test]
fn region_faults_expand_into_node_faults_that_replay_from_the_written_file() {
    let s = load("raft-region-outage.yaml");
    let at = |secs| SimTime::from_secs(secs);
    let fault = |t, fault| faultline::TimedFault { at: t, fault };
    assert_eq!(
        s.faults[..5],
        [
            fault(at(2), Fault::Crash(NodeId(0))),
            fault(at(2), Fault::Crash(NodeId(1))),
            fault(at(4), Fault::Restart(NodeId(0))),
            fault(at(4), Fault::Restart(NodeId(1))),
            fault(at(5), Fault::Partition(vec![vec![NodeId(4)]])),
        ]
    );
    let written = scenario::to_yaml(&s);
    assert!(written.contains("topology:") && written.contains("crash: n2"));
    let dir = fresh_dir("topology", "written");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let copy = dir.join("written.yaml");
    std::fs::write(&copy, &written).expect("written");
    let original = path("raft-region-outage.yaml");
    let (code, first) = run_json(original.to_str().expect("utf-8"));
    let (code_again, again) = run_json(copy.to_str().expect("utf-8"));
    assert_eq!((code, code_again), (0, 0));
    assert_eq!(first["trace_hash"], again["trace_hash"]);
    assert_eq!(
        first["history"]["latency_by_region"],
        again["history"]["latency_by_region"]
    );
}

#[test]
fn a_failure_fuzz_writes_keeps_the_topology_and_replays_its_trace() {
    let dir = fresh_dir("topology", "fuzz");
    let file = path("quorum-kv-regions-weak.yaml");
    let out = faultline(&[
        "fuzz",
        file.to_str().expect("utf-8"),
        "--count",
        "2",
        "--jobs",
        "1",
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "the weak quorums fail");
    let failure = dir.join("linearizable/seed-0.yaml");
    let text = std::fs::read_to_string(&failure).expect("a failure file");
    assert!(text.contains("topology:") && text.contains("eu-west"));
    let replay = dir.join("replay.jsonl");
    let out = faultline(&[
        "run",
        failure.to_str().expect("utf-8"),
        "--trace",
        replay.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "the replay fails the same way");
    let found = std::fs::read_to_string(dir.join("linearizable/seed-0.trace.jsonl"))
        .expect("the fuzz trace");
    let replayed = std::fs::read_to_string(&replay).expect("the replay trace");
    assert!(found.lines().count() > 100);
    assert!(
        replayed.starts_with(&found),
        "the replay follows the trace fuzz found"
    );
    let shrunk = dir.join("shrunk.yaml");
    let out = faultline(&[
        "shrink",
        failure.to_str().expect("utf-8"),
        "-o",
        shrunk.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&shrunk).expect("the shrunk file");
    assert!(text.contains("topology:"));
    let (code, json) = run_json(shrunk.to_str().expect("utf-8"));
    assert_eq!(code, 1, "the shrunk file still fails");
    assert_eq!(json["history"]["status"], "violated");
}

#[test]
fn the_same_seed_gives_the_same_run_and_seeds_differ() {
    let s = load("raft-region-outage.yaml");
    let hash = |seed| {
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        scenario::run(&s, options).expect("runs").trace_hash
    };
    let mut seen = BTreeSet::new();
    for seed in 0..12 {
        let first = hash(seed);
        assert_eq!(first, hash(seed), "seed {seed}");
        seen.insert(first);
    }
    assert_eq!(seen.len(), 12);
}

#[test]
fn the_example_of_the_topology_section_of_the_format_runs() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario-format.md"),
    )
    .expect("the format page");
    let section = &doc[doc.find("## `topology`").expect("the section")..];
    let start = section.find("```yaml\n").expect("an example") + "```yaml\n".len();
    let example = &section[start..start + section[start..].find("```").expect("its end")];
    let dir = fresh_dir("topology", "doc");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("example.yaml");
    std::fs::write(&file, example).expect("written");
    let (code, json) = run_json(file.to_str().expect("utf-8"));
    assert_eq!(code, 0, "{json}");
    let regions = json["history"]["latency_by_region"]
        .as_array()
        .expect("per-region latency");
    assert_eq!(regions.len(), 2);
}

struct Idle;

impl faultline::Process for Idle {
    type Message = ();
    type Timer = ();
    fn on_start(&mut self, _: &mut faultline::Ctx<'_, Self>) {}
    fn on_message(&mut self, _: &mut faultline::Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut faultline::Ctx<'_, Self>, _: faultline::TimerId, _: ()) {}
}

/// The topology of most files of the malformed corpus: us-east n1, n2; eu-west n3, n4.
fn corpus_topology() -> Topology {
    let ms = faultline::SimDuration::from_millis;
    let region = |name: &str, nodes: &[u32]| Region {
        name: name.into(),
        nodes: nodes.iter().map(|&i| NodeId(i)).collect(),
    };
    Topology {
        regions: vec![region("us-east", &[0, 1]), region("eu-west", &[2, 3])],
        within: Some(Latency::Constant(ms(1))),
        between: vec![RegionPair {
            from: "us-east".into(),
            to: "eu-west".into(),
            latency: Latency::Constant(ms(40)),
        }],
        ..Topology::default()
    }
}

/// The parser (through the binary, on `tests/malformed/<file>`) and the builder say the same.
fn same_words(file: &str, topology: Topology, workload: Option<WorkloadConfig>) {
    let path = format!("{}/tests/malformed/{file}", env!("CARGO_MANIFEST_DIR"));
    let out = faultline(&["validate", &path]);
    let parser = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(out.status.code(), Some(2), "{parser}");
    let mut builder = SimBuilder::new(1).nodes(4).topology(topology);
    if let Some(w) = workload {
        builder = builder.workload(w);
    }
    let words = match builder.build(|_| Idle) {
        Err(SimError::Invalid(words)) => words,
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("the builder accepted it"),
    };
    let words = words.strip_prefix("topology: ").expect("a topology error");
    assert!(
        parser.ends_with(words),
        "parser: {parser}\nbuilder: {words}"
    );
}

#[test]
fn the_builder_refuses_what_the_parser_refuses_in_the_same_words() {
    let mut t = corpus_topology();
    t.regions[1].nodes.push(NodeId(1));
    same_words("topology-node-in-two-regions.yaml", t, None);
    let mut t = corpus_topology();
    t.regions[1].nodes.pop();
    same_words("topology-node-in-no-region.yaml", t, None);
    let mut t = corpus_topology();
    t.between.clear();
    same_words("topology-pair-missing.yaml", t, None);
    let mut t = corpus_topology();
    t.clients = vec![("us-east".into(), 2), ("eu-west".into(), 2)];
    let workload = WorkloadConfig::new(Model::Register);
    same_words("topology-clients-disagree.yaml", t.clone(), Some(workload));
    t.clients.truncate(1);
    same_words("topology-clients-without-workload.yaml", t, None);
}

const ZONES: &str = "name: zones
protocol: broadcast
nodes: 4
duration: 2s
topology:
  regions: { us: [n1, n2, n3], eu: [n4] }
  zones: { us-a: [n1, n2] }
  latency:
    within_zone: { constant: 100us }
    within: { constant: 2ms }
    default: { constant: 40ms }
";

#[test]
fn two_nodes_of_one_zone_take_the_zone_latency_and_a_written_file_keeps_the_zones() {
    let dir = fresh_dir("topology", "zones");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("zones.yaml");
    std::fs::write(&file, ZONES).expect("written");
    let trace = dir.join("trace.jsonl");
    let out = faultline(&[
        "run",
        file.to_str().expect("utf-8"),
        "--trace",
        trace.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let mut sent = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for e in lines(&trace) {
        match e["kind"].as_str() {
            Some("send") => {
                sent.insert(e["msg_id"].as_u64().expect("id"), ns(&e));
            }
            Some("deliver") => {
                let (from, to) = (
                    e["from"].as_str().expect("from"),
                    e["node"].as_str().expect("to"),
                );
                let pair = [from, to];
                let expected_ns = match pair {
                    ["n1", "n2"] | ["n2", "n1"] => 100_000,
                    _ if pair.contains(&"n4") => 40_000_000,
                    _ => 2_000_000,
                };
                let took = ns(&e) - sent[&e["msg_id"].as_u64().expect("id")];
                assert_eq!(took, expected_ns, "{from} → {to}");
                seen.insert(expected_ns);
            }
            _ => {}
        }
    }
    assert_eq!(seen.len(), 3, "every kind of pair sent something");
    let s = faultline::Registry::builtin()
        .load(&file)
        .unwrap_or_else(|e| panic!("{e}"));
    let written = scenario::to_yaml(&s);
    assert!(written.contains("zones:") && written.contains("within_zone:"));
    let back = faultline::Registry::builtin()
        .parse(&written, "written.yaml")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.topology, s.topology);
}

#[test]
fn hedged_scatter_gather_reads_are_fast_where_a_copy_of_every_shard_is_near() {
    let file = path("scatter-gather-regions.yaml");
    let (code, json) = run_json(file.to_str().expect("utf-8"));
    assert_eq!(code, 0, "{json}");
    let p50 = |region: &str| {
        let regions = json["history"]["latency_by_region"].as_array().unwrap();
        let r = regions.iter().find(|r| r["region"] == region).unwrap();
        r["latency"]["p50_ns"].as_u64().unwrap()
    };
    // us-east holds n1, the copy of ap-south's shard a hedge turns to; eu-west has none of
    // its own, so its reads wait for the round trip to ap-south.
    assert!(p50("us-east") < 120_000_000, "{}", p50("us-east"));
    assert!(p50("eu-west") > 180_000_000, "{}", p50("eu-west"));
    assert!(p50("ap-south") > 180_000_000, "{}", p50("ap-south"));
}
