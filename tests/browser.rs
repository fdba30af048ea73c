//! The HTML viewer in a real browser: Debian's chromium, driven by playwright-core
//! (tests/browser/viewer.test.mjs). Without chromium or the npm packages the test says it
//! skips, unless FAULTLINE_BROWSER_TEST=1 demands it (CI sets it after
//! scripts/install-browser-deps.sh).

use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

#[test]
fn viewer_in_chromium() {
    let demanded = std::env::var("FAULTLINE_BROWSER_TEST").is_ok_and(|v| v == "1");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let missing: Vec<&str> = [
        (!Path::new(CHROMIUM).exists()).then_some("/usr/bin/chromium"),
        (!root
            .join("tests/browser/node_modules/playwright-core")
            .exists())
        .then_some("tests/browser/node_modules (npm ci)"),
        Command::new("node")
            .arg("--version")
            .output()
            .is_err()
            .then_some("node"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(
            !demanded,
            "FAULTLINE_BROWSER_TEST=1 but {what} missing: run scripts/install-browser-deps.sh"
        );
        eprintln!(
            "SKIPPED viewer_in_chromium: {what} missing (scripts/install-browser-deps.sh installs them)"
        );
        return;
    }
    // Kept after the run, to look at: target/tmp/browser/*.png.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("the output directory can be made");
    let status = Command::new("node")
        .arg(root.join("tests/browser/viewer.test.mjs"))
        .arg(env!("CARGO_BIN_EXE_faultline"))
        .arg(&out)
        .current_dir(root)
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "the browser test failed; pages and screenshots are in {}",
        out.display()
    );
}
