//! [`PrometheusObserver`]: counters of what the layers do, and the peer offset histogram.

use std::sync::Arc;
use std::time::Duration;

use hlc_core::peers::{Measurement, MonitorConfig};
use hlc_core::{NodeId, NodeTimestamp, Timestamp, DEFAULT_MAX_OFFSET};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::observer::{LayerObserver, Side};
use crate::ping::ProbeRound;
use crate::refusal::Refusal;

type SideLabel = [(&'static str, &'static str); 1];
type ReasonLabels = [(&'static str, &'static str); 2];
type PeerLabel = [(&'static str, String); 1];

/// Counts what the layers do and records the offsets peer pings measure, into a
/// `prometheus-client` [`Registry`]; see the [module docs](super) for the names.
///
/// Cloning shares the metrics. Hand it to both layers (`.observer(Arc::new(observer.clone()))`)
/// and feed it each probing round ([`record_round`](Self::record_round)) from
/// [`Prober::run`](crate::ping::Prober::run)'s callback.
#[derive(Debug, Clone)]
pub struct PrometheusObserver {
    stamps: PerSide,
    merges: PerSide,
    refusals: Family<ReasonLabels, Counter>,
    ignored: Family<ReasonLabels, Counter>,
    offsets: Family<PeerLabel, Histogram, OffsetBuckets>,
}

impl PrometheusObserver {
    /// Registers the metrics in `registry`, with offset buckets for
    /// [`DEFAULT_MAX_OFFSET`].
    pub fn new(registry: &mut Registry) -> Self {
        Self::with_max_offset(registry, DEFAULT_MAX_OFFSET)
    }

    /// Registers the metrics in `registry`, with offset buckets at shares of `max_offset`
    /// (the clock's): 0.1 %, 1 %, 10 %, the peer monitor's far threshold
    /// ([`MonitorConfig::DEFAULT_FAR_PERCENT`]), 100 %, 200 % and 1000 %, on both sides of 0.
    pub fn with_max_offset(registry: &mut Registry, max_offset: Duration) -> Self {
        let stamps = Family::<SideLabel, Counter>::default();
        let merges = Family::<SideLabel, Counter>::default();
        let refusals = Family::<ReasonLabels, Counter>::default();
        let ignored = Family::<ReasonLabels, Counter>::default();
        let offsets = Family::new_with_constructor(OffsetBuckets::new(max_offset));
        registry.register(
            "hlc_stamps",
            "Messages the HLC layers stamped",
            stamps.clone(),
        );
        registry.register(
            "hlc_merges",
            "Peers' stamps the HLC layers merged into the clock",
            merges.clone(),
        );
        registry.register(
            "hlc_refusals",
            "Messages the HLC layers refused, by reason",
            refusals.clone(),
        );
        registry.register(
            "hlc_ignored",
            "Messages the HLC layers let through instead of refusing, by reason",
            ignored.clone(),
        );
        registry.register_with_unit(
            "hlc_peer_offset",
            "Offset of a peer's clock from this node's (peer minus this node), per ping",
            Unit::Other("microseconds".to_owned()),
            offsets.clone(),
        );
        Self {
            stamps: PerSide::new(&stamps),
            merges: PerSide::new(&merges),
            refusals,
            ignored,
            offsets,
        }
    }

    /// Records one ping's measurement of `peer`.
    pub fn record_ping(&self, peer: NodeId, measurement: &Measurement) {
        // Offsets below 2^53 µs (285 years) are exact in an f64.
        #[allow(clippy::cast_precision_loss)]
        let offset = measurement.offset_us as f64;
        self.offsets
            .get_or_create(&[("peer", peer.to_string())])
            .observe(offset);
    }

    /// Records every ping of a probing round that measured something.
    pub fn record_round(&self, round: &ProbeRound) {
        for (_, outcome) in &round.pings {
            if let Ok((peer, measurement)) = outcome {
                self.record_ping(*peer, measurement);
            }
        }
    }
}

impl LayerObserver for PrometheusObserver {
    fn merged(&self, side: Side, _peer: NodeTimestamp, _merged: Timestamp, _local_micros: u64) {
        self.merges.get(side).inc();
    }

    fn refused(&self, side: Side, refusal: &Refusal) {
        count_reason(&self.refusals, side, refusal);
    }

    fn ignored(&self, side: Side, refusal: &Refusal) {
        count_reason(&self.ignored, side, refusal);
    }

    fn stamped(&self, side: Side, _stamp: NodeTimestamp) {
        self.stamps.get(side).inc();
    }
}

fn count_reason(family: &Family<ReasonLabels, Counter>, side: Side, refusal: &Refusal) {
    family
        .get_or_create(&[("side", side.as_str()), ("reason", refusal.kind())])
        .inc();
}

/// One counter per side, taken from the family once so that counting is one atomic add.
#[derive(Debug, Clone)]
struct PerSide {
    server: Counter,
    client: Counter,
}

impl PerSide {
    fn new(family: &Family<SideLabel, Counter>) -> Self {
        let of = |side: Side| family.get_or_create_owned(&[("side", side.as_str())]);
        Self {
            server: of(Side::Server),
            client: of(Side::Client),
        }
    }

    fn get(&self, side: Side) -> &Counter {
        match side {
            Side::Server => &self.server,
            Side::Client => &self.client,
        }
    }
}

/// Builds each peer's histogram with the same buckets.
#[derive(Debug, Clone)]
struct OffsetBuckets(Arc<[f64]>);

impl OffsetBuckets {
    /// Per mille of max offset: 0.1 %, 1 %, 10 %, the far threshold, 100 %, 200 %, 1000 %.
    fn new(max_offset: Duration) -> Self {
        let far = u128::from(MonitorConfig::DEFAULT_FAR_PERCENT) * 10;
        let max_us = max_offset.as_micros();
        let positive = [1, 10, 100, far, 1_000, 2_000, 10_000].map(|per_mille| {
            // Bucket edges need no exactness: a rounded edge still sorts the offsets.
            #[allow(clippy::cast_precision_loss)]
            let edge = (max_us * per_mille / 1_000) as f64;
            edge
        });
        let negative = positive.iter().rev().map(|edge| -edge);
        let mut edges: Vec<f64> = negative.chain([0.0]).chain(positive).collect();
        // A tiny max offset rounds several edges to the same value; keep one of each.
        edges.dedup();
        Self(edges.into())
    }
}

impl MetricConstructor<Histogram> for OffsetBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_shares_of_max_offset_on_both_sides() {
        let OffsetBuckets(edges) = OffsetBuckets::new(Duration::from_millis(500));
        assert_eq!(
            &edges[7..],
            [0.0, 500.0, 5_000.0, 50_000.0, 400_000.0, 500_000.0, 1e6, 5e6]
        );
        assert_eq!(edges[0], -5e6);
        assert!(edges.windows(2).all(|pair| pair[0] < pair[1]), "{edges:?}");
        let OffsetBuckets(tiny) = OffsetBuckets::new(Duration::from_micros(1));
        assert!(tiny.windows(2).all(|pair| pair[0] < pair[1]), "{tiny:?}");
    }
}
