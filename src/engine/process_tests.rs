//! The random helpers of [`Ctx`]: the same seed draws the same values, draws stay in range,
//! and a range or probability that makes no sense stops the run with a message naming it.

use super::*;
use crate::SimBuilder;
use rand::RngExt;

/// What a [`Drawer`] draws on start, chosen per test.
#[derive(Clone, Copy)]
enum Draw {
    /// `ctx.random_duration(low..high)`.
    Duration { low: SimDuration, high: SimDuration },
    /// `ctx.random_duration(low..=high)`.
    DurationInclusive { low: SimDuration, high: SimDuration },
    /// `ctx.rng().random_range(low..=high)` on nanoseconds, what protocols did by hand.
    NanosByHand { low: SimDuration, high: SimDuration },
    /// `ctx.random_bool(p)`, as 0 or 1.
    Bool(f64),
}

const DRAWS: usize = 500;

/// Draws [`DRAWS`] values on start and keeps them.
struct Drawer {
    draw: Draw,
    drawn: Vec<u64>,
}

impl Process for Drawer {
    type Message = ();
    type Timer = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        for _ in 0..DRAWS {
            let value = match self.draw {
                Draw::Duration { low, high } => ctx.random_duration(low..high).0,
                Draw::DurationInclusive { low, high } => ctx.random_duration(low..=high).0,
                Draw::NanosByHand { low, high } => ctx.rng().random_range(low.0..=high.0),
                Draw::Bool(p) => u64::from(ctx.random_bool(p)),
            };
            self.drawn.push(value);
        }
    }

    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}

    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: TimerId, _: ()) {}
}

/// What each of two nodes drew under `seed`.
fn drawn(seed: u64, draw: Draw) -> Vec<Vec<u64>> {
    let mut sim = SimBuilder::new(seed)
        .nodes(2)
        .build(move |_| Drawer {
            draw,
            drawn: Vec::new(),
        })
        .expect("a valid simulation");
    sim.run_until(SimTime::from_millis(1))
        .expect("no limit hit");
    sim.states()
        .iter()
        .map(|s| s.as_ref().expect("up").drawn.clone())
        .collect()
}

const MS_150: SimDuration = SimDuration::from_millis(150);
const MS_300: SimDuration = SimDuration::from_millis(300);

#[test]
fn random_duration_is_the_same_for_the_same_seed_and_node_only() {
    let draw = Draw::Duration {
        low: MS_150,
        high: MS_300,
    };
    let run = drawn(7, draw);
    assert_eq!(run, drawn(7, draw));
    assert_ne!(run, drawn(8, draw), "another seed draws other durations");
    assert_ne!(run[0], run[1], "each node has its own stream");
}

#[test]
fn random_duration_stays_in_its_range_and_covers_it() {
    let draw = Draw::Duration {
        low: MS_150,
        high: MS_300,
    };
    for values in drawn(3, draw) {
        assert!(values.iter().all(|&ns| (MS_150.0..MS_300.0).contains(&ns)));
        let spread = values.iter().max().zip(values.iter().min());
        let (max, min) = spread.expect("draws");
        assert!(max - min > 100_000_000, "{min}..{max} hugs one end");
    }
}

#[test]
fn random_duration_includes_the_end_only_of_an_inclusive_range() {
    let (low, high) = (MS_150, SimDuration(MS_150.0 + 1));
    let half_open = drawn(1, Draw::Duration { low, high }).concat();
    assert!(half_open.iter().all(|&ns| ns == low.0));
    let inclusive = drawn(1, Draw::DurationInclusive { low, high }).concat();
    assert!(inclusive.contains(&low.0) && inclusive.contains(&high.0));
    assert!(inclusive.iter().all(|&ns| ns == low.0 || ns == high.0));
    let single = drawn(1, Draw::DurationInclusive { low, high: low }).concat();
    assert!(single.iter().all(|&ns| ns == low.0));
}

#[test]
fn random_duration_draws_what_random_range_on_nanoseconds_draws() {
    let (low, high) = (MS_150, MS_300);
    let by_hand = drawn(11, Draw::NanosByHand { low, high });
    assert_eq!(drawn(11, Draw::DurationInclusive { low, high }), by_hand);
    let high = SimDuration(high.0 + 1);
    assert_eq!(drawn(11, Draw::Duration { low, high }), by_hand);
}

#[test]
#[should_panic(expected = "Ctx::random_duration: the range 300ms..150ms is empty; \
                           its end must come after its start")]
fn random_duration_rejects_a_reversed_range() {
    drawn(
        1,
        Draw::Duration {
            low: MS_300,
            high: MS_150,
        },
    );
}

#[test]
#[should_panic(expected = "Ctx::random_duration: the range 150ms..150ms is empty")]
fn random_duration_rejects_an_empty_range() {
    drawn(
        1,
        Draw::Duration {
            low: MS_150,
            high: MS_150,
        },
    );
}

#[test]
#[should_panic(expected = "Ctx::random_duration: the range 0ns..0ns is empty")]
fn random_duration_rejects_a_range_ending_at_zero() {
    let zero = SimDuration(0);
    drawn(
        1,
        Draw::Duration {
            low: zero,
            high: zero,
        },
    );
}

#[test]
fn random_bool_is_deterministic_and_follows_p() {
    let run = drawn(5, Draw::Bool(0.25));
    assert_eq!(run, drawn(5, Draw::Bool(0.25)));
    let trues: u64 = run.concat().iter().sum();
    // 1000 draws at p = 0.25: 250 expected, 13.7 the standard deviation.
    assert!((180..=320).contains(&trues), "{trues} of 1000");
    assert!(drawn(5, Draw::Bool(0.0)).concat().iter().all(|&b| b == 0));
    assert!(drawn(5, Draw::Bool(1.0)).concat().iter().all(|&b| b == 1));
}

#[test]
#[should_panic(expected = "Ctx::random_bool: p = 1.5 is not a probability in [0, 1]")]
fn random_bool_rejects_p_above_one() {
    drawn(1, Draw::Bool(1.5));
}

#[test]
#[should_panic(expected = "Ctx::random_bool: p = NaN is not a probability in [0, 1]")]
fn random_bool_rejects_nan() {
    drawn(1, Draw::Bool(f64::NAN));
}

#[test]
fn node_id_debug_prints_the_default_name() {
    assert_eq!(format!("{:?}", NodeId(0)), "n1");
    assert_eq!(format!("{:?}", vec![NodeId(0), NodeId(9)]), "[n1, n10]");
    assert_eq!(format!("{:?}", NodeId(4)), NodeId(4).to_string());
}
