//! Marks on a lane: a restart, an NTP poll (a dotted line to the time source), the NTP
//! correction, fencing.

use super::super::recording::{Mark, MarkKind, Recording};
use super::draw::{lane_name, millis, num};
use super::layout::lane_x;
use super::markup::Markup;

pub(super) fn mark(m: &mut Markup, recording: &Recording, mark: &Mark, index: usize, y: f64) {
    let x = lane_x(mark.lane);
    let (class, kind) = match mark.kind {
        MarkKind::Restart => ("mark restart", "restart"),
        MarkKind::NtpPoll { .. } => ("mark ntp-poll", "ntp-poll"),
        MarkKind::NtpCorrection => ("mark ntp-correction", "ntp-correction"),
        MarkKind::Fenced => ("mark fence", "fenced"),
        MarkKind::Unfenced => ("mark fence", "unfenced"),
    };
    let id = format!("mark-{index}");
    let lane = lane_name(recording, mark.lane);
    m.open(
        "g",
        &[
            ("class", class),
            ("id", &id),
            ("data-kind", kind),
            ("data-lane", lane),
            ("data-us", &mark.at_us.to_string()),
        ],
    );
    m.element(
        "title",
        &[],
        &format!("{lane}, {}: {}", millis(mark.at_us), mark.detail),
    );
    let (cx, cy) = (num(x), num(y));
    match mark.kind {
        MarkKind::NtpPoll { source } => {
            let to = lane_x(source);
            m.empty(
                "line",
                &[("x1", &cx), ("y1", &cy), ("x2", &num(to)), ("y2", &cy)],
            );
            m.empty("circle", &[("cx", &num(to)), ("cy", &cy), ("r", "4")]);
            m.empty("circle", &[("cx", &cx), ("cy", &cy), ("r", "4")]);
            let middle = num((x + to) / 2.0);
            m.element(
                "text",
                &[
                    ("x", &middle),
                    ("y", &num(y - 5.0)),
                    ("text-anchor", "middle"),
                ],
                &mark.label,
            );
        }
        _ => {
            let diamond = format!("M{} {} l7 7 l-7 7 l-7 -7 z", cx, num(y - 7.0));
            m.empty("path", &[("d", &diamond)]);
            m.element(
                "text",
                &[("x", &num(x + 13.0)), ("y", &num(y + 4.0))],
                &mark.label,
            );
        }
    }
    m.close("g");
}
