//! The reductions both shrinkers share — of a scenario ([`super::shrink`]) and of a run built
//! in Rust ([`crate::testing::shrink_builder`]): delta debugging of a list, and lowering a
//! probability. Each tries candidates through a closure that runs one and says whether it
//! still fails the same way (and then keeps it), within the shrink's budgets.

use super::shrink::{CANDIDATES_MAX, DDMIN_RUNS_MAX, PROBABILITY_STEPS_MAX};

/// Delta debugging (Zeller's ddmin) over `items`: first none at all, then ever smaller chunks
/// and their complements, keeping any that still fails, until no single chunk can go.
/// `runs(state)` counts the candidate runs so far; the search stops after
/// [`DDMIN_RUNS_MAX`] of its own, or at [`CANDIDATES_MAX`] in all. Returns the items kept.
pub(crate) fn ddmin<S, T: Clone>(
    state: &mut S,
    mut items: Vec<T>,
    runs: impl Fn(&S) -> usize,
    mut attempt: impl FnMut(&mut S, &[T]) -> bool,
) -> Vec<T> {
    let start = runs(state);
    if items.is_empty() || attempt(state, &[]) {
        return Vec::new();
    }
    let mut n = 2usize;
    while items.len() >= 2 && runs(state) - start < DDMIN_RUNS_MAX {
        let chunk = items.len().div_ceil(n);
        let chunks: Vec<Vec<T>> = items.chunks(chunk).map(<[T]>::to_vec).collect();
        let mut reduced = false;
        for c in &chunks {
            if attempt(state, c) {
                items = c.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && chunks.len() > 2 {
            for i in 0..chunks.len() {
                let rest: Vec<T> = chunks
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
                if attempt(state, &rest) {
                    items = rest;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (n * 2).min(items.len());
        }
        if runs(state) >= CANDIDATES_MAX {
            break;
        }
    }
    items
}

/// Lowers a probability `p` that a run still fails with: to 0 if it still fails there, else by
/// halves while it does (at most [`PROBABILITY_STEPS_MAX`] of them). `attempt(state, q)` runs
/// with `q` and keeps it when the run still fails.
pub(crate) fn lower_probability<S>(
    state: &mut S,
    p: f64,
    mut attempt: impl FnMut(&mut S, f64) -> bool,
) {
    if p == 0.0 || attempt(state, 0.0) {
        return;
    }
    let mut p = p;
    for _ in 0..PROBABILITY_STEPS_MAX {
        p /= 2.0;
        if !attempt(state, p) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run "fails" while it keeps both 3 and 7.
    fn fails(keep: &[u32]) -> bool {
        keep.contains(&3) && keep.contains(&7)
    }

    #[test]
    fn ddmin_finds_the_two_items_that_matter() {
        let mut runs = 0usize;
        let kept = ddmin(
            &mut runs,
            (0..20).collect(),
            |r| *r,
            |r, keep| {
                *r += 1;
                fails(keep)
            },
        );
        assert_eq!(kept, vec![3, 7]);
        assert!(runs < 60, "{runs} runs");
    }

    #[test]
    fn lowering_stops_at_the_last_probability_that_fails() {
        let mut tried = Vec::new();
        lower_probability(&mut tried, 0.4, |t, q| {
            t.push(q);
            q >= 0.1
        });
        assert_eq!(tried, vec![0.0, 0.2, 0.1, 0.05]);
    }
}
