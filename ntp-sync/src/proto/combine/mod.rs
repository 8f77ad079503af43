//! Two independent bounds on true time, the network's and the host kernel's, and the one the
//! client publishes from them.
//!
//! Each bound contains the truth when its source is honest, so when both speak their
//! intersection does too, and is never wider than either. When they do not meet, at least one
//! of them lies and nothing tells which: nothing is published (the status is unsynchronised)
//! and the [`Conflict`] names both. When only one speaks (the other unsynchronised, or its
//! estimate void), that one is published as it would be alone: the network's bound rests on a
//! majority of servers and the kernel's on the daemon that disciplines it, the same trust each
//! has when it is the only source configured. Configuring both is therefore never less honest
//! than either alone, and catches a liar whenever both speak.

use serde::{Deserialize, Serialize};

use super::estimate::{Estimate, Status, StatusPolicy};

/// Which sources the client bounds true time with.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TimeSources {
    /// NTP servers only (the default).
    #[default]
    Network,
    /// The host kernel's own figures only, kept by the host's time daemon.
    Kernel,
    /// Both: their intersection, or either alone while the other has no bound.
    Both,
}

impl TimeSources {
    /// Whether NTP servers are polled.
    pub fn network(self) -> bool {
        matches!(self, Self::Network | Self::Both)
    }

    /// Whether the host kernel is read.
    pub fn kernel(self) -> bool {
        matches!(self, Self::Kernel | Self::Both)
    }
}

/// Two bounds that do not meet: one of the sources lies. Times in nanoseconds since the Unix
/// epoch, at local time `at_nanos`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Conflict {
    /// Local time of the comparison.
    pub at_nanos: i64,
    /// The network's `(earliest, latest)` true time.
    pub network: (i64, i64),
    /// The kernel's `(earliest, latest)` true time.
    pub kernel: (i64, i64),
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "network bound [{}, {}] ns and kernel bound [{}, {}] ns do not meet",
            self.network.0, self.network.1, self.kernel.0, self.kernel.1
        )
    }
}

/// What the sources give together.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Combined {
    /// No source has a bound.
    Neither,
    /// The network's estimate alone.
    Network(Estimate),
    /// The kernel's estimate alone.
    Kernel(Estimate),
    /// Both, intersected.
    Intersection(Estimate),
    /// Both, and they do not meet: nothing to publish.
    Conflict(Conflict),
}

impl Combined {
    /// The estimate to publish, if any.
    pub fn estimate(&self) -> Option<Estimate> {
        match *self {
            Self::Network(e) | Self::Kernel(e) | Self::Intersection(e) => Some(e),
            Self::Neither | Self::Conflict(_) => None,
        }
    }

    /// The conflict, if the sources contradict each other.
    pub fn conflict(&self) -> Option<Conflict> {
        match *self {
            Self::Conflict(conflict) => Some(conflict),
            _ => None,
        }
    }
}

/// How the sources' estimates are read at one instant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CombineAt {
    /// Local time, nanoseconds since the Unix epoch.
    pub now_nanos: i64,
    /// The local clock's drift bound, ppb: each estimate widens at it with its age.
    pub drift_ppb: i64,
    /// When an estimate is void.
    pub policy: StatusPolicy,
}

/// The estimate `sources` give, from the network's and the kernel's estimates in force.
///
/// With one source configured its estimate passes unchanged (the read side ages it). With
/// both, a void estimate counts as none, and two that remain are compared at `at.now_nanos`.
pub fn combine(
    sources: TimeSources,
    network: Option<Estimate>,
    kernel: Option<Estimate>,
    at: &CombineAt,
) -> Combined {
    let alive = |e: &Estimate| e.status_at(at.now_nanos, &at.policy) != Status::Unsynchronised;
    let (network, kernel) = match sources {
        TimeSources::Network => (network, None),
        TimeSources::Kernel => (None, kernel),
        TimeSources::Both => (network.filter(alive), kernel.filter(alive)),
    };
    match (network, kernel) {
        (None, None) => Combined::Neither,
        (Some(n), None) => Combined::Network(n),
        (None, Some(k)) => Combined::Kernel(k),
        (Some(n), Some(k)) => intersect(&n, &k, at),
    }
}

fn intersect(network: &Estimate, kernel: &Estimate, at: &CombineAt) -> Combined {
    let now = at.now_nanos;
    let n = network.true_time_at(now, at.drift_ppb);
    let k = kernel.true_time_at(now, at.drift_ppb);
    let (earliest, latest) = (n.0.max(k.0), n.1.min(k.1));
    if earliest > latest {
        return Combined::Conflict(Conflict {
            at_nanos: now,
            network: n,
            kernel: k,
        });
    }
    // The intersection lies within the fresher side's bound, so it is as fresh as that side.
    let newest = network.newest_sample_nanos.max(kernel.newest_sample_nanos);
    Combined::Intersection(Estimate::covering(
        earliest.saturating_sub(now),
        latest.saturating_sub(now),
        now,
        newest,
    ))
}

#[cfg(test)]
mod tests;
