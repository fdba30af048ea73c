//! `faultline run --svg`: the run as a static picture, driven through the real binary.

mod common;

use common::{faultline, fresh_dir};

fn dir(name: &str) -> std::path::PathBuf {
    let d = fresh_dir("svg", name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `args` and returns the exit code and standard error.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = faultline(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_stale_read_is_drawn_with_its_failing_operation_and_the_violation_in_red() {
    let d = dir("stale");
    let path = d.join("run.svg");
    let args = [
        "run",
        "scenarios/quorum-kv-weak-stale-read.yaml",
        "--svg",
        path.to_str().unwrap(),
        "--svg-window",
        "0ms..60ms",
    ];
    let (code, stderr) = run(&args);
    assert_eq!(code, Some(0), "{stderr}");
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<g ").count(), svg.matches("</g>").count());
    for lane in ["n1", "n2", "n3"] {
        assert!(
            svg.contains(&format!("font-weight=\"bold\">{lane}</text>")),
            "{lane}"
        );
    }
    assert!(svg.contains("linearizable violated at 27.837961ms"));
    // The read the checker blames is filled red; the write it was concurrent with is
    // outlined in red.
    let blamed = "fill=\"#e03131\" opacity=\"0.85\" stroke=\"#e03131\" stroke-width=\"2\">\
                  <title>op 1 (client c0): Read { key: 0 }, ok";
    assert!(svg.contains(blamed), "{svg}");
    let concurrent = "fill=\"#2f9e44\" opacity=\"0.85\" stroke=\"#e03131\" stroke-width=\"2\">\
                      <title>op 0 (client c1)";
    assert!(svg.contains(concurrent));
    assert!(
        svg.contains(">Store</text>"),
        "short runs label their arrows"
    );
    // The same run draws the same picture, byte for byte.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(run(&args).0, Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), svg);
}

#[test]
fn drops_crashes_and_partitions_are_drawn() {
    let d = dir("faults");
    let path = d.join("run.svg");
    let (code, stderr) = run(&[
        "run",
        "scenarios/broadcast-crash-restart.yaml",
        "--svg",
        path.to_str().unwrap(),
        "--svg-window",
        "0s..2s",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains(">✕<title>crash</title>"), "a crash is marked");
    assert!(svg.contains("×<title>"), "a drop ends in a cross");
    assert!(svg.contains("fill=\"#fff3bf\""), "a partition is a band");
    assert!(
        svg.contains("fill=\"#ffc9c9\">"),
        "the time n3 is down is shaded"
    );
}

#[test]
fn a_window_without_a_picture_or_an_empty_window_is_refused() {
    let d = dir("bad");
    let path = d.join("run.svg");
    let file = "scenarios/echo-loss.yaml";
    let (code, stderr) = run(&["run", file, "--svg-window", "0ms..10ms"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--svg"), "{stderr}");
    let svg = path.to_str().unwrap();
    let (code, stderr) = run(&["run", file, "--svg", svg, "--svg-window", "5ms..1ms"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("the window 5ms..1ms is empty"), "{stderr}");
    let (code, stderr) = run(&["run", file, "--svg", svg, "--svg-window", "900s..901s"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("cannot draw the picture: the run has no event between"),
        "{stderr}"
    );
    assert!(!path.exists(), "nothing was written");
}

#[test]
fn the_state_strip_shows_roles_and_flags_the_overwritten_entry() {
    let d = dir("strip");
    let path = d.join("run.svg");
    let (code, stderr) = run(&[
        "run",
        "scenarios/raft-figure8-overwrite-bug.yaml",
        "--svg",
        path.to_str().unwrap(),
        "--svg-window",
        "3.5s..4s",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        svg.contains(">leader · term 13 · commit"),
        "n5's role and fields"
    );
    assert!(
        svg.contains("height=\"5\" fill=\"#212529\""),
        "a leader's band"
    );
    // n3's entries 103-106 of term 1, committed, replaced by n5's of term 3.
    for index in 103..=106 {
        let flagged = format!("stroke=\"#e03131\" stroke-width=\"2\"><title>index {index}</title>");
        assert!(svg.contains(&flagged), "entry {index} is outlined red");
    }
    assert!(svg.contains("□ log entry overwritten"));
}

#[test]
fn a_violation_found_after_the_window_is_drawn_at_its_edge_with_its_true_time() {
    let d = dir("after-window");
    let path = d.join("run.svg");
    let args = [
        "run",
        "scenarios/chord-no-handover-bug.yaml",
        "--svg",
        path.to_str().unwrap(),
        "--svg-window",
        "110ms..220ms",
    ];
    let (code, stderr) = run(&args);
    assert_eq!(code, Some(0), "{stderr}");
    let svg = std::fs::read_to_string(&path).unwrap();
    // keys_found is judged at the end of the run (3s), long after the window.
    assert!(
        svg.contains("keys_found violated at 3s (after this window)"),
        "{svg}"
    );
    assert!(!svg.contains("violated at 220ms"));
}
