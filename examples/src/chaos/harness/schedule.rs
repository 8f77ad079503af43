//! The fault schedule of a run, drawn from its seed: pure, so that a seed always means the
//! same faults at the same times.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::NODES;

/// No fault before this: every node has synchronised and the load is running.
pub const FIRST_FAULT: Duration = Duration::from_secs(5);

/// One fault episode per slot of this length. A kill leaves the node down for up to
/// [`KILL_DOWN`] and its restart needs an NTP sync (a few polls at most), so a slot holds one
/// episode with room to recover before the next.
pub const SLOT: Duration = Duration::from_secs(8);

/// No fault starts later than this before the end of the load.
pub const QUIET_END: Duration = Duration::from_secs(5);

/// How far past its slot's start an episode may begin, drawn from the seed.
const JITTER_MS: u64 = 1_000;

/// The longer of the two times a killed node stays down.
pub const KILL_DOWN: Duration = Duration::from_secs(2);

/// The node no kill hits, so that one life spans the whole run and the memory check has a
/// whole soak to compare (it may still be paused or stepped).
pub const NEVER_KILLED: u64 = 1;

/// The number of NTP responders: three stay honest, one starts lying, one goes silent.
pub const RESPONDERS: usize = 5;

/// One fault episode: what the harness does, and what it lifts afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Episode {
    /// `kill -9` the node, then restart it with its clock set back.
    KillRestart {
        /// The node (1 to 5).
        node: u64,
        /// How long it stays down: none (its stamps may still be above its clock, so the
        /// restarted node starts from its persisted bound) or [`KILL_DOWN`].
        down: Duration,
    },
    /// `SIGSTOP` the node, then `SIGCONT` it.
    Pause {
        /// The node.
        node: u64,
    },
    /// Step the node's simulated clock ahead through `/admin/step`.
    Step {
        /// The node.
        node: u64,
    },
    /// CPU load on the whole machine (`stress-ng`).
    CpuLoad,
    /// An NTP responder starts lying.
    NtpLie {
        /// Which responder (0-based).
        responder: usize,
    },
    /// An NTP responder goes silent.
    NtpSilent {
        /// Which responder (0-based).
        responder: usize,
    },
}

/// An episode and when it starts, counted from the start of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// When it starts (the harness starts it later if the previous one has not ended).
    pub at: Duration,
    /// What it is.
    pub episode: Episode,
}

/// The episodes of a run of `seconds` seconds: one per [`SLOT`] from [`FIRST_FAULT`], none
/// in the last [`QUIET_END`]. Each cycle of slots holds every node fault and CPU load once,
/// in an order drawn from the seed; the first also holds the two NTP faults (a responder
/// lies and another goes silent for the rest of the run: three honest ones stay).
pub fn schedule(seed: u64, seconds: u64) -> Vec<Planned> {
    let mut rng = StdRng::seed_from_u64(seed);
    let end = Duration::from_secs(seconds).saturating_sub(QUIET_END);
    let liar = rng.random_range(0..RESPONDERS);
    let silent = (liar + rng.random_range(1..RESPONDERS)) % RESPONDERS;
    let mut plan = Vec::new();
    let mut cycle = Vec::new();
    let mut at = FIRST_FAULT;
    while at < end {
        if cycle.is_empty() {
            cycle = node_faults(&mut rng);
            if plan.is_empty() {
                cycle.push(Episode::NtpLie { responder: liar });
                cycle.push(Episode::NtpSilent { responder: silent });
            }
            cycle.shuffle(&mut rng);
        }
        let Some(episode) = cycle.pop() else { break };
        let jitter = Duration::from_millis(rng.random_range(0..JITTER_MS));
        plan.push(Planned {
            at: at + jitter,
            episode,
        });
        at += SLOT;
    }
    plan
}

/// A kill (of a node other than [`NEVER_KILLED`], restarted at once or after
/// [`KILL_DOWN`]), a pause and a step, each of a node drawn from `rng`, and a CPU load.
fn node_faults(rng: &mut StdRng) -> Vec<Episode> {
    let down = if rng.random_bool(0.5) {
        Duration::ZERO
    } else {
        KILL_DOWN
    };
    let killed = (NEVER_KILLED + rng.random_range(1..NODES) - 1) % NODES + 1;
    let mut node = || rng.random_range(1..=NODES);
    vec![
        Episode::KillRestart { node: killed, down },
        Episode::Pause { node: node() },
        Episode::Step { node: node() },
        Episode::CpuLoad,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_schedule_and_another_seed_another() {
        assert_eq!(schedule(7, 600), schedule(7, 600));
        assert_ne!(schedule(7, 600), schedule(8, 600));
    }

    #[test]
    fn a_minute_holds_every_kind_of_fault_in_its_first_six_slots() {
        let plan = schedule(15, 60);
        let kinds: Vec<_> = plan
            .iter()
            .map(|p| std::mem::discriminant(&p.episode))
            .collect();
        // Seven slots: the first cycle's six episodes, and one of the next cycle.
        assert_eq!(plan.len(), 7, "{plan:?}");
        for (i, kind) in kinds[..6].iter().enumerate() {
            assert!(!kinds[i + 1..6].contains(kind), "{plan:?}");
        }
        for (i, planned) in plan.iter().enumerate() {
            let slot = FIRST_FAULT + SLOT * u32::try_from(i).unwrap();
            assert!(planned.at >= slot && planned.at < slot + Duration::from_secs(1));
            assert!(planned.at < Duration::from_secs(60) - QUIET_END);
        }
    }

    #[test]
    fn the_ntp_faults_hit_two_responders_once_and_kills_spare_one_node() {
        for seed in 0..50 {
            let plan = schedule(seed, 600);
            let mut liars = Vec::new();
            let mut silent = Vec::new();
            for planned in &plan {
                match planned.episode {
                    Episode::NtpLie { responder } => liars.push(responder),
                    Episode::NtpSilent { responder } => silent.push(responder),
                    Episode::KillRestart { node, .. } => {
                        assert!((1..=NODES).contains(&node) && node != NEVER_KILLED);
                    }
                    Episode::Pause { node } | Episode::Step { node } => {
                        assert!((1..=NODES).contains(&node));
                    }
                    Episode::CpuLoad => {}
                }
            }
            assert_eq!((liars.len(), silent.len()), (1, 1), "seed {seed}");
            assert_ne!(liars[0], silent[0], "seed {seed}");
            assert!(liars[0] < RESPONDERS && silent[0] < RESPONDERS);
        }
    }

    #[test]
    fn some_kills_restart_at_once_and_others_after_the_down_time() {
        let downs: Vec<_> = (0..20)
            .flat_map(|seed| schedule(seed, 120))
            .filter_map(|p| match p.episode {
                Episode::KillRestart { down, .. } => Some(down),
                _ => None,
            })
            .collect();
        assert!(downs
            .iter()
            .all(|d| [Duration::ZERO, KILL_DOWN].contains(d)));
        assert!(downs.contains(&Duration::ZERO) && downs.contains(&KILL_DOWN));
    }

    #[test]
    fn a_run_too_short_for_faults_has_none() {
        assert!(schedule(1, 10).is_empty());
    }
}
