//! `faultline grade` through the real binary, on the suites in tests/grade/.

mod common;

use common::faultline;
use serde_json::Value;
use std::process::{Command, Output};

fn grade_with(args: &[&str], seeds: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faultline"));
    command.arg("grade").args(args);
    command.env_remove("FAULTLINE_GRADE_SEEDS");
    if let Some(seeds) = seeds {
        command.env("FAULTLINE_GRADE_SEEDS", seeds);
    }
    command.output().expect("the binary runs")
}

fn json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn each_part_scores_all_or_nothing_and_says_why_points_were_lost() {
    let out = grade_with(&["tests/grade/suite.yaml"], None);
    assert_eq!(out.status.code(), Some(1), "points were lost");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2/2  ids stay unique through a crash"),
        "{text}"
    );
    assert!(text.contains("Score: 2/10"), "{text}");
    assert!(
        text.contains("an unsynced counter lost 3 points on seed 0"),
        "{text}"
    );
    assert!(text.contains("unique_ids: NOT unique"), "{text}");
    assert!(
        text.contains("n1 crashed, losing 1 unsynced storage writes"),
        "the explanation: {text}"
    );
    assert!(
        text.contains("Replay: faultline run tests/grade/unsynced.yaml --seed 0"),
        "{text}"
    );
    assert!(
        text.contains("answers nearly every request lost 1 point"),
        "{text}"
    );
    assert!(
        text.contains("messages_max: the nodes sent one another"),
        "{text}"
    );

    let report = json(&grade_with(
        &["tests/grade/suite.yaml", "--format", "json"],
        None,
    ));
    assert_eq!(
        (report["points"].as_u64(), report["points_max"].as_u64()),
        (Some(2), Some(10))
    );
    let reasons: Vec<&str> = (report["parts"].as_array().expect("parts").iter())
        .map(|p| p["lost"]["reason"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(reasons, ["-", "unique_ids", "ok_min", "messages_max"]);
    assert_eq!(report["parts"][0]["seeds_run"], 3);
    assert_eq!(report["hidden_seeds"], false);
    let again = json(&grade_with(
        &["tests/grade/suite.yaml", "--format", "json"],
        None,
    ));
    assert_eq!(report, again, "the same grade every time");
}

#[test]
fn full_marks_exit_0_and_junit_has_a_case_per_part() {
    let dir = common::fresh_dir("grade", "junit");
    std::fs::create_dir_all(&dir).expect("a directory");
    let xml = dir.join("grade.xml");
    let xml_arg = xml.to_str().expect("utf-8");
    let out = grade_with(&["tests/grade/full-marks.yaml", "--junit", xml_arg], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Score: 3/3"));
    let written = std::fs::read_to_string(&xml).expect("the JUnit report");
    assert_eq!(written.matches("<testcase ").count(), 2, "{written}");
    assert!(!written.contains("<failure"), "{written}");

    let out = grade_with(&["tests/grade/suite.yaml", "--junit", xml_arg], None);
    assert_eq!(out.status.code(), Some(1));
    let written = std::fs::read_to_string(&xml).expect("the JUnit report");
    assert_eq!(written.matches("<testcase ").count(), 4, "{written}");
    assert_eq!(written.matches("<failure type=").count(), 3, "{written}");
    assert!(written.contains("failure type=\"ok_min\""), "{written}");
    assert!(
        written.contains("Replay: faultline run scenarios/echo-loss.yaml --seed 0"),
        "{written}"
    );
}

#[test]
fn hidden_seeds_from_a_file_or_the_variable_replace_the_suites_own() {
    let file = [
        "tests/grade/full-marks.yaml",
        "--seeds",
        "tests/grade/hidden-seeds.txt",
    ];
    let report = json(&grade_with(
        &[&file[..], &["--format", "json"]].concat(),
        None,
    ));
    assert_eq!(report["hidden_seeds"], true);
    for part in report["parts"].as_array().expect("parts") {
        assert_eq!(part["seeds"], 4, "1000, 1003, 2000 and 2001: {part}");
    }
    let args = ["tests/grade/suite.yaml", "--format", "json"];
    let report = json(&grade_with(&args, Some("7 9,11")));
    assert_eq!(report["hidden_seeds"], true);
    let unsynced = &report["parts"][1];
    assert_eq!(
        (
            unsynced["seeds"].as_u64(),
            unsynced["lost"]["seed"].as_u64()
        ),
        (Some(3), Some(7))
    );

    let both = grade_with(&file, Some("1"));
    assert_eq!(both.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("both --seeds and FAULTLINE_GRADE_SEEDS")
    );
    for (seeds, says) in [
        ("5..3", "FAULTLINE_GRADE_SEEDS:1: the range `5..3` is empty"),
        ("", "no seed"),
        ("x", "`x` is not a seed"),
    ] {
        let out = grade_with(&["tests/grade/full-marks.yaml"], Some(seeds));
        assert_eq!(out.status.code(), Some(2), "{seeds:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{seeds:?}: {stderr}");
    }
}

#[test]
fn a_bad_suite_is_bad_input_located_and_nothing_runs() {
    for (file, says) in [
        (
            "points-zero.yaml",
            "points-zero.yaml:4:13: parts[0].points: 0 is out of range",
        ),
        (
            "unknown-field.yaml",
            "unknown-field.yaml:6:5: parts[0]: unknown field `ok_minimum`",
        ),
        (
            "twice.yaml",
            "twice.yaml: parts[1]: the part name `loss` is used twice",
        ),
        (
            "negative-cost.yaml",
            "negative-cost.yaml:6:26: parts[0].messages_per_op_max: -1 is out of range",
        ),
        (
            "missing-scenario.yaml",
            "missing-scenario.yaml: parts[1] (`gone`): tests/grade/bad/no-such-scenario.yaml: cannot read",
        ),
    ] {
        let path = format!("tests/grade/bad/{file}");
        let out = faultline(&["grade", &path]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(says), "{file}: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: no grade for a bad suite");
    }
}

#[test]
fn latency_and_messages_per_operation_are_requirements_too() {
    let out = grade_with(&["tests/grade/costs.yaml", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let reasons: Vec<&str> = (report["parts"].as_array().expect("parts").iter())
        .map(|p| p["lost"]["reason"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        reasons,
        [
            "-",
            "latency_p50_max",
            "messages_per_op_max",
            "-",
            "latency"
        ]
    );
    let message = report["parts"][1]["lost"]["message"]
        .as_str()
        .expect("a message");
    assert!(
        message.contains("the median operation took 4ms"),
        "{message}"
    );
    let run = faultline(&["run", "scenarios/echo-unique-ids.yaml", "--format", "json"]);
    let latency = &json(&run)["history"]["latency"];
    assert_eq!(latency["p50_ns"], 4_000_000, "{latency}");
    assert!(latency["ops"].as_u64() > Some(100), "{latency}");
}
