//! The state strip in the SVG picture, as the viewer draws it (src/viz/strip.js): under each
//! lane, a band coloured by the node's role, its fields where they change and the tail of its
//! log as cells, committed ones filled, an entry that replaced a different one at its index
//! outlined red. Of changes too close together for all of them, the rows that lasted longest
//! are drawn (a row with an overwrite always).

use super::Page;
use super::escape_html as escape;
use super::svg_model::{Model, Window};
use crate::time::SimTime;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The strip's height under a lane.
pub(super) const STRIP_PX: f64 = 40.0;
const CELL_W_PX: f64 = 15.0;
const CELL_H_PX: f64 = 12.0;
const OVERWRITE_COLOR: &str = "#e03131";

struct Cell {
    index: u64,
    label: String,
    committed: bool,
    overwritten: bool,
}

/// One summary of a node, from its handler to the next summary (or a crash).
pub(super) struct Stretch {
    from: SimTime,
    to: SimTime,
    standing: String,
    text: String,
    cells: Vec<Cell>,
    overwrites: bool,
}

impl Stretch {
    fn key(&self) -> String {
        let mut key = String::new();
        for c in &self.cells {
            let _ = write!(key, "{}{},", c.label, if c.committed { "*" } else { "" });
        }
        let _ = write!(key, "@{}", self.cells.first().map_or(0, |c| c.index));
        key
    }
}

/// Each lane's stretches, in order; empty lanes when the page has no summaries.
pub(super) fn read(page: &Page, model: &Model) -> Vec<Vec<Stretch>> {
    let records: Vec<Value> = page
        .records
        .iter()
        .filter(|r| r.contains("\"summary\"") || r.contains("\"t_ns\""))
        .filter_map(|r| serde_json::from_str(r).ok())
        .collect();
    let times: BTreeMap<u64, SimTime> = records
        .iter()
        .filter_map(|r| Some((r["i"].as_u64()?, SimTime(r["t_ns"].as_u64()?))))
        .collect();
    let end = times.values().max().copied().unwrap_or(SimTime::ZERO);
    let mut lanes: Vec<Vec<(SimTime, &Value)>> = model.nodes.iter().map(|_| Vec::new()).collect();
    for r in records.iter().filter(|r| r["kind"] == "summary") {
        let lane = model.nodes.iter().position(|n| r["node"] == n.as_str());
        let at = r["e"].as_u64().and_then(|e| times.get(&e));
        if let (Some(lane), Some(&at)) = (lane, at) {
            lanes[lane].push((at, r));
        }
    }
    lanes
        .iter()
        .enumerate()
        .map(|(lane, list)| {
            let crashes: Vec<SimTime> = model
                .downtimes
                .iter()
                .filter(|d| d.lane == lane && !d.paused)
                .map(|d| d.from)
                .collect();
            stretches(list, &crashes, end)
        })
        .collect()
}

/// A lane's summaries as stretches, with overwrites flagged against the labels it held.
fn stretches(list: &[(SimTime, &Value)], crashes: &[SimTime], end: SimTime) -> Vec<Stretch> {
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(list.len());
    for (j, (from, r)) in list.iter().enumerate() {
        let next = list.get(j + 1).map_or(end, |n| n.0);
        let crash = crashes.iter().copied().find(|c| c >= from);
        let to = crash.map_or(next, |c| c.min(next));
        let first = r["l0"].as_u64().unwrap_or(0);
        let cells: Vec<Cell> = r["l"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .zip(first..)
            .map(|(c, index)| {
                let label = c[0].as_str().unwrap_or("").to_string();
                let was = seen.insert(index, label.clone());
                let overwritten = was.is_some_and(|w| !w.is_empty() && w != label);
                Cell {
                    index,
                    label,
                    committed: c[1] == 1,
                    overwritten,
                }
            })
            .collect();
        let mut words: Vec<String> = r["r"].as_str().map(str::to_string).into_iter().collect();
        for f in r["f"].as_array().map(Vec::as_slice).unwrap_or_default() {
            words.push(format!(
                "{} {}",
                f[0].as_str().unwrap_or(""),
                f[1].as_str().unwrap_or("")
            ));
        }
        out.push(Stretch {
            from: *from,
            to,
            standing: r["s"].as_str().unwrap_or("").to_string(),
            text: words.join(" · "),
            overwrites: cells.iter().any(|c| c.overwritten),
            cells,
        });
    }
    out
}

/// Draws one lane's strip, whose top is `top`, with `x` placing times.
pub(super) fn draw(
    out: &mut String,
    lane: &[Stretch],
    window: Window,
    top: f64,
    x: impl Fn(SimTime) -> f64,
) {
    let shown: Vec<&Stretch> = lane
        .iter()
        .filter(|s| s.to >= window.from && s.from <= window.to)
        .collect();
    for s in &shown {
        let (a, b) = (x(s.from), x(s.to));
        let (fill, height) = match s.standing.as_str() {
            "leader" => ("#212529", 5),
            "candidate" => ("#f59f00", 4),
            "follower" => ("#ced4da", 4),
            _ => continue,
        };
        let _ = writeln!(
            out,
            "<rect x=\"{a:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{height}\" fill=\"{fill}\"/>",
            (b - a).max(1.0)
        );
    }
    let texts = place(
        &shown,
        &x,
        |s| s.text.clone(),
        |s| s.text.chars().count() as f64 * 5.6 + 8.0,
        |_| false,
    );
    for s in texts {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#343a40\">{}</text>",
            x(s.from).max(window_left(&x, window)) + 2.0,
            top + 14.0,
            escape(&s.text)
        );
    }
    let width = |s: &Stretch| s.cells.len() as f64 * CELL_W_PX + 8.0;
    for s in place(&shown, &x, Stretch::key, width, |s| s.overwrites) {
        if s.overwrites {
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"2\" height=\"{STRIP_PX}\" fill=\"{OVERWRITE_COLOR}\"/>",
                x(s.from) - 1.0
            );
        }
        row(
            out,
            s,
            x(s.from).max(window_left(&x, window)) + 2.0,
            top + 18.0,
        );
    }
}

fn window_left(x: &impl Fn(SimTime) -> f64, window: Window) -> f64 {
    x(window.from)
}

/// Of the stretches with one key running together, those that fit side by side: the ones
/// that must show first, then the longest lasting.
fn place<'a>(
    shown: &[&'a Stretch],
    x: &impl Fn(SimTime) -> f64,
    key: impl Fn(&Stretch) -> String,
    width: impl Fn(&Stretch) -> f64,
    must: impl Fn(&Stretch) -> bool,
) -> Vec<&'a Stretch> {
    // (stretch, left, right end of the run, must)
    let mut runs: Vec<(&Stretch, f64, f64, bool, String)> = Vec::new();
    for &s in shown {
        let k = key(s);
        if let Some(last) = runs.last_mut()
            && last.4 == k
            && !must(s)
        {
            last.2 = x(s.to);
            continue;
        }
        runs.push((s, x(s.from), x(s.to), must(s), k));
    }
    runs.sort_by(|p, q| {
        q.3.cmp(&p.3)
            .then((q.2 - q.1).total_cmp(&(p.2 - p.1)))
            .then(p.1.total_cmp(&q.1))
    });
    let mut placed: Vec<(f64, f64, &Stretch)> = Vec::new();
    for (s, a, _, must, _) in runs {
        let (lo, hi) = (a, a + width(s));
        if !must && placed.iter().any(|&(pa, pb, _)| lo < pb && pa < hi) {
            continue;
        }
        placed.push((lo, hi, s));
    }
    placed.sort_by(|p, q| p.0.total_cmp(&q.0));
    placed.into_iter().map(|p| p.2).collect()
}

/// A row of cells from `x`, indices of the first and last under it.
fn row(out: &mut String, s: &Stretch, x: f64, top: f64) {
    for (j, c) in s.cells.iter().enumerate() {
        let cx = x + j as f64 * CELL_W_PX;
        let hue = label_hue(&c.label);
        let (fill, text, line) = if c.committed {
            (
                format!("hsl({hue:.0},55%,42%)"),
                "#ffffff",
                format!("hsl({hue:.0},55%,30%)"),
            )
        } else {
            (
                format!("hsl({hue:.0},70%,92%)"),
                "#212529",
                format!("hsl({hue:.0},35%,60%)"),
            )
        };
        let (stroke, stroke_px) = match c.overwritten {
            true => (OVERWRITE_COLOR.to_string(), 2.0),
            false => (line, 1.0),
        };
        let label = if c.label.is_empty() {
            "·"
        } else {
            c.label.as_str()
        };
        let _ = writeln!(
            out,
            "<rect x=\"{cx:.1}\" y=\"{top:.1}\" width=\"{:.0}\" height=\"{CELL_H_PX}\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"{stroke_px}\"><title>index {}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"8\" font-weight=\"bold\" text-anchor=\"middle\" \
             fill=\"{text}\">{}</text>",
            CELL_W_PX - 2.0,
            c.index,
            cx + (CELL_W_PX - 2.0) / 2.0,
            top + 9.0,
            escape(label)
        );
    }
    let ends = [
        s.cells.first(),
        s.cells.last().filter(|_| s.cells.len() > 1),
    ];
    for (j, c) in ends.into_iter().enumerate() {
        let Some(c) = c else { continue };
        let at = if j == 0 { 0 } else { s.cells.len() - 1 };
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"7\" text-anchor=\"middle\" fill=\"#868e96\">{}</text>",
            x + at as f64 * CELL_W_PX + (CELL_W_PX - 2.0) / 2.0,
            top + CELL_H_PX + 8.0,
            c.index
        );
    }
}

/// The viewer's colour of a label: entries of one term look alike on every node.
fn label_hue(label: &str) -> f64 {
    let h = label
        .encode_utf16()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)));
    (f64::from(h) * 137.508) % 360.0
}
