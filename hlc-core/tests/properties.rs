//! Invariants of the clock and the codecs, over random inputs.

use std::time::Duration;

use hlc_core::{
    Hlc, ManualClock, NodeId, NodeTimestamp, Timestamp, DEFAULT_MAX_OFFSET, MAX_PHYSICAL_MICROS,
};
use proptest::prelude::*;

const T0: u64 = 1_700_000_000_000_000;
const MAX_OFFSET_MICROS: u64 = DEFAULT_MAX_OFFSET.as_micros() as u64;

#[derive(Debug, Clone)]
enum Step {
    Now,
    /// A remote timestamp this far from the local physical clock (µs, may be negative).
    Update {
        lead: i64,
        logical: u16,
    },
    Advance(u64),
    Rewind(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Now),
        3 => (-2_000_000i64..1_000_000, 0u16..=4095)
            .prop_map(|(lead, logical)| Step::Update { lead, logical }),
        2 => (0u64..2_000).prop_map(Step::Advance),
        1 => (0u64..3_000_000).prop_map(Step::Rewind),
    ]
}

proptest! {
    #[test]
    fn prop_results_strictly_increase_and_exceed_accepted_remotes(
        steps in proptest::collection::vec(step(), 1..300)
    ) {
        let clock = ManualClock::new(T0);
        let hlc = Hlc::builder().clock(clock.clone()).build().unwrap();
        let mut last = Timestamp::ZERO;
        let mut highest_physical_seen = T0;
        for step in steps {
            let physical = hlc_core::PhysicalClock::now_micros(&clock);
            highest_physical_seen = highest_physical_seen.max(physical);
            match step {
                Step::Now => {
                    let t = hlc.now();
                    prop_assert!(t > last);
                    last = t;
                }
                Step::Update { lead, logical } => {
                    let remote_physical = physical.saturating_add_signed(lead);
                    let remote = Timestamp::from_parts(remote_physical, logical).unwrap();
                    let before = hlc.last();
                    match hlc.update(remote) {
                        Ok(t) => {
                            prop_assert!(lead <= MAX_OFFSET_MICROS as i64);
                            prop_assert!(t > last && t > remote);
                            last = t;
                        }
                        Err(_) => {
                            prop_assert!(lead > MAX_OFFSET_MICROS as i64);
                            prop_assert_eq!(hlc.last(), before);
                        }
                    }
                }
                Step::Advance(us) => clock.advance(Duration::from_micros(us)),
                Step::Rewind(us) => clock.rewind(Duration::from_micros(us)),
            }
            // The clock never runs further ahead of the highest physical time it saw than the
            // max offset allows, plus the carries of at most one logical overflow per stamp.
            prop_assert!(last.physical_micros() <= highest_physical_seen + MAX_OFFSET_MICROS + 300);
        }
    }

    #[test]
    fn prop_logical_part_stays_bounded_when_the_clock_advances(
        bursts in proptest::collection::vec(1usize..50, 1..50)
    ) {
        let clock = ManualClock::new(T0);
        let hlc = Hlc::builder().clock(clock.clone()).build().unwrap();
        for burst in bursts {
            for _ in 0..burst {
                let t = hlc.now();
                prop_assert!(t.logical() < 50);
            }
            clock.advance(Duration::from_micros(1));
        }
    }

    #[test]
    fn prop_text_form_round_trips(raw in any::<u64>(), node in any::<u64>()) {
        let stamp = NodeTimestamp::new(Timestamp::from_u64(raw), NodeId::new(node));
        let text = stamp.to_string();
        prop_assert_eq!(text.len(), hlc_core::wire::TEXT_LEN);
        prop_assert_eq!(text.parse::<NodeTimestamp>().unwrap(), stamp);
        prop_assert_eq!(NodeId::new(node).to_string().parse::<NodeId>().unwrap(), NodeId::new(node));
    }

    #[test]
    fn prop_display_form_round_trips(physical in 0..=MAX_PHYSICAL_MICROS, logical in 0u16..=4095) {
        let ts = Timestamp::from_parts(physical, logical).unwrap();
        prop_assert_eq!(ts.to_string().parse::<Timestamp>().unwrap(), ts);
    }

    #[test]
    fn prop_binary_order_equals_pair_order(
        a in (any::<u64>(), any::<u64>()),
        b in (any::<u64>(), any::<u64>()),
    ) {
        let a = NodeTimestamp::new(Timestamp::from_u64(a.0), NodeId::new(a.1));
        let b = NodeTimestamp::new(Timestamp::from_u64(b.0), NodeId::new(b.1));
        prop_assert_eq!(a.to_bytes().cmp(&b.to_bytes()), a.cmp(&b));
        prop_assert_eq!(NodeTimestamp::from_bytes(&a.to_bytes()).unwrap(), a);
    }

    #[test]
    fn prop_arbitrary_text_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(stamp) = NodeTimestamp::parse_text(&bytes) {
            // Whatever parses is canonical: it encodes back to the very same bytes.
            prop_assert_eq!(stamp.to_string().into_bytes(), bytes);
        }
    }
}
