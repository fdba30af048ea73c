//! The exercises in exercises/: each skeleton compiles and scores 0, and each reference
//! solution, put in its place, scores full marks, on the suite's seeds and on others. The
//! exercise's `node.rs` is compiled here as it is in the student's crate.

use faultline::grade::{Grade, Suite, grade};
use faultline::{Protocol, Registry};
use std::path::Path;

#[path = "../exercises/02-broadcast/src/node.rs"]
mod broadcast_skeleton;
#[path = "../exercises/solutions/02-broadcast/node.rs"]
mod broadcast_solution;
#[path = "../exercises/03-grow-only-counter/src/node.rs"]
mod counter_skeleton;
#[path = "../exercises/solutions/03-grow-only-counter/node.rs"]
mod counter_solution;
#[path = "../exercises/01-unique-ids/src/given.rs"]
mod given;
#[path = "../exercises/01-unique-ids/src/node.rs"]
mod unique_ids_skeleton;
#[path = "../exercises/solutions/01-unique-ids/node.rs"]
mod unique_ids_solution;

fn graded<P: Protocol>(suite: &str, seeds: Option<&[u64]>) -> Grade {
    let registry = Registry::builtin().with::<P>();
    let suite = Suite::load(Path::new(suite)).expect("the suite reads");
    grade(&registry, &suite, seeds, &mut |_| {}).expect("the suite grades")
}

/// Why each part lost its points, for a failure message.
fn lost(grade: &Grade) -> Vec<String> {
    let lost = grade
        .parts
        .iter()
        .filter_map(|p| p.lost.as_ref().map(|l| (p, l)));
    lost.map(|(p, l)| format!("{}: seed {}: {}: {}", p.name, l.seed, l.reason, l.message))
        .collect()
}

/// `Skeleton` scores 0 on `suite`, every part lost; `Solution` scores full marks (`points`)
/// on the suite's seeds and on others.
fn zero_and_full<Skeleton: Protocol, Solution: Protocol>(suite: &str, points: u32) {
    let skeleton = graded::<Skeleton>(suite, None);
    assert_eq!(skeleton.points, 0, "{:?}", skeleton.parts);
    assert!(skeleton.parts.iter().all(|p| p.lost.is_some()));
    let solution = graded::<Solution>(suite, None);
    assert_eq!(
        solution.points,
        solution.points_max,
        "{:#?}",
        lost(&solution)
    );
    assert_eq!(solution.points_max, points);
    // On seeds the suite does not list, as an instructor grades.
    let hidden: Vec<u64> = (5000..5010).collect();
    let solution = graded::<Solution>(suite, Some(&hidden));
    assert_eq!(
        solution.points,
        solution.points_max,
        "{:#?}",
        lost(&solution)
    );
}

#[test]
fn unique_ids_skeleton_scores_nothing_and_the_solution_everything() {
    zero_and_full::<unique_ids_skeleton::IdGenerator, unique_ids_solution::IdGenerator>(
        "exercises/01-unique-ids/grade.yaml",
        10,
    );
}

#[test]
fn broadcast_skeleton_scores_nothing_and_the_solution_everything() {
    zero_and_full::<broadcast_skeleton::GossipSet, broadcast_solution::GossipSet>(
        "exercises/02-broadcast/grade.yaml",
        10,
    );
}

#[test]
fn counter_skeleton_scores_nothing_and_the_solution_everything() {
    zero_and_full::<counter_skeleton::Counter, counter_solution::Counter>(
        "exercises/03-grow-only-counter/grade.yaml",
        10,
    );
}

/// The primary-backup skeleton and solution name `super::given`, their own exercise's given
/// file, so the three live in a module of their own, rooted in the exercise's `src`.
#[path = "../exercises/05-primary-backup/src"]
mod primary_backup {
    mod given;
    #[path = "node.rs"]
    mod skeleton;
    #[path = "../../solutions/05-primary-backup/node.rs"]
    mod solution;

    #[test]
    fn primary_backup_skeleton_scores_nothing_and_the_solution_everything() {
        super::zero_and_full::<skeleton::PrimaryBackup, solution::PrimaryBackup>(
            "exercises/05-primary-backup/grade.yaml",
            10,
        );
    }
}

/// The Raft skeleton and solution name `super::given` too, so they live in a module of their
/// own as well, rooted in the exercise's `src`.
#[path = "../exercises/06-raft/src"]
mod raft {
    mod given;
    #[path = "node.rs"]
    mod skeleton;
    #[path = "../../solutions/06-raft/node.rs"]
    mod solution;

    #[test]
    fn raft_skeleton_scores_nothing_and_the_solution_everything() {
        super::zero_and_full::<skeleton::RaftNode, solution::RaftNode>(
            "exercises/06-raft/grade.yaml",
            10,
        );
    }

    /// n1 leads term 2 holding one entry of term 1, and commits it by counting at 10ms, or,
    /// when `own_entry`, appends an entry of term 2 first and commits both: only the first
    /// breaks the rule of Figure 8.
    #[derive(Clone, Debug, Default)]
    struct Counting {
        own_entry: bool,
        log: Vec<u64>,
        commit: u64,
    }

    impl faultline::Process for Counting {
        type Message = ();
        type Timer = ();
        fn on_start(&mut self, ctx: &mut faultline::Ctx<'_, Self>) {
            self.log = vec![1];
            ctx.set_timer(faultline::SimDuration::from_millis(10), ());
        }
        fn on_message(&mut self, _: &mut faultline::Ctx<'_, Self>, _: faultline::NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut faultline::Ctx<'_, Self>, _: faultline::TimerId, _: ()) {
            if self.own_entry {
                self.log.push(2);
            }
            self.commit = self.log.len() as u64;
        }
    }

    impl given::RaftView for Counting {
        fn term(&self) -> u64 {
            2
        }
        fn is_leader(&self) -> bool {
            true
        }
        fn log_len(&self) -> u64 {
            self.log.len() as u64
        }
        fn entry_term(&self, index: u64) -> Option<u64> {
            self.log.get((index as usize).checked_sub(1)?).copied()
        }
        fn commit_index(&self) -> u64 {
            self.commit
        }
    }

    #[test]
    fn a_leader_committing_an_older_terms_entry_by_counting_breaks_commit_own_term() {
        let broken = |own_entry| {
            let mut sim = faultline::SimBuilder::new(1)
                .nodes(1)
                .build(move |_| Counting {
                    own_entry,
                    ..Counting::default()
                })
                .expect("the simulation builds");
            let properties: Vec<_> = given::properties::<Counting>()
                .into_iter()
                .filter(|p| p.name == "commit_own_term")
                .collect();
            assert_eq!(properties.len(), 1);
            let end = faultline::SimTime::from_millis(50);
            faultline::check::run_checked(&mut sim, end, &properties).expect("the run completes")
        };
        let violations = broken(false);
        assert_eq!(violations.len(), 1, "{violations:?}");
        let message = &violations[0].message;
        assert!(
            message.contains(
                "n1 (leader of term 2) moved its commit index from 0 to 1, an entry of term 1"
            ),
            "{message}"
        );
        assert!(broken(true).is_empty());
    }
}

/// The exactly-once skeleton and solution name `super::given` too, so they live in a module
/// of their own as well, rooted in the exercise's `src`.
#[path = "../exercises/00-exactly-once/src"]
mod exactly_once {
    mod given;
    #[path = "node.rs"]
    mod skeleton;
    #[path = "../../solutions/00-exactly-once/node.rs"]
    mod solution;

    #[test]
    fn exactly_once_skeleton_scores_nothing_and_the_solution_everything() {
        super::zero_and_full::<skeleton::ExactlyOnce, solution::ExactlyOnce>(
            "exercises/00-exactly-once/grade.yaml",
            10,
        );
    }
}

/// The Kafka-style log skeleton and solution name `super::given` too, so they live in a
/// module of their own as well, rooted in the exercise's `src`.
#[path = "../exercises/04-kafka-log/src"]
mod kafka_log {
    mod given;
    #[path = "node.rs"]
    mod skeleton;
    #[path = "../../solutions/04-kafka-log/node.rs"]
    mod solution;

    #[test]
    fn kafka_log_skeleton_scores_nothing_and_the_solution_everything() {
        super::zero_and_full::<skeleton::KafkaLog, solution::KafkaLog>(
            "exercises/04-kafka-log/grade.yaml",
            10,
        );
    }
}
