//! A sweep's report for people and for CI: the text summary and JUnit XML.

use super::fuzz::{Failure, FuzzReport};
use std::collections::BTreeSet;

/// The report in words.
pub fn text(r: &FuzzReport) -> String {
    let mut out = format!(
        "fuzzed {}: {} of {} seeds in {:.1} s ({:.1} seeds/s), {} failing\n",
        r.scenario,
        r.seeds_run,
        r.seeds_planned,
        r.wall_time_s,
        r.seeds_per_second,
        r.failures.len()
    );
    if r.seeds_resumed > 0 {
        out.push_str(&format!(
            "resumed: {} seeds were finished by an earlier run\n",
            r.seeds_resumed
        ));
    }
    if let Some(why) = &r.stopped_early {
        out.push_str(&format!("stopped early: {why}\n"));
    }
    if !r.timeouts.is_empty() {
        let shown: Vec<String> = (r.timeouts.iter())
            .take(TEXT_SEEDS_PER_PROPERTY_MAX)
            .map(u64::to_string)
            .collect();
        let more = r.timeouts.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "timed out: {} seeds stopped by the wall-time limit before a verdict, neither \
             passed nor failed: seed {}{more}\n",
            r.timeouts.len(),
            shown.join(", ")
        ));
    }
    // Thousands of failures of one property are one finding: a few seeds to replay each,
    // the rest counted (the JSON report lists them all).
    let mut by_property: std::collections::BTreeMap<&str, Vec<&Failure>> = Default::default();
    for f in &r.failures {
        by_property.entry(&f.property).or_default().push(f);
    }
    for (property, failures) in by_property {
        let seeds = if failures.len() == 1 { "seed" } else { "seeds" };
        out.push_str(&format!("  {property}: {} {seeds}\n", failures.len()));
        for f in failures.iter().take(TEXT_SEEDS_PER_PROPERTY_MAX) {
            out.push_str(&format!("    seed {:<8} {}\n", f.seed, f.file));
        }
        if let Some(more) = failures.len().checked_sub(TEXT_SEEDS_PER_PROPERTY_MAX)
            && more > 0
        {
            out.push_str(&format!("    ... and {more} more\n"));
        }
    }
    out
}

/// Failing seeds the text summary lists per property.
pub const TEXT_SEEDS_PER_PROPERTY_MAX: usize = 5;

/// The report as JUnit XML: one `<testsuite>` named after the scenario, one `<testcase>` per
/// finished seed (`seed-N`), and a `<failure>` in each failing one whose text is the replay
/// command. A report that does not list its seeds (one merged from JSON reports) has a test
/// case per failure and one more, `passing seeds`, standing for the rest.
pub fn junit(r: &FuzzReport) -> String {
    let failing: std::collections::BTreeMap<u64, &Failure> =
        r.failures.iter().map(|f| (f.seed, f)).collect();
    let mut seeds: BTreeSet<u64> = r.seeds.iter().copied().collect();
    seeds.extend(failing.keys().copied());
    let unlisted = (r.seeds_run as usize).saturating_sub(seeds.len());
    let tests = seeds.len() + usize::from(unlisted > 0);
    let name = xml_escape(&r.scenario);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"faultline fuzz\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">\n",
        tests,
        failing.len(),
        r.wall_time_s
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\">\n",
        tests,
        failing.len(),
        r.wall_time_s
    ));
    for seed in seeds {
        match failing.get(&seed) {
            None => out.push_str(&format!(
                "    <testcase classname=\"{name}\" name=\"seed-{seed}\"/>\n"
            )),
            Some(f) => out.push_str(&format!(
                "    <testcase classname=\"{name}\" name=\"seed-{seed}\">\n      \
                 <failure type=\"{}\" message=\"{}\">Replay: faultline run {}</failure>\n    \
                 </testcase>\n",
                xml_escape(&f.property),
                xml_escape(&f.message),
                xml_escape(&f.file)
            )),
        }
    }
    if unlisted > 0 {
        out.push_str(&format!(
            "    <testcase classname=\"{name}\" name=\"passing seeds\">\n      \
             <system-out>{unlisted} seeds passed</system-out>\n    </testcase>\n"
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Text made safe for XML content and attribute values (control characters other than tab
/// and newline, which XML 1.0 does not allow, become spaces).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_escapes_markup_and_controls() {
        assert_eq!(
            xml_escape("a<b>&\"c\"'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;&#10; "
        );
    }
}
