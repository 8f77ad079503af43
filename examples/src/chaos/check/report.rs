//! What the checker found: counts, refusals by kind, unexpected errors, violations, and the
//! summary the harness prints.

use std::collections::BTreeMap;
use std::fmt;

use crate::chaos::history::{Record, RequestRecord};

/// How many unexpected errors the full summary shows in full (the JSON line of the request).
pub const UNEXPECTED_SHOWN: usize = 5;
/// How many violations of each invariant the full summary lists (all are counted).
pub const VIOLATIONS_SHOWN: usize = 20;

/// What a check of a whole history found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every `Request` record.
    pub requests: usize,
    /// The requests answered with a 2xx.
    pub answered_ok: usize,
    /// The refusals and failures the design allows, by kind.
    pub allowed: BTreeMap<Allowed, usize>,
    /// The other refusals and failures.
    pub unexpected: Vec<Unexpected>,
    /// How often a node's health went from `200` to `503` with reason `fenced` (polls the node
    /// did not answer are skipped).
    pub fencings: usize,
    /// The `Restart` faults.
    pub restarts: usize,
    /// The greatest lead of a stamp in a 2xx answer over the time the answer was read, in µs
    /// (negative when every stamp trailed); `None` without any such stamp.
    pub max_lead_us: Option<i64>,
    /// The RSS samples of the node lives the memory check judged.
    pub rss: RssTotals,
    /// Every broken promise.
    pub violations: Vec<Violation>,
}

/// A refusal or failure the design allows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Allowed {
    /// `503`, problem type `urn:hlc:clock-untrusted`, with its `reason` (`fenced`,
    /// `unsynchronised`, `radius_too_large`, `disrupted`; empty when it had none).
    Untrusted(String),
    /// `400`, problem type `urn:hlc:too-far-ahead`: the request's stamp led the node's clock by
    /// more than max offset.
    TooFarAhead,
    /// `502` from `/relay` in a history that does not say why (written before the harness
    /// recorded [`RelayFailure`](crate::chaos::history::RelayFailure)).
    RelayPeer,
    /// `502` from `/relay` passing on its peer's refusal, itself allowed: always
    /// [`Untrusted`](Self::Untrusted) or [`TooFarAhead`](Self::TooFarAhead).
    RelayPeerRefused(Box<Allowed>),
    /// `502` from `/relay`: the relaying node's client layer refused, with this
    /// `hlc_middleware::Refusal::kind` ([`super::relay::CLIENT_TOO_FAR_AHEAD`] or
    /// [`super::relay::CLIENT_CLOCK_UNTRUSTED`]).
    RelayRefused(String),
    /// `502` from `/relay`: its peer could not be reached while the peer was down.
    RelayPeerDown,
    /// `502` from `/relay`: the relaying node's client layer sent nothing, its own clock
    /// untrusted.
    RelayNotSent,
    /// No answer, while the node was down (killed or stopped, see [`super::down`]).
    NodeDown,
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Untrusted(reason) => write!(f, "503 clock untrusted ({reason})"),
            Self::TooFarAhead => f.write_str("400 too far ahead"),
            Self::RelayPeer => f.write_str("502 from /relay, cause not recorded"),
            Self::RelayPeerRefused(kind) => write!(f, "502 from /relay, its peer refused: {kind}"),
            Self::RelayRefused(kind) => {
                write!(f, "502 from /relay, its client layer refused: {kind}")
            }
            Self::RelayPeerDown => f.write_str("502 from /relay, its peer down"),
            Self::RelayNotSent => {
                f.write_str("502 from /relay, not sent on its own untrusted clock")
            }
            Self::NodeDown => f.write_str("failed while the node was down"),
        }
    }
}

/// A refusal or failure for a reason the design does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpected {
    /// What happened, in a few words (`/time answered 500`): the unit the summary counts by.
    pub kind: String,
    /// The request, as recorded.
    pub record: RequestRecord,
}

/// The RSS samples of the node lives that had both a warmed-up and an end sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RssTotals {
    /// The sum of their samples after warm-up, in KiB.
    pub warmed_up_kib: u64,
    /// The sum of their samples at the end, in KiB.
    pub end_kib: u64,
    /// How many lives had both samples.
    pub lives_checked: usize,
    /// How many lives lacked one of them (a node killed before the end, restarted after the
    /// warm-up), and were not judged.
    pub lives_skipped: usize,
}

/// A broken promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which one.
    pub invariant: Invariant,
    /// The records that show it: request ids, stamps and times as in the history.
    pub detail: String,
}

impl Violation {
    /// A violation of `invariant`, shown by `detail`.
    pub fn new(invariant: Invariant, detail: impl Into<String>) -> Self {
        Self {
            invariant,
            detail: detail.into(),
        }
    }
}

/// The promises the checker holds the cluster to (see [the checker](super)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Invariant {
    /// The history itself is incomplete (no run record).
    History,
    /// A stamp in the history is not in the `hlc` header's text form.
    UnparsableStamp,
    /// A node's stamps did not strictly increase.
    Monotonic,
    /// An answer's stamp was not above the stamp that caused it.
    Causality,
    /// A node answered 2xx while its health said 503.
    UntrustedAnswer,
    /// A stamp led true time by more than max offset.
    Lead,
    /// A node's RSS grew by more than [`MEMORY_GROWTH_PERCENT`](super::MEMORY_GROWTH_PERCENT).
    Memory,
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::History => "incomplete history",
            Self::UnparsableStamp => "unparsable stamp",
            Self::Monotonic => "stamps not increasing",
            Self::Causality => "causality",
            Self::UntrustedAnswer => "2xx while untrusted",
            Self::Lead => "lead beyond max offset",
            Self::Memory => "memory growth",
        })
    }
}

impl Report {
    /// True when there are no violations and no unexpected errors: the script's exit 0.
    pub fn passed(&self) -> bool {
        self.violations.is_empty() && self.unexpected.is_empty()
    }

    /// Exactly `chaos: <requests> requests, <errors> unexpected errors, <fencings> fencings,
    /// max lead <ms> ms, <restarts> restarts, rss <a>-><b> MB, <violations> violations`.
    ///
    /// The lead is in whole milliseconds, rounded half away from zero (0 when no 2xx answer
    /// carried a stamp); the RSS sums are in MB of 1024 KiB with one decimal.
    pub fn summary_line(&self) -> String {
        format!(
            "chaos: {} requests, {} unexpected errors, {} fencings, max lead {} ms, {} restarts, \
             rss {}->{} MB, {} violations",
            self.requests,
            self.unexpected.len(),
            self.fencings,
            self.max_lead_us.map_or(0, whole_ms),
            self.restarts,
            Megabytes(self.rss.warmed_up_kib),
            Megabytes(self.rss.end_kib),
            self.violations.len(),
        )
    }
}

fn whole_ms(us: i64) -> i64 {
    let (ms, rest) = (us / 1000, us % 1000);
    match rest {
        500.. => ms + 1,
        ..=-500 => ms - 1,
        _ => ms,
    }
}

/// KiB shown as MB (1024 KiB) with one decimal, rounded to the nearest tenth.
struct Megabytes(u64);

impl fmt::Display for Megabytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = self.0.saturating_mul(10).saturating_add(512) / 1024;
        write!(f, "{}.{}", tenths / 10, tenths % 10)
    }
}

/// The full summary: counts by kind, unexpected errors (the first few in full), violations
/// (the first few of each invariant), then [`Report::summary_line`] last.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "requests: {}, answered 2xx: {}",
            self.requests, self.answered_ok
        )?;
        writeln!(f, "allowed refusals and failures:")?;
        for (kind, count) in &self.allowed {
            writeln!(f, "  {kind}: {count}")?;
        }
        self.fmt_unexpected(f)?;
        writeln!(
            f,
            "rss: {} node lives judged, {} without both samples skipped",
            self.rss.lives_checked, self.rss.lives_skipped
        )?;
        self.fmt_violations(f)?;
        f.write_str(&self.summary_line())
    }
}

impl Report {
    fn fmt_unexpected(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "unexpected errors: {}", self.unexpected.len())?;
        let mut by_kind = BTreeMap::<&str, usize>::new();
        for error in &self.unexpected {
            *by_kind.entry(&error.kind).or_default() += 1;
        }
        for (kind, count) in by_kind {
            writeln!(f, "  {kind}: {count}")?;
        }
        for error in self.unexpected.iter().take(UNEXPECTED_SHOWN) {
            let line = serde_json::to_string(&Record::Request(error.record.clone()))
                .unwrap_or_else(|e| format!("(not serialisable: {e})"));
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }

    fn fmt_violations(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "violations: {}", self.violations.len())?;
        let mut by_invariant = BTreeMap::<Invariant, Vec<&str>>::new();
        for violation in &self.violations {
            by_invariant
                .entry(violation.invariant)
                .or_default()
                .push(&violation.detail);
        }
        for (invariant, details) in by_invariant {
            writeln!(f, "  {invariant}: {}", details.len())?;
            for detail in details.iter().take(VIOLATIONS_SHOWN) {
                writeln!(f, "    {detail}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_has_the_exact_text() {
        let report = Report {
            requests: 1234,
            fencings: 3,
            restarts: 2,
            max_lead_us: Some(12_499),
            rss: RssTotals {
                warmed_up_kib: 102_400,
                end_kib: 104_960,
                lives_checked: 5,
                lives_skipped: 1,
            },
            violations: vec![Violation::new(Invariant::Lead, "x")],
            ..Report::default()
        };
        assert_eq!(
            report.summary_line(),
            "chaos: 1234 requests, 0 unexpected errors, 3 fencings, max lead 12 ms, 2 restarts, \
             rss 100.0->102.5 MB, 1 violations"
        );
        assert!(!report.passed());
        assert!(report.to_string().ends_with(&report.summary_line()));
    }

    #[test]
    fn leads_round_half_away_from_zero_and_megabytes_to_a_tenth() {
        let rounded: Vec<i64> = [1_499, 1_500, -1_499, -1_500, 0].map(whole_ms).into();
        assert_eq!(rounded, [1, 2, -1, -2, 0]);
        assert_eq!(Megabytes(1_024 * 41 + 51).to_string(), "41.0");
        assert_eq!(Megabytes(1_024 * 41 + 52).to_string(), "41.1");
        // Saturates rather than overflowing.
        assert_eq!(Megabytes(u64::MAX).to_string(), "1801439850948198.3");
    }
}
