//! The peer monitor on recorded exchanges in virtual time: who fences, who names whom, and
//! when a fence lifts. Time is an `Instant` moved by hand; nothing sleeps.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hlc_core::health::{ClockHealth, HealthBoard, UnhealthyReason};
use hlc_core::peers::{
    FenceChange, MonitorConfig, PeerEvent, PeerMonitor, PeerReport, PeerVerdict, PingExchange,
    Round, RoundVerdict,
};
use hlc_core::NodeId;
use proptest::prelude::*;

/// True time at the start of every scenario, in µs since the epoch.
const T0: u64 = 1_700_000_000_000_000;
const SECOND: u64 = 1_000_000;
/// One-way delay of every exchange unless a scenario says otherwise: 1 ms.
const ONE_WAY: u64 = 1_000;

/// Fence and unfence events as an observer saw them.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<FenceChange>>>);

impl Events {
    fn list(&self) -> Vec<FenceChange> {
        self.0.lock().unwrap().clone()
    }
}

/// One node: its clock's offset from true time (µs), its monitor, its health board.
struct Node {
    id: NodeId,
    clock_offset: i64,
    monitor: PeerMonitor,
    board: HealthBoard,
    events: Events,
}

impl Node {
    fn new(id: u64, clock_offset: i64, config: MonitorConfig) -> Self {
        let board = HealthBoard::new();
        let events = Events::default();
        let sink = events.clone();
        let monitor = PeerMonitor::new(config)
            .with_reporter(board.reporter("peers"))
            .with_observer(move |e: &PeerEvent<'_>| {
                let change = match e {
                    PeerEvent::Fenced { .. } => FenceChange::Fenced,
                    PeerEvent::Unfenced { .. } => FenceChange::Unfenced,
                    _ => unreachable!("no other event exists"),
                };
                sink.0.lock().unwrap().push(change);
            });
        Self {
            id: NodeId::new(id),
            clock_offset,
            monitor,
            board,
            events,
        }
    }

    fn reads(&self, true_micros: u64) -> u64 {
        true_micros.saturating_add_signed(self.clock_offset)
    }
}

/// What a ping from a node whose clock is `local` µs off true time, to a peer `peer` µs
/// off, records when sent at true time `at` with the given one-way delays.
fn exchange(peer: &Node, local: i64, at: u64, out: u64, back: u64) -> PingExchange {
    PingExchange {
        peer: peer.id,
        sent_local: at.saturating_add_signed(local),
        received_local: (at + out + back).saturating_add_signed(local),
        peer_physical: peer.reads(at + out),
    }
}

/// A cluster whose nodes ping each other once a second.
struct Cluster {
    nodes: Vec<Node>,
    start: Instant,
    round: u64,
}

impl Cluster {
    fn new(clock_offsets: &[i64]) -> Self {
        Self::with_config(clock_offsets, MonitorConfig::new())
    }

    fn with_config(clock_offsets: &[i64], config: MonitorConfig) -> Self {
        let nodes = (0..)
            .zip(clock_offsets)
            .map(|(i, &offset)| Node::new(i + 1, offset, config))
            .collect();
        Self {
            nodes,
            start: Instant::now(),
            round: 0,
        }
    }

    fn now(&self) -> Instant {
        self.start + Duration::from_secs(self.round)
    }

    /// One round: every pair that `reaches` allows exchanges pings, then every node
    /// evaluates. Returns each node's round.
    fn round_where(&mut self, reaches: impl Fn(usize, usize) -> bool) -> Vec<Round> {
        self.round += 1;
        let (now, at) = (self.now(), T0 + self.round * SECOND);
        let exchanges: Vec<(usize, PingExchange)> = (0..self.nodes.len())
            .flat_map(|i| (0..self.nodes.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j && reaches(i, j))
            .map(|(i, j)| {
                let local = self.nodes[i].clock_offset;
                (i, exchange(&self.nodes[j], local, at, ONE_WAY, ONE_WAY))
            })
            .collect();
        for (i, e) in exchanges {
            self.nodes[i].monitor.record(now, e).unwrap();
        }
        let nodes = self.nodes.iter_mut();
        nodes.map(|n| n.monitor.evaluate(now)).collect()
    }

    fn round(&mut self) -> Vec<Round> {
        self.round_where(|_, _| true)
    }

    fn fenced(&self) -> Vec<bool> {
        self.nodes.iter().map(|n| n.monitor.is_fenced()).collect()
    }
}

fn ids(ids: &[u64]) -> Vec<NodeId> {
    ids.iter().copied().map(NodeId::new).collect()
}

fn named_far(peers: &[PeerReport]) -> Vec<NodeId> {
    let far = peers.iter().filter(|p| p.verdict == PeerVerdict::Far);
    far.map(|p| p.peer).collect()
}

fn verdicts(rounds: &[Round]) -> Vec<RoundVerdict> {
    rounds.iter().map(|r| r.verdict).collect()
}

use RoundVerdict::{Agrees, Disagrees, NoVerdict};

#[test]
fn one_rogue_of_five_fences_itself_and_the_four_name_it() {
    // Node 5 runs 1.2 s ahead: beyond 80 % of the 500 ms max offset by far.
    let mut cluster = Cluster::new(&[0, 3_000, -2_000, 1_500, 1_200_000]);
    let rounds = cluster.round();
    assert_eq!(
        verdicts(&rounds),
        [Agrees, Agrees, Agrees, Agrees, Disagrees]
    );
    assert_eq!(cluster.fenced(), [false, false, false, false, true]);

    let rogue = &cluster.nodes[4];
    assert_eq!(rounds[4].change, Some(FenceChange::Fenced));
    assert_eq!(rogue.events.list(), [FenceChange::Fenced]);
    let Some(UnhealthyReason::Fenced {
        far,
        fresh,
        offset_ms,
    }) = rogue.board.health().reason()
    else {
        panic!("the rogue's board says {}", rogue.board.health());
    };
    assert_eq!((far, fresh), (4, 4));
    // Peers minus the rogue: about −1.2 s, within the honest clocks' spread of 5 ms.
    assert!((-1_205..=-1_195).contains(&offset_ms), "{offset_ms}");

    for (honest, round) in cluster.nodes[..4].iter().zip(&rounds) {
        assert_eq!(round.far, ids(&[5]), "node {:?}", honest.id);
        assert!(honest.board.is_healthy());
        assert_eq!(honest.events.list(), []);
        let report = honest.monitor.report(cluster.now());
        assert_eq!(named_far(&report.peers), ids(&[5]));
    }
}

#[test]
fn two_rogues_of_five_fence_themselves_and_the_three_stay_healthy() {
    // Both rogues run ahead together: each still finds three of its four peers far.
    let mut cluster = Cluster::new(&[0, 2_000, -1_000, 900_000, 950_000]);
    let rounds = cluster.round();
    assert_eq!(
        verdicts(&rounds),
        [Agrees, Agrees, Agrees, Disagrees, Disagrees]
    );
    for round in &rounds[..3] {
        // Two of four is no strict majority: named, not fenced.
        assert_eq!((round.far.clone(), round.fenced), (ids(&[4, 5]), false));
    }
    assert_eq!(rounds[3].far, ids(&[1, 2, 3]));
    assert_eq!(rounds[4].far, ids(&[1, 2, 3]));

    // Rogues in opposite directions find each other far too.
    let mut cluster = Cluster::new(&[0, 2_000, -1_000, 900_000, -900_000]);
    let rounds = cluster.round();
    assert_eq!(
        verdicts(&rounds),
        [Agrees, Agrees, Agrees, Disagrees, Disagrees]
    );
    assert_eq!(rounds[4].far, ids(&[1, 2, 3, 4]));
}

#[test]
fn a_partitioned_node_decides_by_the_peers_it_sees_and_by_nothing_below_two() {
    // The rogue (node 5) sees only node 1, and node 1's link to it is the only one across.
    let mut cluster = Cluster::new(&[0, 2_000, -1_000, 1_500, 1_200_000]);
    let across = |i: usize, j: usize| (i == 4) == (j == 4) || i.min(j) == 0;
    let rounds = cluster.round_where(across);
    assert_eq!(
        verdicts(&rounds),
        [Agrees, Agrees, Agrees, Agrees, NoVerdict]
    );
    assert_eq!(rounds[4].far, ids(&[1]), "the one far peer is still named");
    assert_eq!(cluster.fenced(), [false; 5]);
    assert!(
        cluster.nodes[4].board.is_healthy(),
        "one peer cannot show it is wrong"
    );

    // Once it sees two peers, they decide.
    let rounds = cluster.round_where(|i, j| across(i, j) || i.min(j) == 1);
    assert_eq!(rounds[4].verdict, Disagrees);
    assert_eq!(rounds[4].fresh, 2, "node 1 answered in both rounds");

    // Cut down to one peer again, it stays fenced, even once its clock is right.
    let alone = across;
    for _ in 0..=MonitorConfig::DEFAULT_STALE_AFTER.as_secs() {
        cluster.round_where(alone); // until node 2's last answer is stale
    }
    cluster.nodes[4].clock_offset = 0;
    for _ in 0..5 {
        let rounds = cluster.round_where(alone);
        assert_eq!((rounds[4].verdict, rounds[4].fresh), (NoVerdict, 1));
        assert!(rounds[4].fenced);
    }
    assert!(!cluster.nodes[4].board.is_healthy());
}

#[test]
fn a_flapping_peer_causes_no_churn_beyond_the_recovery_rule() {
    // Seen from node 1: peers 2 and 3 are far steadily, peer 4 flaps, peer 5 agrees.
    let config = MonitorConfig::new();
    let mut node = Node::new(1, 0, config);
    let peers: Vec<Node> = [(2, 700_000), (3, 700_000), (4, 0), (5, 0)]
        .into_iter()
        .map(|(id, offset)| Node::new(id, offset, config))
        .collect();
    let start = Instant::now();
    let mut rounds = Vec::new();
    for round in 1..=20u64 {
        let flapping_far = round <= 12 && round % 2 == 1;
        let at = T0 + round * SECOND;
        let now = start + Duration::from_secs(round);
        for peer in &peers {
            let mut e = exchange(peer, 0, at, ONE_WAY, ONE_WAY);
            if peer.id == NodeId::new(4) && flapping_far {
                e.peer_physical += 700_000;
            }
            node.monitor.record(now, e).unwrap();
        }
        rounds.push(node.monitor.evaluate(now));
    }
    // Rounds 1..=12 alternate three far (disagree) and two far (agree): fenced at round 1,
    // and no run of agreeing rounds is long enough to lift it until the flapping stops after
    // round 11, the last that disagrees (index 10).
    let fenced: Vec<bool> = rounds.iter().map(|r| r.fenced).collect();
    let lifted = 10 + config.recovery_rounds() as usize;
    assert!(fenced[..lifted].iter().all(|&f| f), "{fenced:?}");
    assert!(fenced[lifted..].iter().all(|&f| !f), "{fenced:?}");
    assert_eq!(
        node.events.list(),
        [FenceChange::Fenced, FenceChange::Unfenced]
    );

    // The same flapping among four peers that agree with this node fences nothing.
    let mut cluster = Cluster::new(&[0, 1_000, -1_000, 2_000, 0]);
    for round in 0..12 {
        cluster.nodes[4].clock_offset = if round % 2 == 0 { 800_000 } else { 0 };
        cluster.round();
        assert_eq!(cluster.fenced()[..4], [false; 4]);
    }
    for node in &cluster.nodes[..4] {
        assert_eq!(node.events.list(), []);
    }
}

#[test]
fn uncertainty_larger_than_the_threshold_does_not_fence() {
    // Round trips of two seconds, all of the delay on the way back: every peer measures this
    // node about a second off (its clock is right), with a second of uncertainty.
    let config = MonitorConfig::new();
    let mut node = Node::new(1, 0, config);
    let now = Instant::now();
    for id in 2..=5 {
        let peer = Node::new(id, 0, config);
        let e = exchange(&peer, 0, T0, 0, 2 * SECOND);
        let m = node.monitor.record(now, e).unwrap();
        assert_eq!((m.offset_us, m.uncertainty_us), (-1_000_000, 1_000_000));
        assert!(m.uncertainty_us > config.far_threshold().as_micros() as u64);
    }
    let round = node.monitor.evaluate(now);
    assert_eq!((round.verdict, round.far.len()), (Agrees, 0));
    let report = node.monitor.report(now);
    assert!(report.peers.iter().all(|p| p.verdict == PeerVerdict::Ok));
    assert!(node.board.is_healthy());
}

#[test]
fn silent_peers_go_stale_and_lose_their_vote() {
    let mut cluster = Cluster::new(&[0, 1_000, 2_000, 1_200_000]);
    cluster.round();
    assert!(cluster.nodes[3].monitor.is_fenced());
    // Nodes 2 and 3 stop answering node 4; node 1 still does.
    let stale_rounds = MonitorConfig::DEFAULT_STALE_AFTER.as_secs();
    for _ in 0..stale_rounds {
        let rounds = cluster.round_where(|i, j| i != 3 || j == 0);
        assert_eq!(rounds[3].fresh, 3, "not stale before the limit");
    }
    let rounds = cluster.round_where(|i, j| i != 3 || j == 0);
    assert_eq!((rounds[3].verdict, rounds[3].fresh), (NoVerdict, 1));
    let report = cluster.nodes[3].monitor.report(cluster.now());
    let verdicts: Vec<_> = report.peers.iter().map(|p| p.verdict).collect();
    use PeerVerdict::{Far, Stale};
    assert_eq!(verdicts, [Far, Stale, Stale]);
    let silent_for = (stale_rounds + 1) * 1_000;
    assert_eq!(report.peers[1].last_seen_ms_ago, silent_for);
    assert!(report.fenced, "no verdict leaves the fence as it is");

    // A forgotten peer leaves the report.
    assert!(cluster.nodes[3].monitor.forget(NodeId::new(2)));
    assert!(!cluster.nodes[3].monitor.forget(NodeId::new(2)));
    assert_eq!(
        cluster.nodes[3].monitor.report(cluster.now()).peers.len(),
        2
    );
}

#[test]
fn a_fenced_node_recovers_after_the_configured_healthy_rounds() {
    let config = MonitorConfig::new().with_recovery_rounds(5);
    let mut cluster = Cluster::with_config(&[0, 1_000, 2_000, -600_000], config);
    cluster.round();
    assert!(cluster.nodes[3].monitor.is_fenced());
    cluster.nodes[3].clock_offset = 500; // the operator fixed the clock
    for round in 1..=5 {
        let rounds = cluster.round();
        assert_eq!(rounds[3].verdict, Agrees);
        assert_eq!(rounds[3].fenced, round < 5, "round {round}");
        assert_eq!(cluster.nodes[3].board.is_healthy(), round == 5);
    }
    assert_eq!(
        cluster.nodes[3].events.list(),
        [FenceChange::Fenced, FenceChange::Unfenced]
    );
    assert_eq!(cluster.nodes[3].board.health(), ClockHealth::Healthy);
}

#[test]
fn a_round_without_a_verdict_restarts_the_count_towards_recovery() {
    let mut cluster = Cluster::new(&[0, 1_000, 2_000, 900_000]);
    cluster.round();
    cluster.nodes[3].clock_offset = 0;
    let recovery = MonitorConfig::DEFAULT_RECOVERY_ROUNDS;
    for _ in 1..recovery {
        assert!(cluster.round()[3].fenced);
    }
    // Every peer silent for longer than the stale limit: no verdict.
    cluster.round += MonitorConfig::DEFAULT_STALE_AFTER.as_secs();
    let rounds = cluster.round_where(|i, _| i != 3);
    assert_eq!(rounds[3].verdict, NoVerdict);
    for _ in 1..recovery {
        assert!(cluster.round()[3].fenced);
    }
    assert!(!cluster.round()[3].fenced);
}

#[test]
fn recorded_exchanges_of_a_rogue_fence_it() {
    // Recorded by a node whose clock ran 1.2 s behind its four peers, in µs since the epoch:
    // (peer, sent, received, peer's reading).
    const RECORDED: [(u64, u64, u64, u64); 4] = [
        (
            2,
            1_700_000_000_000_000,
            1_700_000_000_000_840,
            1_700_000_001_200_410,
        ),
        (
            3,
            1_700_000_000_000_010,
            1_700_000_000_001_950,
            1_700_000_001_201_300,
        ),
        (
            4,
            1_700_000_000_000_020,
            1_700_000_000_000_600,
            1_700_000_001_199_100,
        ),
        (
            5,
            1_700_000_000_000_030,
            1_700_000_000_003_030,
            1_700_000_001_203_000,
        ),
    ];
    let board = HealthBoard::new();
    let mut monitor = PeerMonitor::new(MonitorConfig::new()).with_reporter(board.reporter("p"));
    let now = Instant::now();
    for (peer, sent_local, received_local, peer_physical) in RECORDED {
        let peer = NodeId::new(peer);
        let e = PingExchange {
            peer,
            sent_local,
            received_local,
            peer_physical,
        };
        monitor.record(now, e).unwrap();
    }
    let round = monitor.evaluate(now);
    assert_eq!(
        (round.verdict, round.fresh, round.far.len()),
        (Disagrees, 4, 4)
    );
    let fenced = UnhealthyReason::Fenced {
        far: 4,
        fresh: 4,
        offset_ms: 1_200,
    };
    assert_eq!(board.health(), fenced.into());
}

#[test]
fn a_bad_exchange_is_refused_and_changes_nothing() {
    let mut cluster = Cluster::new(&[0, 1_000, 2_000]);
    cluster.round();
    let node = &mut cluster.nodes[0];
    let now = cluster.start + Duration::from_secs(1);
    let before = node.monitor.report(now);
    let backwards = PingExchange {
        peer: NodeId::new(2),
        sent_local: T0 + 10,
        received_local: T0,
        peer_physical: u64::MAX,
    };
    assert!(node.monitor.record(now, backwards).is_err());
    assert_eq!(node.monitor.report(now), before);
}

#[test]
fn the_report_carries_the_json_names_and_the_window() {
    let mut cluster = Cluster::new(&[0, 1_200_000, 5_000]);
    for round in 0..3 {
        cluster.nodes[2].clock_offset = 5_000 + round * 1_000;
        cluster.round();
    }
    let report = cluster.nodes[0].monitor.report(cluster.now());
    let window = report.peers[1].window.unwrap();
    assert_eq!(window.count, 3);
    assert_eq!(
        (window.min_us, window.median_us, window.max_us),
        (5_000, 6_000, 7_000)
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["fenced"], false);
    assert_eq!(json["verdict"], "agrees");
    let peer = &json["peers"][0];
    assert_eq!(peer["verdict"], "far");
    for field in ["offset_us", "uncertainty_us", "rtt_us", "last_seen_ms_ago"] {
        assert!(
            peer[field].is_u64() || peer[field].is_i64(),
            "{field}: {peer}"
        );
    }
    assert_eq!(peer["offset_us"], 1_200_000);
    assert_eq!(peer["rtt_us"], 2 * ONE_WAY);
}

/// One peer's exchange in a property test: its clock's offset from this node's (µs), and the
/// two one-way delays (µs).
type Link = (i64, u64, u64);

/// An honest peer: a round trip up to the threshold, split anyhow between the two ways, and a
/// true offset within the threshold minus the uncertainty of that round trip.
fn honest_link(threshold_us: i64) -> impl Strategy<Value = Link> {
    (0..=threshold_us as u64, 0.0f64..=1.0).prop_flat_map(move |(rtt, split)| {
        let out = (rtt as f64 * split) as u64;
        let room = (threshold_us - rtt.div_ceil(2) as i64).max(0);
        (-room..=room, Just(out), Just(rtt - out))
    })
}

/// A dishonest peer: any offset up to a minute either way, any round trip up to ten seconds.
fn any_link() -> impl Strategy<Value = Link> {
    (
        -60 * SECOND as i64..=60 * SECOND as i64,
        0..10 * SECOND,
        0..10 * SECOND,
    )
}

/// Rounds of links: per round, `majority` peers (at least `least`, at most five) drawn from
/// `link`, then fewer drawn from `other`.
fn rounds_of(
    least: usize,
    link: impl Fn() -> BoxedStrategy<Link>,
    other: impl Fn() -> BoxedStrategy<Link>,
) -> impl Strategy<Value = Vec<Vec<Link>>> {
    (least..=5).prop_flat_map(move |honest| {
        let dishonest = 0..honest;
        let (link, other) = (link(), other());
        dishonest.prop_flat_map(move |d| {
            let round = (
                prop::collection::vec(link.clone(), honest),
                prop::collection::vec(other.clone(), d),
            )
                .prop_map(|(mut h, d)| {
                    h.extend(d);
                    h
                });
            prop::collection::vec(round, 1..8)
        })
    })
}

/// Runs `rounds` against one monitor (peer `i` of each round is node `i + 2`); returns each
/// round's fence.
fn fences(rounds: &[Vec<Link>]) -> Vec<bool> {
    let mut monitor = PeerMonitor::new(MonitorConfig::new());
    let start = Instant::now();
    let mut fenced = Vec::new();
    for (r, links) in (1u64..).zip(rounds) {
        let (now, at) = (start + Duration::from_secs(r), T0 + r * SECOND);
        for (id, &(offset, out, back)) in (2u64..).zip(links) {
            let peer = PingExchange {
                peer: NodeId::new(id),
                sent_local: at,
                received_local: at + out + back,
                peer_physical: (at + out).saturating_add_signed(offset),
            };
            monitor.record(now, peer).unwrap();
        }
        fenced.push(monitor.evaluate(now).fenced);
    }
    fenced
}

fn threshold_us() -> i64 {
    MonitorConfig::new().far_threshold().as_micros() as i64
}

proptest! {
    /// With a strict majority of honest peers, each within the threshold minus its
    /// uncertainty of this node's clock, no round fences this node, whatever the rest say.
    #[test]
    fn an_honest_majority_within_the_threshold_never_fences(
        rounds in rounds_of(1, || honest_link(threshold_us()).boxed(), || any_link().boxed())
    ) {
        let fenced = fences(&rounds);
        prop_assert!(fenced.iter().all(|&f| !f), "{fenced:?}");
    }

    /// And the converse: a strict majority whose true offset exceeds the threshold plus twice
    /// the uncertainty (once as the measurement's possible error, once subtracted by the
    /// rule) fences it in the first round.
    #[test]
    fn a_majority_beyond_the_threshold_fences_at_once(
        rounds in rounds_of(
            MonitorConfig::DEFAULT_MIN_FRESH_PEERS,
            || (honest_link(threshold_us()), any::<bool>())
                .prop_map(|((offset, out, back), ahead)| {
                    let beyond = threshold_us() + 2 * (out + back).div_ceil(2) as i64 + 1;
                    let offset = offset.abs() + beyond;
                    (if ahead { offset } else { -offset }, out, back)
                })
                .boxed(),
            || honest_link(threshold_us()).boxed(),
        )
    ) {
        prop_assert!(fences(&rounds)[0]);
    }
}
