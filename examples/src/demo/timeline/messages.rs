//! Stamped messages as arrows labelled with their stamps, and refusals as red marks on the
//! refusing lane with the reason in their `<title>`.

use hlc_core::NodeTimestamp;

use super::super::recording::{Message, Recording, Refusal};
use super::draw::{lane_name, millis, num};
use super::layout::{lane_x, Row};
use super::markup::Markup;

pub(super) fn arrow(m: &mut Markup, recording: &Recording, index: usize, row: &Row) {
    let message = &recording.messages[index];
    let refused = recording.refusals.iter().any(|r| r.message == Some(index));
    let (from, to) = (lane_x(message.from), lane_x(message.to));
    // The head stops at the lane, or at the edge of the refusal mark drawn on it.
    let inset = if refused { 10.0 } else { 3.0 };
    let inset = if to > from { -inset } else { inset };
    let (id, y) = (format!("message-{index}"), row.y);
    let class = if refused { "arrow refused" } else { "arrow" };
    m.open(
        "g",
        &[
            ("class", class),
            ("id", &id),
            ("data-from", lane_name(recording, message.from)),
            ("data-to", lane_name(recording, message.to)),
        ],
    );
    m.element("title", &[], &arrow_title(recording, message));
    m.empty(
        "line",
        &[
            ("x1", &num(from)),
            ("y1", &num(y)),
            ("x2", &num(to + inset)),
            ("y2", &num(y)),
        ],
    );
    let middle = num((from + to) / 2.0);
    let stamp = message
        .stamp
        .map_or("(no stamp)".to_owned(), |s| s.to_string());
    m.element(
        "text",
        &[("class", "stamp"), ("x", &middle), ("y", &num(y - 6.0))],
        &stamp,
    );
    let caption = match message.stamp {
        Some(stamp) => format!(
            "{} · {}",
            message.what,
            lead(recording, stamp, message.sent_us)
        ),
        None => message.what.clone(),
    };
    m.element(
        "text",
        &[("class", "caption"), ("x", &middle), ("y", &num(y + 15.0))],
        &caption,
    );
    m.close("g");
}

fn arrow_title(recording: &Recording, message: &Message) -> String {
    let name = |lane| lane_name(recording, lane);
    let stamp = message.stamp.map_or("no stamp".to_owned(), |s| {
        format!("stamp {s} ({})", s.timestamp)
    });
    format!(
        "{} → {}: {}, sent at {}, received at {}; {stamp}",
        name(message.from),
        name(message.to),
        message.what,
        millis(message.sent_us),
        millis(message.received_us),
    )
}

/// How far the stamp's physical time is from the axis's time when it was sent: a skewed
/// clock's stamps read ahead of true time by the skew; a stamp made a while before it went
/// out (a first connection, say) reads old.
fn lead(recording: &Recording, stamp: NodeTimestamp, sent_us: u64) -> String {
    let true_us = i128::from(recording.start_unix_us) + i128::from(sent_us);
    let lead_us = i128::from(stamp.timestamp.physical_micros()) - true_us;
    // The tap sees a stamp a little after it was made: under a millisecond is on time.
    let ms = lead_us as f64 / 1e3;
    if ms >= 1.0 {
        format!("stamp {ms:.1} ms ahead")
    } else if ms <= -1.0 {
        format!("stamp {:.1} ms old", -ms)
    } else {
        "stamp on time".to_owned()
    }
}

pub(super) fn refusal(m: &mut Markup, recording: &Recording, index: usize, y: f64) {
    let refusal: &Refusal = &recording.refusals[index];
    let x = lane_x(refusal.lane);
    // The label goes on the side the refused message did not come from.
    let from_right = refusal
        .message
        .and_then(|i| recording.messages.get(i))
        .is_some_and(|message| lane_x(message.from) > x);
    let (text_x, anchor) = if from_right {
        (x - 14.0, "end")
    } else {
        (x + 14.0, "start")
    };
    let id = format!("refusal-{index}");
    let lane = lane_name(recording, refusal.lane);
    m.open(
        "g",
        &[
            ("class", "refusal"),
            ("id", &id),
            ("data-lane", lane),
            ("data-kind", &refusal.kind),
            ("data-us", &refusal.at_us.to_string()),
        ],
    );
    m.element(
        "title",
        &[],
        &format!(
            "{lane} refused ({}) at {}: {}",
            refusal.kind,
            millis(refusal.at_us),
            refusal.reason
        ),
    );
    m.empty("circle", &[("cx", &num(x)), ("cy", &num(y)), ("r", "8")]);
    let cross = format!("M{} {} l8 8 m0 -8 l-8 8", num(x - 4.0), num(y - 4.0));
    m.empty("path", &[("d", &cross)]);
    let label = format!("refused: {}", short_kind(&refusal.kind));
    m.element(
        "text",
        &[
            ("x", &num(text_x)),
            ("y", &num(y + 4.0)),
            ("text-anchor", anchor),
        ],
        &label,
    );
    m.close("g");
}

/// `urn:hlc:too-far-ahead` and `hlc.too_far_ahead` both read `too far ahead`.
fn short_kind(kind: &str) -> String {
    let last = kind.rsplit([':', '.']).next().unwrap_or(kind);
    last.replace(['-', '_'], " ")
}
