//! The failure-mode course in docs/lessons/: every scenario a lesson names exists and meets
//! its expectation, and every lesson shows a failing and a passing run and ends with questions.

use faultline::scenario::{self, ExpectSpec, RunOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Most scenario names one page may hold; a page is short.
const NAMES_PER_PAGE_MAX: usize = 64;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The lesson pages, without the course's README.
fn lessons() -> Vec<PathBuf> {
    let dir = root().join("docs").join("lessons");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("docs/lessons/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    pages.sort();
    pages
}

/// Every `scenarios/<name>.yaml` written in `text`, in order of first mention.
fn scenario_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (start, _) in text.match_indices("scenarios/") {
        let rest = &text[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/-_.".contains(c)))
            .unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches('.');
        if name.ends_with(".yaml") && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        assert!(names.len() <= NAMES_PER_PAGE_MAX, "a page names too many");
    }
    names
}

#[test]
fn there_are_thirteen_lessons_and_a_readme_that_orders_them() {
    let pages = lessons();
    assert_eq!(pages.len(), 13, "{pages:?}");
    let readme = std::fs::read_to_string(root().join("docs/lessons/README.md")).unwrap();
    for page in &pages {
        let file = page.file_name().unwrap().to_string_lossy();
        assert!(readme.contains(&*file), "the README does not link {file}");
    }
}

#[test]
fn every_lesson_names_a_failing_and_a_passing_scenario_and_ends_with_questions() {
    let mut all = BTreeSet::new();
    for page in lessons() {
        let text = std::fs::read_to_string(&page).unwrap();
        let shown = page.display();
        assert!(text.contains("\n## Questions"), "{shown}: no Questions");
        let after = &text[text.find("\n## Questions").unwrap()..];
        assert!(after.matches("\n1. ").count() == 1, "{shown}: questions");
        assert!(
            text.contains("../protocols/"),
            "{shown}: links no protocol page"
        );
        let (mut failing, mut passing) = (0, 0);
        for name in scenario_names(&text) {
            let path = root().join(&name);
            assert!(path.is_file(), "{shown} names {name}, which does not exist");
            let scenario = faultline::Registry::builtin()
                .load(&path)
                .unwrap_or_else(|e| panic!("{e}"));
            match scenario.expect {
                ExpectSpec::Pass => passing += 1,
                ExpectSpec::Violation(_) => failing += 1,
            }
            all.insert(name);
        }
        assert!(
            failing >= 1 && passing >= 1,
            "{shown}: {failing} failing, {passing} passing"
        );
    }
    assert!(all.len() >= 16, "{all:?}");
}

#[test]
fn every_scenario_a_lesson_names_meets_its_expectation() {
    let mut names = BTreeSet::new();
    for page in lessons() {
        names.extend(scenario_names(&std::fs::read_to_string(&page).unwrap()));
    }
    for name in names {
        let scenario = faultline::Registry::builtin()
            .load(&root().join(&name))
            .unwrap_or_else(|e| panic!("{e}"));
        let report = scenario::run(&scenario, RunOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.expectation_met, "{name}: {:?}", report.violations);
    }
}

#[test]
fn names_are_read_up_to_the_end_of_the_path() {
    let text = "run `scenarios/echo-loss.yaml`, then scenarios/echo-loss.yaml. And scenarios/x.md";
    assert_eq!(scenario_names(text), vec!["scenarios/echo-loss.yaml"]);
}
