//! The peer monitor: per-peer state, the majority rule and the fence.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::window::OffsetWindow;
use super::{
    ExchangeError, FenceChange, Measurement, MonitorConfig, MonitorReport, PeerEvent, PeerObserver,
    PeerReport, PeerVerdict, PingExchange, Round, RoundVerdict,
};
use crate::health::{ClockHealth, HealthReporter, UnhealthyReason};
use crate::NodeId;

/// Decides from ping exchanges whether this node's clock is the one that is off, and fences
/// it if so. Pure: time is an argument (a monotonic [`Instant`], for staleness and windows;
/// the exchanges carry the physical clock readings), and it does no I/O.
///
/// Each [`evaluate`](Self::evaluate) is one round of the rule in the [module docs](super).
///
/// ```
/// use std::time::{Duration, Instant};
/// use hlc_core::peers::{MonitorConfig, PeerMonitor, PingExchange, RoundVerdict};
/// use hlc_core::NodeId;
///
/// let mut monitor = PeerMonitor::new(MonitorConfig::new());
/// let now = Instant::now();
/// for (peer, ahead_us) in [(2, 900_000), (3, 950_000), (4, 0)] {
///     let exchange = PingExchange {
///         peer: NodeId::new(peer),
///         sent_local: 1_000_000,
///         received_local: 1_002_000,
///         peer_physical: 1_001_000 + ahead_us,
///     };
///     monitor.record(now, exchange)?;
/// }
/// let round = monitor.evaluate(now);
/// assert_eq!(round.verdict, RoundVerdict::Disagrees); // two of three find this clock behind
/// assert!(monitor.is_fenced());
/// # Ok::<(), hlc_core::peers::ExchangeError>(())
/// ```
pub struct PeerMonitor {
    config: MonitorConfig,
    peers: BTreeMap<NodeId, PeerState>,
    fenced: Option<UnhealthyReason>,
    healthy_rounds: u32,
    last_verdict: RoundVerdict,
    reporter: Option<HealthReporter>,
    observer: Option<Arc<dyn PeerObserver>>,
}

struct PeerState {
    last: Measurement,
    last_seen: Instant,
    window: OffsetWindow,
}

impl PeerMonitor {
    /// A monitor that knows no peers and is not fenced.
    pub fn new(config: MonitorConfig) -> Self {
        Self {
            config,
            peers: BTreeMap::new(),
            fenced: None,
            healthy_rounds: 0,
            last_verdict: RoundVerdict::NoVerdict,
            reporter: None,
            observer: None,
        }
    }

    /// Reports the fence into `reporter` after every round: [`Fenced`](UnhealthyReason::Fenced)
    /// while fenced, [`Healthy`](ClockHealth::Healthy) otherwise.
    pub fn with_reporter(mut self, reporter: HealthReporter) -> Self {
        reporter.report(self.health());
        self.reporter = Some(reporter);
        self
    }

    /// Tells `observer` when the node fences itself and when it recovers.
    pub fn with_observer(mut self, observer: impl PeerObserver + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The settings.
    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// Whether this node is fenced.
    pub fn is_fenced(&self) -> bool {
        self.fenced.is_some()
    }

    /// The health this monitor reports.
    pub fn health(&self) -> ClockHealth {
        self.fenced
            .map_or(ClockHealth::Healthy, ClockHealth::Unhealthy)
    }

    /// Takes in one exchange, received at `now`: the peer's last measurement, its window and
    /// its freshness. Returns what it measured.
    ///
    /// # Errors
    ///
    /// What [`PingExchange::measure`] refuses; the monitor is left unchanged.
    pub fn record(
        &mut self,
        now: Instant,
        exchange: PingExchange,
    ) -> Result<Measurement, ExchangeError> {
        let measured = exchange.measure()?;
        let state = self
            .peers
            .entry(exchange.peer)
            .or_insert_with(|| PeerState {
                last: measured,
                last_seen: now,
                window: OffsetWindow::default(),
            });
        state.last = measured;
        state.last_seen = now;
        let (span, capacity) = (self.config.window(), self.config.window_capacity());
        state.window.push(now, measured.offset_us, span, capacity);
        Ok(measured)
    }

    /// Forgets a peer that left the cluster; whether it was known. Stale peers are kept (and
    /// listed as stale) until forgotten, so the caller's membership decides who is a peer.
    pub fn forget(&mut self, peer: NodeId) -> bool {
        self.peers.remove(&peer).is_some()
    }

    /// One round: the verdict of the fresh peers at `now`, and the fence it leads to.
    pub fn evaluate(&mut self, now: Instant) -> Round {
        let fresh: Vec<(NodeId, Measurement)> = self
            .peers
            .iter()
            .filter(|(_, state)| !self.is_stale(state, now))
            .map(|(&peer, state)| (peer, state.last))
            .collect();
        let far: Vec<(NodeId, Measurement)> = fresh
            .iter()
            .copied()
            .filter(|(_, m)| self.is_far(m))
            .collect();
        let verdict = if fresh.len() < self.config.min_fresh_peers() {
            RoundVerdict::NoVerdict
        } else if far.len() * 2 > fresh.len() {
            RoundVerdict::Disagrees
        } else {
            RoundVerdict::Agrees
        };
        let far_ids: Vec<NodeId> = far.iter().map(|&(peer, _)| peer).collect();
        let change = self.apply(verdict, &far, fresh.len());
        self.last_verdict = verdict;
        if let Some(reporter) = &self.reporter {
            reporter.report(self.health());
        }
        self.notify(change, &far_ids, &far, fresh.len());
        Round {
            verdict,
            fresh: fresh.len(),
            far: far_ids,
            fenced: self.is_fenced(),
            change,
        }
    }

    /// Every known peer's standing at `now`, and the fence. Changes nothing.
    pub fn report(&self, now: Instant) -> MonitorReport {
        let peers = self
            .peers
            .iter()
            .map(|(&peer, state)| self.peer_report(peer, state, now))
            .collect();
        MonitorReport {
            fenced: self.is_fenced(),
            verdict: self.last_verdict,
            healthy_rounds: self.healthy_rounds,
            far_threshold_us: self.threshold_us(),
            peers,
        }
    }

    /// The last measurement of `peer`, fresh or stale; `None` for a peer never measured (or
    /// forgotten). A map lookup, without the allocation of a [`report`](Self::report), for
    /// callers that want one peer on a request path (a span attribute, say).
    ///
    /// ```
    /// use std::time::Instant;
    /// use hlc_core::peers::{MonitorConfig, PeerMonitor, PingExchange};
    /// use hlc_core::NodeId;
    ///
    /// let mut monitor = PeerMonitor::new(MonitorConfig::new());
    /// let exchange = PingExchange {
    ///     peer: NodeId::new(2),
    ///     sent_local: 1_000_000,
    ///     received_local: 1_002_000,
    ///     peer_physical: 1_031_000, // 30 ms ahead of the midpoint
    /// };
    /// monitor.record(Instant::now(), exchange)?;
    /// assert_eq!(monitor.last_measurement(NodeId::new(2)).unwrap().offset_us, 30_000);
    /// assert_eq!(monitor.last_measurement(NodeId::new(3)), None);
    /// # Ok::<(), hlc_core::peers::ExchangeError>(())
    /// ```
    pub fn last_measurement(&self, peer: NodeId) -> Option<Measurement> {
        self.peers.get(&peer).map(|state| state.last)
    }

    /// Moves the fence by one round's verdict. Only a run of `recovery_rounds` agreeing rounds
    /// lifts it; a round without a verdict breaks the run, because a fenced node that can no
    /// longer see enough peers has not shown that its clock is back.
    fn apply(
        &mut self,
        verdict: RoundVerdict,
        far: &[(NodeId, Measurement)],
        fresh: usize,
    ) -> Option<FenceChange> {
        match verdict {
            RoundVerdict::Disagrees => {
                self.healthy_rounds = 0;
                let was_fenced = self.is_fenced();
                self.fenced = Some(fence_reason(far, fresh));
                (!was_fenced).then_some(FenceChange::Fenced)
            }
            RoundVerdict::Agrees => {
                self.healthy_rounds = self.healthy_rounds.saturating_add(1);
                let recovered = self.healthy_rounds >= self.config.recovery_rounds();
                (self.is_fenced() && recovered).then(|| {
                    self.fenced = None;
                    FenceChange::Unfenced
                })
            }
            RoundVerdict::NoVerdict => {
                self.healthy_rounds = 0;
                None
            }
        }
    }

    fn notify(
        &self,
        change: Option<FenceChange>,
        far_ids: &[NodeId],
        far: &[(NodeId, Measurement)],
        fresh: usize,
    ) {
        let (Some(observer), Some(change)) = (&self.observer, change) else {
            return;
        };
        let event = match change {
            FenceChange::Fenced => PeerEvent::Fenced {
                far: far_ids,
                fresh,
                median_offset_us: median_offset(far),
            },
            FenceChange::Unfenced => PeerEvent::Unfenced {
                healthy_rounds: self.healthy_rounds,
            },
        };
        observer.on_event(&event);
    }

    fn peer_report(&self, peer: NodeId, state: &PeerState, now: Instant) -> PeerReport {
        let verdict = if self.is_stale(state, now) {
            PeerVerdict::Stale
        } else if self.is_far(&state.last) {
            PeerVerdict::Far
        } else {
            PeerVerdict::Ok
        };
        let ago = now.saturating_duration_since(state.last_seen).as_millis();
        PeerReport {
            peer,
            verdict,
            offset_us: state.last.offset_us,
            uncertainty_us: state.last.uncertainty_us,
            rtt_us: state.last.rtt_us,
            last_seen_ms_ago: u64::try_from(ago).unwrap_or(u64::MAX),
            window: state.window.distribution(now, self.config.window()),
        }
    }

    fn is_stale(&self, state: &PeerState, now: Instant) -> bool {
        now.saturating_duration_since(state.last_seen) > self.config.stale_after()
    }

    /// Far: beyond the threshold even at the near end of the uncertainty, so that a noisy
    /// measurement (a slow round trip) never counts against this node's clock.
    fn is_far(&self, m: &Measurement) -> bool {
        m.certain_offset_us() > self.threshold_us()
    }

    fn threshold_us(&self) -> u64 {
        u64::try_from(self.config.far_threshold().as_micros()).unwrap_or(u64::MAX)
    }
}

/// The reason reported while fenced; counts and offset saturate to their fields.
fn fence_reason(far: &[(NodeId, Measurement)], fresh: usize) -> UnhealthyReason {
    let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    // To the nearest millisecond, halves away from zero.
    let median = median_offset(far);
    let offset_ms = median.saturating_add(median.signum() * 500) / 1_000;
    UnhealthyReason::Fenced {
        far: count(far.len()),
        fresh: count(fresh),
        offset_ms: offset_ms.clamp(i32::MIN.into(), i32::MAX.into()) as i32,
    }
}

/// The lower median of the far peers' offsets (0 when there are none).
fn median_offset(far: &[(NodeId, Measurement)]) -> i64 {
    let mut offsets: Vec<i64> = far.iter().map(|(_, m)| m.offset_us).collect();
    offsets.sort_unstable();
    offsets
        .get(offsets.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

impl fmt::Debug for PeerMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerMonitor")
            .field("config", &self.config)
            .field("peers", &self.peers.len())
            .field("fenced", &self.fenced)
            .field("healthy_rounds", &self.healthy_rounds)
            .finish_non_exhaustive()
    }
}
