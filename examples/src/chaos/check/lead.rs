//! No stamp in a 2xx answer leads true time by more than max offset: the refusals held.
//!
//! A stamp's lead is its physical part minus the time its answer was read. The stamp was made
//! before that, so the lead is never overstated; it may be understated by the answer's time
//! in flight, which only makes the check lenient by a round trip.

use super::parse::Parsed;
use super::{Invariant, Violation};

/// The greatest lead of any stamp in a 2xx answer, in µs; each lead beyond `max_offset_us`
/// (when known) is a violation.
pub(super) fn check(
    requests: &[Parsed<'_>],
    max_offset_us: Option<u64>,
    violations: &mut Vec<Violation>,
) -> Option<i64> {
    let bound = max_offset_us.map(|us| i64::try_from(us).unwrap_or(i64::MAX));
    let mut max_lead: Option<i64> = None;
    for request in requests
        .iter()
        .filter(|request| request.success().is_some())
    {
        let received_us = request.record.received_us;
        for stamp in request.answer_stamps() {
            let physical = i64::try_from(stamp.timestamp.physical_micros()).unwrap_or(i64::MAX);
            let lead = physical.saturating_sub(received_us);
            max_lead = Some(max_lead.map_or(lead, |max| max.max(lead)));
            if let Some(bound) = bound.filter(|&bound| lead > bound) {
                violations.push(Violation::new(
                    Invariant::Lead,
                    format!(
                        "request {}: {stamp} leads the answer's time {received_us} by {lead} µs, \
                         beyond max offset {bound} µs",
                        request.record.id
                    ),
                ));
            }
        }
    }
    max_lead
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::{check, Invariant};

    #[test]
    fn a_stamp_beyond_max_offset_is_found_and_its_lead_reported() {
        // Read at 1 s; the body stamp is 1.5 s + 1 µs: 500.001 ms ahead.
        let history = [
            run(),
            time_ok(1, 3, 900_000, 1_000_000, stamp(3, 1_500_001, 0)),
        ];
        let report = check(&history);
        assert_eq!(
            invariants(&report),
            [Invariant::Lead, Invariant::Lead],
            "{report}"
        );
        assert_eq!(report.max_lead_us, Some(500_001));
        assert!(
            report.summary_line().contains("max lead 500 ms"),
            "{report}"
        );
    }

    #[test]
    fn a_stamp_at_max_offset_passes_and_refusals_are_not_judged() {
        let history = [
            run(),
            time_ok(1, 3, 900_000, 1_000_000, stamp(3, 1_499_999, 0)),
            too_far_ahead(2, 3, 2_000_000, 2_000_100, stamp(3, 9_000_000, 0)),
        ];
        let report = check(&history);
        assert!(report.violations.is_empty(), "{report}");
        // The header is one logical count above the body: the same physical part.
        assert_eq!(report.max_lead_us, Some(499_999));
        assert!(
            report.summary_line().contains("max lead 500 ms"),
            "{report}"
        );
    }

    #[test]
    fn a_lead_may_be_negative() {
        let history = [
            run(),
            time_ok(1, 3, 900_000, 1_000_000, stamp(3, 998_400, 0)),
        ];
        let report = check(&history);
        assert_eq!(report.max_lead_us, Some(-1_600));
        assert!(report.summary_line().contains("max lead -2 ms"), "{report}");
    }
}
