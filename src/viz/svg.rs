//! The run as a static SVG picture, for docs and lessons: the viewer's drawing without the
//! interaction. One lane per node, time left to right, an arrow per delivered message, a
//! cross per dropped one, crashes, pauses and partitions, a row of bars per client, the
//! operations a violation names in red, and the violation as a red line.

use super::Page;
use super::escape_html as escape;
use super::svg_model::{Model, Op, Window};
use super::svg_strip::{self, STRIP_PX, Stretch};
use crate::time::{SimDuration, SimTime};
use std::fmt::Write;

/// Most trace events one picture draws: beyond it no arrow can be told apart anyway, so a
/// window (`--svg-window`) must narrow the run down.
pub const SVG_EVENTS_MAX: usize = 20_000;
/// Most client rows drawn; clients past it are left out, and the picture says so.
const CLIENT_ROWS_MAX: u32 = 48;
/// Arrows in the picture up to which each carries its message's name.
const ARROW_LABELS_MAX: usize = 120;

const WIDTH_PX: f64 = 1200.0;
const GUTTER_PX: f64 = 84.0;
const RIGHT_PX: f64 = 16.0;
const TOP_PX: f64 = 58.0;
const LANE_PX: f64 = 44.0;
const CLIENT_ROW_PX: f64 = 13.0;
const LEGEND_PX: f64 = 34.0;

const COLOR_ARROW: &str = "#3b6fd8";
const COLOR_DUP: &str = "#8e44ad";
const COLOR_DROP: &str = "#d9480f";
const COLOR_CRASH: &str = "#c92a2a";
const COLOR_START: &str = "#2b8a3e";
const COLOR_NOTE: &str = "#495057";
const COLOR_VIOLATION: &str = "#e03131";

/// The picture of `page`, or of the part of it inside `window`; `Err` says why it cannot be
/// drawn (too many events, an empty window).
pub fn svg(page: &Page, window: Option<(SimTime, SimTime)>) -> Result<String, String> {
    let model = Model::read(page, window)?;
    if model.events_in_window > SVG_EVENTS_MAX {
        return Err(format!(
            "{} events to draw, more than the {SVG_EVENTS_MAX} a picture holds: draw a part of \
             the run with `--svg-window FROM..TO` (for example `--svg-window 0ms..100ms`)",
            model.events_in_window
        ));
    }
    let strips = svg_strip::read(page, &model);
    Ok(Canvas::new(&model, strips).draw(&model))
}

/// Where things go on the picture.
struct Canvas {
    window: Window,
    lanes: usize,
    /// Each lane's state strip (none without summaries), and a lane's height with it.
    strips: Vec<Vec<Stretch>>,
    lane_px: f64,
    client_rows: u32,
    height_px: f64,
    out: String,
}

impl Canvas {
    fn new(model: &Model, strips: Vec<Vec<Stretch>>) -> Canvas {
        let client_rows = model.clients.min(CLIENT_ROWS_MAX);
        let lane_px = match strips.iter().any(|s| !s.is_empty()) {
            true => LANE_PX + STRIP_PX,
            false => LANE_PX,
        };
        let height_px = TOP_PX
            + model.nodes.len() as f64 * lane_px
            + f64::from(client_rows) * CLIENT_ROW_PX
            + 12.0
            + LEGEND_PX;
        Canvas {
            window: model.window,
            lanes: model.nodes.len(),
            strips,
            lane_px,
            client_rows,
            height_px,
            out: String::with_capacity(64 * 1024),
        }
    }

    fn x(&self, t: SimTime) -> f64 {
        x_at(self.window, t)
    }

    fn lane_y(&self, lane: usize) -> f64 {
        TOP_PX + lane as f64 * self.lane_px + LANE_PX / 2.0
    }

    fn clients_top(&self) -> f64 {
        TOP_PX + self.lanes as f64 * self.lane_px + 6.0
    }

    fn bottom(&self) -> f64 {
        self.clients_top() + f64::from(self.client_rows) * CLIENT_ROW_PX
    }

    fn draw(mut self, model: &Model) -> String {
        self.head(model);
        self.axis();
        self.lanes_and_names(model);
        self.out.push_str("<g clip-path=\"url(#plot)\">\n");
        self.bands(model);
        self.arrows(model);
        for (lane, stretches) in self.strips.iter().enumerate() {
            let top = TOP_PX + lane as f64 * self.lane_px + LANE_PX;
            let window = self.window;
            svg_strip::draw(&mut self.out, stretches, window, top, |t| x_at(window, t));
        }
        self.marks(model);
        self.ops(model);
        self.out.push_str("</g>\n");
        self.violations(model);
        self.legend(model);
        self.out.push_str("</svg>\n");
        self.out
    }

    fn head(&mut self, model: &Model) {
        let (w, h) = (WIDTH_PX, self.height_px);
        let _ = writeln!(
            self.out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h:.0}\" \
             viewBox=\"0 0 {w} {h:.0}\" font-family=\"sans-serif\" font-size=\"11\">"
        );
        let _ = writeln!(
            self.out,
            "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker>\
             <clipPath id=\"plot\"><rect x=\"{GUTTER_PX}\" y=\"0\" width=\"{:.0}\" \
             height=\"{h:.0}\"/></clipPath></defs>",
            WIDTH_PX - GUTTER_PX - RIGHT_PX + 2.0
        );
        let _ = writeln!(
            self.out,
            "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
        );
        let _ = writeln!(
            self.out,
            "<text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{}</text>",
            escape(&model.title)
        );
    }

    /// Time ticks at a round step, about eight across.
    fn axis(&mut self) {
        let span = self.window.to.0.saturating_sub(self.window.from.0).max(1);
        let step = round_step(span / 8);
        let mut t = self.window.from.0.div_ceil(step) * step;
        let (top, bottom) = (TOP_PX - 8.0, self.bottom());
        while t <= self.window.to.0 {
            let x = self.x(SimTime(t));
            let _ = writeln!(
                self.out,
                "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" \
                 stroke=\"#f1f3f5\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
                 fill=\"#868e96\">{}</text>",
                top - 4.0,
                SimDuration(t)
            );
            t += step;
        }
    }

    /// Partitions as bands over every lane; each node's time down or paused on its lane.
    fn bands(&mut self, model: &Model) {
        let (top, bottom) = (TOP_PX, TOP_PX + self.lanes as f64 * self.lane_px);
        for p in &model.partitions {
            let (x1, x2) = (self.x(p.from), self.x(p.to));
            let _ = writeln!(
                self.out,
                "<rect x=\"{x1:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" \
                 fill=\"#fff3bf\" opacity=\"0.7\"><title>{}</title></rect>",
                (x2 - x1).max(1.0),
                bottom - top,
                escape(&p.detail)
            );
            // Named inside the band when the words fit it (about 6 px a character).
            let chars_max = ((x2 - x1) / 6.0) as usize;
            if p.detail.chars().count() <= chars_max {
                self.label_at(x1 + 4.0, top + 10.0, &p.detail, "#997404", "start");
            }
        }
        for d in &model.downtimes {
            let (x1, x2) = (self.x(d.from), self.x(d.to));
            let y = self.lane_y(d.lane) - 7.0;
            let fill = if d.paused { "#ffe8cc" } else { "#ffc9c9" };
            let word = if d.paused { "paused" } else { "down" };
            let _ = writeln!(
                self.out,
                "<rect x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{fill}\">\
                 <title>{} {word}</title></rect>",
                (x2 - x1).max(1.0),
                escape(&model.nodes[d.lane])
            );
        }
    }

    fn lanes_and_names(&mut self, model: &Model) {
        let right = WIDTH_PX - RIGHT_PX;
        for (lane, name) in model.nodes.iter().enumerate() {
            let y = self.lane_y(lane);
            let _ = writeln!(
                self.out,
                "<line x1=\"{GUTTER_PX}\" y1=\"{y:.1}\" x2=\"{right}\" y2=\"{y:.1}\" \
                 stroke=\"#adb5bd\"/><text x=\"8\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
                y + 4.0,
                escape(name)
            );
        }
        if self.client_rows > 0 {
            let _ = writeln!(
                self.out,
                "<text x=\"8\" y=\"{:.1}\" fill=\"#5c7cfa\">clients</text>",
                self.clients_top() + 10.0
            );
        }
    }

    /// Delivered messages as arrows, dropped ones as lines ending in a cross.
    fn arrows(&mut self, model: &Model) {
        let labels = model.arrows.len() <= ARROW_LABELS_MAX;
        for a in &model.arrows {
            let (x1, y1) = (self.x(a.sent), self.lane_y(a.from));
            let (x2, y2) = (self.x(a.at), self.lane_y(a.to));
            let color = if a.duplicate { COLOR_DUP } else { COLOR_ARROW };
            let _ = writeln!(
                self.out,
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" \
                 stroke=\"{color}\" marker-end=\"url(#head)\"><title>{}</title></line>",
                escape(&a.detail)
            );
            let long = (x2 - x1).hypot(y2 - y1) >= 60.0;
            if labels && long {
                self.label((x1 + x2) / 2.0, (y1 + y2) / 2.0 - 3.0, &a.name, color);
            }
        }
        for d in &model.drops {
            let (x1, y1) = (self.x(d.sent), self.lane_y(d.from));
            let (mut x2, mut y2) = (self.x(d.at), self.lane_y(d.to));
            if d.at_send {
                // Lost on the way: a short stub towards where it was going.
                (x2, y2) = (x1 + 14.0, y1 + (y2 - y1).signum() * 14.0);
            }
            let _ = writeln!(
                self.out,
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" \
                 stroke=\"{COLOR_DROP}\" stroke-dasharray=\"3,2\"/><text x=\"{x2:.1}\" \
                 y=\"{:.1}\" text-anchor=\"middle\" fill=\"{COLOR_DROP}\" font-size=\"13\">\
                 ×<title>{} dropped ({})</title></text>",
                y2 + 4.0,
                escape(&d.detail),
                d.reason
            );
        }
    }

    fn label(&mut self, x: f64, y: f64, text: &str, color: &str) {
        self.label_at(x, y, text, color, "middle");
    }

    fn label_at(&mut self, x: f64, y: f64, text: &str, color: &str, anchor: &str) {
        let _ = writeln!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" fill=\"{color}\" \
             font-size=\"9\">{}</text>",
            escape(text)
        );
    }

    /// Crashes, restarts and the protocol's notes, on their lanes.
    fn marks(&mut self, model: &Model) {
        for m in &model.marks {
            let (x, y) = (self.x(m.at), self.lane_y(m.lane));
            let (glyph, color, dy) = match m.kind {
                "crash" => ("✕", COLOR_CRASH, 5.0),
                "restart" => ("↻", COLOR_START, 5.0),
                _ => ("◆", COLOR_NOTE, -9.0),
            };
            let size = if m.kind == "note" { 7 } else { 15 };
            let _ = writeln!(
                self.out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{color}\" \
                 font-size=\"{size}\">{glyph}<title>{}</title></text>",
                y + dy,
                escape(&m.detail)
            );
        }
    }

    /// Each client operation as a bar from invocation to completion, coloured by how it
    /// ended; those a violation names in red.
    fn ops(&mut self, model: &Model) {
        let rows = self.client_rows;
        for op in model.ops.iter().filter(|o| o.client < rows) {
            self.op_bar(op, model.window.to);
        }
    }

    fn op_bar(&mut self, op: &Op, end: SimTime) {
        let y = self.clients_top() + f64::from(op.client) * CLIENT_ROW_PX + 2.0;
        let (x1, x2) = (self.x(op.invoked), self.x(op.completed.unwrap_or(end)));
        let width = (x2 - x1).max(2.0);
        let fill = match (op.named, op.status) {
            (Some(0), _) => COLOR_VIOLATION,
            (_, "ok") => "#2f9e44",
            (_, "fail") => "#e03131",
            (_, "info") => "#f59f00",
            _ => "#adb5bd",
        };
        let stroke = match op.named {
            Some(_) => format!(" stroke=\"{COLOR_VIOLATION}\" stroke-width=\"2\""),
            None => String::new(),
        };
        let _ = writeln!(
            self.out,
            "<rect x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"9\" fill=\"{fill}\" \
             opacity=\"0.85\"{stroke}><title>op {} (client c{}): {}, {}</title></rect>",
            op.number,
            op.client,
            escape(&op.detail),
            op.status
        );
        let label = format!("op {}", op.number);
        if width >= 7.0 * label.len() as f64 {
            let _ = writeln!(
                self.out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#ffffff\" font-size=\"8\">{label}</text>",
                x1 + 2.0,
                y + 7.5
            );
        }
    }

    /// Each violation as a red line over the whole picture, named at the top, its words kept
    /// inside the picture.
    fn violations(&mut self, model: &Model) {
        for v in &model.violations {
            let x = self.x(v.drawn_at);
            // Found outside the window: the line marks the edge, the words the true time.
            let side = match v.at.cmp(&v.drawn_at) {
                std::cmp::Ordering::Greater => " (after this window)",
                std::cmp::Ordering::Less => " (before this window)",
                std::cmp::Ordering::Equal => "",
            };
            let (top, bottom) = (TOP_PX - 30.0, self.bottom());
            let anchor = if x > WIDTH_PX * 0.7 { "end" } else { "start" };
            let dx = if anchor == "end" { -4.0 } else { 4.0 };
            let _ = writeln!(
                self.out,
                "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" \
                 stroke=\"{COLOR_VIOLATION}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\" \
                 text-anchor=\"{anchor}\" fill=\"{COLOR_VIOLATION}\" font-weight=\"bold\">\
                 {} violated at {}{side}<title>{}</title></text>",
                x + dx,
                top + 4.0,
                escape(&v.property),
                v.at,
                escape(&v.message)
            );
        }
    }

    fn legend(&mut self, model: &Model) {
        let y = self.bottom() + 24.0;
        let mut parts = vec![
            (COLOR_ARROW, "→ message"),
            (COLOR_DUP, "→ duplicate"),
            (COLOR_DROP, "× dropped"),
            (COLOR_CRASH, "✕ crash"),
            (COLOR_START, "↻ restart"),
            (COLOR_NOTE, "◆ note"),
            ("#2f9e44", "■ ok"),
            ("#e03131", "■ failed"),
            ("#f59f00", "■ no answer"),
        ];
        if !model.violations.is_empty() {
            parts.push((COLOR_VIOLATION, "□ named by the violation"));
        }
        if self.lane_px > LANE_PX {
            parts.extend([
                ("#212529", "▬ leader"),
                ("#f59f00", "▬ candidate"),
                ("#adb5bd", "▬ follower"),
                (COLOR_VIOLATION, "□ log entry overwritten"),
            ]);
        }
        let _ = write!(self.out, "<text x=\"8\" y=\"{y:.1}\" fill=\"#495057\">");
        for (color, words) in parts {
            let _ = write!(self.out, "<tspan fill=\"{color}\">{words}</tspan>   ");
        }
        if model.clients > self.client_rows {
            let _ = write!(
                self.out,
                "(clients past c{} not drawn)",
                self.client_rows - 1
            );
        }
        self.out.push_str("</text>\n");
    }
}

/// Where time `t` is drawn on a picture of `window`.
fn x_at(window: Window, t: SimTime) -> f64 {
    let (from, to) = (window.from.0 as f64, window.to.0 as f64);
    let span = (to - from).max(1.0);
    // Unclamped: what reaches past the window is cut at its edge by the clip path.
    GUTTER_PX + (t.0 as f64 - from) / span * (WIDTH_PX - GUTTER_PX - RIGHT_PX)
}

/// A step of 1, 2 or 5 times a power of ten nanoseconds, at least `rough`.
fn round_step(rough: u64) -> u64 {
    let mut unit = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = unit.saturating_mul(m);
            if step >= rough {
                return step.max(1);
            }
        }
        unit = unit.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_of_too_many_events_says_how_to_draw_part_of_it() {
        let note =
            |i: usize| format!(r#"{{"i":{i},"kind":"note","node":"n1","note":"x","t_ns":{i}}}"#);
        let records = (0..=SVG_EVENTS_MAX).map(note).collect();
        let page = Page::new(super::super::Meta::default(), records);
        let error = svg(&page, None).unwrap_err();
        assert!(error.starts_with("20001 events to draw"), "{error}");
        assert!(error.contains("--svg-window FROM..TO"), "{error}");
        let part = svg(&page, Some((SimTime(0), SimTime(100)))).unwrap();
        assert_eq!(part.matches("◆<title>x</title>").count(), 101);
    }

    #[test]
    fn ticks_fall_on_round_steps() {
        assert_eq!(round_step(0), 1);
        assert_eq!(round_step(3), 5);
        assert_eq!(round_step(1_200_000), 2_000_000);
        assert_eq!(round_step(5_000_000), 5_000_000);
        assert_eq!(round_step(u64::MAX), u64::MAX);
    }
}
