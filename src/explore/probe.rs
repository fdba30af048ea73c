//! What a scenario's protocol sends and notes, learnt from one calm run, so that swarm seeds
//! can aim triggered faults at it ([`crate::faults::trigger_draw`]).

use super::case::fuzz_faults;
use crate::faults::trigger::message_kind;
use crate::faults::trigger_draw::{Vocabulary, WORDS_MAX, note_pattern};
use crate::scenario::{RunOptions, Scenario, run};
use crate::trace::{TraceEvent, TraceKind, TraceSink};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::rc::Rc;

/// What a run's protocol did: each kind of message sent and each pattern of note written,
/// with how often, and the patterns each node wrote. At most [`WORDS_MAX`] kinds, patterns,
/// and patterns a node (the first seen).
#[derive(Default)]
pub(super) struct Activity {
    pub(super) sent: BTreeMap<String, u32>,
    pub(super) notes: BTreeMap<String, u32>,
    pub(super) writers: BTreeMap<u32, BTreeSet<String>>,
    kind: String,
}

/// A trace sink that tallies a run's [`Activity`] into the shared cell.
pub(super) struct Listener(pub(super) Rc<RefCell<Activity>>);

impl TraceSink for Listener {
    fn record(&mut self, event: &TraceEvent, _hash: u64, detail: Option<&dyn fmt::Debug>) {
        let Some(detail) = detail else { return };
        let mut counts = self.0.borrow_mut();
        let counts = &mut *counts;
        match event.kind {
            TraceKind::Send { .. } => {
                message_kind(&detail, &mut counts.kind);
                count(&mut counts.sent, &counts.kind);
            }
            TraceKind::Note => {
                let text = format!("{detail:?}");
                if let Some(pattern) = note_pattern(&text) {
                    count(&mut counts.notes, pattern);
                    let mine = counts.writers.entry(event.node.0).or_default();
                    if mine.len() < WORDS_MAX && !mine.contains(pattern) {
                        mine.insert(pattern.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Counts `word`, keeping at most [`WORDS_MAX`] distinct ones (the first seen).
fn count(map: &mut BTreeMap<String, u32>, word: &str) {
    if word.is_empty() {
        return;
    }
    if let Some(n) = map.get_mut(word) {
        *n = n.saturating_add(1);
    } else if map.len() < WORDS_MAX {
        map.insert(word.to_string(), 1);
    }
}

/// What one run of `s`, as written, sent and noted.
pub fn vocabulary(s: &Scenario) -> Vocabulary {
    let counts = Rc::new(RefCell::new(Activity::default()));
    let options = RunOptions {
        trace: Some(Box::new(Listener(counts.clone()))),
        ..RunOptions::default()
    };
    // A run that fails, panics or hits a limit still shows what it sent until then.
    let _ = run(s, options);
    let counts = counts.borrow();
    Vocabulary {
        sent: counts.sent.iter().map(|(k, &n)| (k.clone(), n)).collect(),
        notes: counts.notes.iter().map(|(k, &n)| (k.clone(), n)).collect(),
    }
}

/// `base` ready for a fuzz campaign: when its seeds draw a swarm schedule, with what one calm
/// run of it (its own seed, no faults) sent and noted, so that each seed may also draw
/// triggered faults aimed at those messages and notes. Call it once per campaign;
/// [`super::seed_scenario`] then draws the same run for a seed wherever it is called.
pub fn prepare(base: &Scenario) -> Scenario {
    let mut prepared = base.clone();
    let swarm = fuzz_faults(base).is_some_and(|f| f.swarm);
    if swarm && base.fuzz.vocabulary.is_none() {
        prepared.fuzz.vocabulary = Some(vocabulary(base));
    }
    prepared
}
