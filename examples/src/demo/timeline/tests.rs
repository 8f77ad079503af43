//! The renderer on a recording made by hand: what it holds is what the page shows.

use hlc_core::{NodeId, NodeTimestamp, Timestamp};

use super::super::recording::{Lane, LaneKind, Mark, MarkKind, Message, Recording, Refusal, Step};
use super::{page, size, svg};

const START_US: u64 = 1_700_000_000_000_000;

fn stamp(node: u64, at_us: u64) -> Option<NodeTimestamp> {
    let timestamp = Timestamp::from_physical_micros(START_US + at_us);
    Some(NodeTimestamp::new(timestamp, NodeId::new(node)))
}

fn message(
    from: usize,
    to: usize,
    sent_us: u64,
    what: &str,
    stamp: Option<NodeTimestamp>,
) -> Message {
    Message {
        from,
        to,
        sent_us,
        received_us: sent_us + 40,
        what: what.to_owned(),
        stamp,
    }
}

/// Two nodes and a time source; b runs 2 s ahead; a refuses b's request (the reason holds
/// markup that must come out escaped); a pause before b's NTP poll and correction, and b's
/// last stamp made 3 ms before it went out.
fn recording() -> Recording {
    let node = |name: &str, id| Lane {
        name: name.to_owned(),
        kind: LaneKind::Node(NodeId::new(id)),
        note: "clock".to_owned(),
    };
    let ntp = Lane {
        name: "ntp".to_owned(),
        kind: LaneKind::TimeSource,
        note: "source".to_owned(),
    };
    Recording {
        start_unix_us: START_US,
        lanes: vec![node("a", 1), node("b", 2), ntp],
        messages: vec![
            message(1, 0, 1_000, "GET /time", stamp(2, 2_001_000)),
            message(0, 1, 1_300, "400 Bad Request", stamp(1, 1_250)),
            message(1, 0, 700_000, "GET /time", stamp(2, 697_000)),
        ],
        refusals: vec![Refusal {
            lane: 0,
            at_us: 1_040,
            message: Some(0),
            kind: "urn:hlc:too-far-ahead".to_owned(),
            reason: "remote <script>alert(1)</script> & \"ahead\"".to_owned(),
        }],
        marks: vec![
            Mark {
                lane: 1,
                at_us: 650_000,
                kind: MarkKind::NtpPoll { source: 2 },
                label: "NTP poll 1".to_owned(),
                detail: "offset -2000 ms".to_owned(),
            },
            Mark {
                lane: 1,
                at_us: 660_000,
                kind: MarkKind::NtpCorrection,
                label: "clock corrected".to_owned(),
                detail: "±0.1 ms".to_owned(),
            },
            Mark {
                lane: 0,
                at_us: 670_000,
                kind: MarkKind::Fenced,
                label: "fenced".to_owned(),
                detail: "peers".to_owned(),
            },
        ],
        steps: vec![Step {
            at_us: 1_000,
            title: "1. b calls a".to_owned(),
        }],
    }
}

fn count(markup: &str, needle: &str) -> usize {
    markup.matches(needle).count()
}

#[test]
fn one_group_per_lane_message_refusal_and_mark() {
    let page = page(&recording());
    assert_eq!(count(&page, "<g class=\"lane\""), 3);
    assert_eq!(count(&page, "data-kind=\"node\""), 2);
    assert_eq!(count(&page, "data-node=\"0000000000000002\""), 1);
    assert_eq!(count(&page, "<g class=\"arrow"), 3);
    assert_eq!(count(&page, "<g class=\"arrow refused\""), 1);
    assert_eq!(count(&page, "<g class=\"refusal\""), 1);
    assert_eq!(count(&page, "<g class=\"mark ntp-poll\""), 1);
    assert_eq!(count(&page, "<g class=\"mark ntp-correction\""), 1);
    assert_eq!(
        count(
            &page,
            "<g class=\"mark fence\" id=\"mark-2\" data-kind=\"fenced\""
        ),
        1
    );
    assert_eq!(count(&page, "<g class=\"step\""), 1);
}

#[test]
fn arrows_carry_their_stamps_and_the_lead_over_true_time() {
    let page = page(&recording());
    let skewed = stamp(2, 2_001_000).unwrap().to_string();
    assert!(page.contains(&format!(">{skewed}</text>")), "{page}");
    assert!(page.contains("GET /time · stamp 2000.0 ms ahead"));
    assert!(page.contains("400 Bad Request · stamp on time"));
    assert!(page.contains("GET /time · stamp 3.0 ms old"));
}

#[test]
fn the_reason_is_on_hover_and_escaped() {
    let page = page(&recording());
    assert!(page.contains(
        "<title>a refused (urn:hlc:too-far-ahead) at 1.0 ms: remote &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;ahead&quot;</title>"
    ));
    assert!(!page.contains("<script"));
    assert!(page.contains(">refused: too far ahead</text>"));
}

#[test]
fn the_axis_is_in_milliseconds_with_long_pauses_as_breaks() {
    let page = page(&recording());
    assert!(page.contains(">ms since start</text>"));
    for label in [
        ">1.0 ms</text>",
        ">1.3 ms</text>",
        ">650.0 ms</text>",
        ">700.0 ms</text>",
    ] {
        assert!(page.contains(label), "no tick {label}");
    }
    // 1.3 → 650 ms is a pause (a break); 650, 660, 670 ms are 10 ms apart (none); 670 → 700 ms
    // is another.
    assert_eq!(count(&page, "<g class=\"break\""), 2);
    assert!(page.contains("… 648.7 ms later"));
}

#[test]
fn the_page_stands_alone() {
    let page = page(&recording());
    // The SVG namespace is a name, not a fetch; nothing else points outside the page.
    let outside = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for fetch in ["http:", "https:", "src=", "<link", "<script", "@import"] {
        assert!(!outside.contains(fetch), "the page holds {fetch}");
    }
    let svg = svg(&recording());
    assert!(svg.starts_with("<?xml"));
    assert!(
        svg.contains("<style>"),
        "the standalone picture carries its style"
    );
    let (width, height) = size(&recording());
    assert!(svg.contains(&format!("width=\"{width}\" height=\"{height}\"")));
}

#[test]
fn the_same_recording_draws_the_same_page() {
    assert_eq!(page(&recording()), page(&recording()));
}

#[test]
fn an_empty_recording_draws_an_empty_picture() {
    let page = page(&Recording::default());
    assert_eq!(count(&page, "<g class=\"lane\""), 0);
    assert_eq!(count(&page, "<g class=\"arrow"), 0);
    assert!(page.contains("</svg>"));
}

#[test]
fn the_summary_counts_what_was_recorded() {
    assert_eq!(
        super::summary(&recording()),
        "3 lanes, 3 messages, 1 refusal, 1 NTP poll, 1 NTP correction, fenced 1 time"
    );
}
