//! Checking determinism: run the same thing twice and find the first trace event that differs.

use super::{HashLog, TraceEvent, TraceSink};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// The result of running the same simulation twice.
#[derive(Clone, Debug)]
pub struct Determinism {
    pub first_hash: u64,
    pub second_hash: u64,
    /// Where the two runs first differ, if they do.
    pub divergence: Option<Divergence>,
}

impl Determinism {
    pub fn is_deterministic(&self) -> bool {
        self.divergence.is_none() && self.first_hash == self.second_hash
    }
}

/// The first trace event at which two runs differ.
#[derive(Clone, Debug)]
pub struct Divergence {
    pub index: u64,
    /// That event in the first and in the second run (`None` if that run had already ended).
    pub first: Option<TraceEvent>,
    pub second: Option<TraceEvent>,
}

/// A [`HashLog`] that can be read after the simulation that owned it is gone.
#[derive(Clone, Default)]
pub struct SharedHashLog(pub Rc<RefCell<HashLog>>);

impl TraceSink for SharedHashLog {
    fn record(&mut self, event: &TraceEvent, hash: u64, detail: Option<&dyn fmt::Debug>) {
        self.0.borrow_mut().record(event, hash, detail);
    }
}

/// Runs `run` twice, each time with a sink that logs the hash after every event, and compares.
/// `run` builds and runs one simulation with the given sink and returns its trace hash. On a
/// difference, both runs are repeated once more to capture the first differing event.
pub fn compare_runs<E>(
    mut run: impl FnMut(Box<dyn TraceSink>) -> Result<u64, E>,
) -> Result<Determinism, E> {
    let mut logged = |capture_at: Option<u64>| -> Result<(u64, HashLog), E> {
        let log = SharedHashLog::default();
        log.0.borrow_mut().capture_at = capture_at;
        let hash = run(Box::new(log.clone()))?;
        let log = log.0.borrow().clone();
        Ok((hash, log))
    };
    let (first_hash, first) = logged(None)?;
    let (second_hash, second) = logged(None)?;
    let mismatch = first
        .hashes
        .iter()
        .zip(&second.hashes)
        .position(|(a, b)| a != b);
    let shorter = first.hashes.len().min(second.hashes.len());
    let differs_at = mismatch.or((first.hashes.len() != second.hashes.len()).then_some(shorter));
    let divergence = match differs_at {
        None => None,
        Some(i) => {
            let at = Some(i as u64);
            let (_, a) = logged(at)?;
            let (_, b) = logged(at)?;
            Some(Divergence {
                index: i as u64,
                first: a.captured,
                second: b.captured,
            })
        }
    };
    Ok(Determinism {
        first_hash,
        second_hash,
        divergence,
    })
}
