//! Leap seconds in virtual time: servers announce and step (or smear), the client reads at
//! random instants, and every read must hold the truth in the timescale it reports.

use super::*;
use crate::proto::fault::Fault;
use crate::proto::leap::{Leap, LeapKind};
use proptest::prelude::*;

const MS: i64 = 1_000_000;
const SECOND: i64 = 1_000 * MS;
const HOUR: i64 = 3_600 * SECOND;

/// 2017-01-01 00:00:00 UTC, after the inserted 2016-12-31 23:59:60.
const MIDNIGHT: i64 = 1_483_228_800;

fn leap(insert: bool) -> Leap {
    let kind = if insert {
        LeapKind::Insert
    } else {
        LeapKind::Delete
    };
    Leap {
        kind,
        midnight_unix_secs: MIDNIGHT,
    }
}

/// `servers` honest servers (random offsets within their claims, random paths and losses)
/// and a client drifting within the bound, starting `before` ahead of the step of `leap`.
fn leap_world(
    leap: Leap,
    before: i64,
    seed: u64,
    servers: &[(i64, u32, f64)],
    local: (i64, i64),
) -> Scenario {
    let mut world = Scenario::new(seed);
    world.start_nanos = leap.step_nanos() - before;
    world.leap = Some(leap);
    world.local_offset_nanos = local.0;
    world.local_drift_ppb = local.1;
    world.reads_per_poll = 4;
    world.servers = servers
        .iter()
        .map(|&(offset, slow, loss)| SimServer {
            inbound: DelayRange {
                min_nanos: MS,
                max_nanos: MS + i64::from(slow) * 30 * MS,
            },
            loss,
            ..SimServer::honest(offset)
        })
        .collect();
    world
}

fn servers() -> impl Strategy<Value = Vec<(i64, u32, f64)>> {
    proptest::collection::vec((-800_000i64..800_000, 0u32..3, 0.0f64..0.2), 3..6)
}

fn local() -> impl Strategy<Value = (i64, i64)> {
    (-SECOND..SECOND, -14_000i64..14_000)
}

/// The assertions every leap run must pass: no lie, no backward read, the leap pending at
/// every bounded read before the step and at none after it.
fn assert_honest(report: &SimReport) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        (report.misses, report.health_misses, report.backward_reads),
        (0, 0, 0),
        "{:?}",
        report
    );
    prop_assert!(report.bounded_before_leap > 100, "{:?}", report);
    prop_assert_eq!(report.pending_before_leap, report.bounded_before_leap);
    prop_assert_eq!(report.pending_after_leap, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_a_stepped_leap_keeps_the_truth_in_the_interval_at_every_read(
        insert in any::<bool>(),
        seed in any::<u64>(),
        servers in servers(),
        local in local(),
    ) {
        let world = leap_world(leap(insert), 2 * HOUR, seed, &servers, local);
        let mut sim = Simulation::new(world);
        let report = sim.run_until(4 * HOUR);
        assert_honest(&report)?;
        // Back to a tight bound on the new numbering, and a healthy clock, within the run.
        prop_assert!(sim.health().is_healthy(), "{:?}", sim.health());
        let interval = sim.bound.interval_at(sim.local_micros(sim.true_nanos()));
        prop_assert!(interval.radius() < std::time::Duration::from_millis(20), "{:?}", interval);
        let truth = sim.scenario.truths_at(sim.true_nanos()).0;
        prop_assert!(interval.contains(Timestamp::from_physical_micros((truth / 1_000) as u64)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn prop_a_smeared_leap_keeps_the_smeared_truth_in_the_interval_and_the_clock_healthy(
        insert in any::<bool>(),
        seed in any::<u64>(),
        servers in servers(),
        local in local(),
    ) {
        let mut world = leap_world(leap(insert), 13 * HOUR, seed, &servers, local);
        world.leap_smear = true;
        world.reads_per_poll = 2;
        let mut sim = Simulation::new(world);
        let report = sim.run_until(26 * HOUR);
        assert_honest(&report)?;
        // The smear never widens the bound: the clock stays healthy right through it.
        prop_assert!(report.healthy_checks * 100 >= report.bounded_checks * 99, "{:?}", report);
        prop_assert!(sim.health().is_healthy());
        // Past the window the smeared time is the new numbering.
        let end = sim.true_nanos();
        prop_assert_eq!(sim.scenario.truths_at(end).0, end + leap(insert).shift_nanos());
    }
}

#[test]
fn without_smear_the_health_says_so_around_the_step_and_recovers() {
    let servers = [(0, 0, 0.0), (300_000, 1, 0.0), (-300_000, 0, 0.0)];
    let world = leap_world(leap(true), 2 * HOUR, 3, &servers, (SECOND / 3, 5_000));
    let mut sim = Simulation::new(world);
    let report = sim.run_until(4 * HOUR);
    assert_honest(&report).unwrap();
    // Some reads near the step saw a bound a second wider: unhealthy, never lying.
    assert!(report.healthy_checks < report.bounded_checks, "{report:?}");
    assert!(sim.health().is_healthy());
}

#[test]
fn a_leap_nobody_announced_is_caught_by_the_checks() {
    // The servers step without announcing: the client keeps the old numbering until the
    // next estimate, which the checks must see as a lie. So they can fail.
    let servers = [(0, 0, 0.0); 3];
    let mut world = leap_world(leap(true), HOUR, 5, &servers, (0, 0));
    for server in &mut world.servers {
        server.leap = ServerLeap::Step { announce_nanos: 0 };
    }
    world.config.poll.min_interval = std::time::Duration::from_secs(256);
    world.reads_per_poll = 40;
    let report = Simulation::new(world).run_until(2 * HOUR);
    assert!(report.misses > 0, "{report:?}");
    assert_eq!(report.pending_before_leap, 0);
}

#[test]
fn smearing_servers_among_stepping_ones_are_named_and_outvoted() {
    for insert in [true, false] {
        let servers = [(0, 0, 0.0); 5];
        let mut world = leap_world(leap(insert), 13 * HOUR, 11, &servers, (0, 2_000));
        world.servers[1].leap = ServerLeap::Smear;
        world.servers[3].leap = ServerLeap::Smear;
        world.reads_per_poll = 1;
        let mut sim = Simulation::new(world);
        let report = sim.run_until(26 * HOUR);
        assert_eq!((report.misses, report.health_misses), (0, 0), "{report:?}");
        assert!(report.probable_smear > 100, "{report:?}");
        assert_eq!(report.pending_after_leap, 0);
    }
}

#[test]
fn a_liar_is_not_called_a_smearing_server() {
    let servers = [(0, 0, 0.0); 3];
    let mut world = leap_world(leap(true), 13 * HOUR, 13, &servers, (0, 0));
    world
        .servers
        .push(SimServer::liar(3 * SECOND).with(Fault::Drift { ppb: 0 }));
    world.reads_per_poll = 1;
    let report = Simulation::new(world).run_until(26 * HOUR);
    assert_eq!((report.misses, report.health_misses), (0, 0), "{report:?}");
    assert_eq!(report.probable_smear, 0, "{report:?}");
}
