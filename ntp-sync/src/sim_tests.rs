use super::*;
use crate::engine::SourceState;
use proptest::prelude::*;

const MS: i64 = 1_000_000;
const SECOND: i64 = 1_000 * MS;

fn scenario(servers: Vec<SimServer>) -> Scenario {
    Scenario {
        servers,
        ..Scenario::new(7)
    }
}

#[test]
fn a_run_replays_exactly_from_its_seed() {
    let servers = vec![
        SimServer::honest(300_000),
        SimServer::honest(-200_000),
        SimServer::liar(3 * SECOND),
    ];
    let first = Simulation::new(scenario(servers.clone())).run(500);
    let second = Simulation::new(scenario(servers)).run(500);
    assert_eq!(first, second);
    assert_eq!(first.exchanges, 500);
    assert_eq!(first.misses, 0);
}

#[test]
fn the_offset_of_the_local_clock_is_found_within_the_bound() {
    let mut world = scenario(vec![SimServer::honest(0); 4]);
    world.local_offset_nanos = -1_500 * MS;
    let report = Simulation::new(world).run(2_000);
    let estimate = report.last_estimate.unwrap();
    // True time = local + offset, so the offset undoes the local clock's error.
    assert!((estimate.offset_nanos - 1_500 * MS).abs() <= estimate.radius_nanos);
    assert!(estimate.radius_nanos < 15 * MS, "{estimate:?}");
    assert_eq!(report.misses, 0);
    assert!(report.bounded_checks >= 3_900);
}

#[test]
fn two_liars_out_of_five_are_named_falsetickers() {
    let servers = vec![
        SimServer::honest(100_000),
        SimServer::honest(-100_000),
        SimServer::honest(0),
        SimServer::liar(800 * MS),
        SimServer::liar(-800 * MS),
    ];
    let mut sim = Simulation::new(scenario(servers));
    let report = sim.run(1_000);
    assert_eq!(report.misses, 0);
    let states = sim.engine().evaluate(sim.local_at(sim.true_nanos())).states;
    assert_eq!(
        &states[..3],
        &[
            SourceState::Combined,
            SourceState::Combined,
            SourceState::Combined
        ]
    );
    assert_eq!(
        &states[3..],
        &[SourceState::Falseticker, SourceState::Falseticker]
    );
}

#[test]
fn two_against_two_never_synchronises() {
    let servers = vec![
        SimServer::honest(0),
        SimServer::honest(0),
        SimServer::liar(2 * SECOND),
        SimServer::liar(2 * SECOND),
    ];
    let report = Simulation::new(scenario(servers)).run(1_000);
    assert_eq!(report.bounded_checks, 0);
    assert_eq!(report.last_estimate, None);
}

#[test]
fn servers_that_never_answer_give_no_bound() {
    let silent = SimServer {
        loss: 1.0,
        ..SimServer::honest(0)
    };
    let report = Simulation::new(scenario(vec![silent; 3])).run(300);
    assert_eq!((report.samples, report.bounded_checks), (0, 0));
}

#[test]
fn when_every_server_falls_silent_the_bound_keeps_growing_and_still_holds() {
    let mut world = scenario(vec![SimServer::honest(0); 3]);
    world.local_drift_ppb = 14_000;
    let mut sim = Simulation::new(world);
    let synced = sim.run(30);
    assert!(synced.last_estimate.is_some());
    for server in &mut sim.scenario.servers {
        server.loss = 1.0;
    }
    let silent = sim.run(200);
    assert_eq!(silent.misses, 0);
    assert!(silent.max_radius_nanos > synced.max_radius_nanos + 10 * MS);
}

#[test]
fn a_drifting_local_clock_beyond_the_bound_is_caught_by_the_checks() {
    // The guarantee assumes the drift bound: with 200 ppm the checks must see misses, which
    // shows the check itself can fail.
    let mut world = scenario(vec![SimServer::honest(0); 3]);
    world.local_drift_ppb = 200_000;
    world.config.poll.min_interval = std::time::Duration::from_secs(1_000);
    let report = Simulation::new(world).run(200);
    assert!(report.misses > 0, "{report:?}");
}

/// A random world: `honest` servers within their claims and fewer liars, random delays
/// (asymmetric), losses and a local clock drifting within the bound.
fn world() -> impl Strategy<Value = Scenario> {
    let honest = (
        -800_000i64..800_000,
        -20i64..20,
        0u32..3,
        0u32..3,
        0.0f64..0.3,
    );
    let liar = (-3 * SECOND..3 * SECOND, -20_000i64..20_000, 0.0f64..0.3);
    (1usize..6, any::<u64>(), -SECOND..SECOND, -14_000i64..14_000)
        .prop_flat_map(move |(honest_count, seed, local_offset, local_drift)| {
            (
                proptest::collection::vec(honest.clone(), honest_count),
                proptest::collection::vec(liar.clone(), 0..honest_count),
                Just((seed, local_offset, local_drift)),
            )
        })
        .prop_map(|(honest, liars, (seed, local_offset, local_drift))| {
            let mut servers: Vec<SimServer> = honest
                .into_iter()
                .map(|(offset, drift, slow_out, slow_back, loss)| SimServer {
                    drift_ppb: drift,
                    outbound: DelayRange {
                        min_nanos: MS,
                        max_nanos: MS + i64::from(slow_out) * 40 * MS,
                    },
                    inbound: DelayRange {
                        min_nanos: MS,
                        max_nanos: MS + i64::from(slow_back) * 40 * MS,
                    },
                    loss,
                    ..SimServer::honest(offset)
                })
                .collect();
            servers.extend(liars.into_iter().map(|(offset, drift, loss)| SimServer {
                drift_ppb: drift,
                loss,
                ..SimServer::liar(offset)
            }));
            Scenario {
                local_offset_nanos: local_offset,
                local_drift_ppb: local_drift,
                servers,
                ..Scenario::new(seed)
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn prop_an_honest_majority_keeps_true_time_inside_the_interval(world in world()) {
        let mut sim = Simulation::new(world);
        let report = sim.run(120);
        let duration = sim.true_nanos() - sim.scenario.start_nanos;
        let honest = sim.scenario.servers.iter().filter(|s| s.is_honest_for(duration)).count();
        prop_assume!(honest * 2 > sim.scenario.servers.len());
        prop_assert_eq!(report.misses, 0, "{:?}", report);
    }
}
