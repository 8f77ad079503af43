//! The picture's parts, each a group with a class (and `data-` attributes) a test can count:
//! `lane`, `arrow`, `refusal`, `mark`, `step`, `axis`, `break`.

use super::super::recording::{LaneId, LaneKind, Recording};
use super::layout::{lane_x, Break, Item, Layout, Row, AXIS_X, LANES_TOP};
use super::marks::mark;
use super::markup::Markup;
use super::messages::{arrow, refusal};

/// Draws every lane, row and break of `recording` as laid out in `layout`.
pub(super) fn body(recording: &Recording, layout: &Layout) -> Markup {
    let mut m = Markup::default();
    axis(&mut m, layout);
    for (index, _) in recording.lanes.iter().enumerate() {
        lane(&mut m, recording, index, layout);
    }
    for gap in &layout.breaks {
        pause(&mut m, gap, layout);
    }
    for row in &layout.rows {
        match row.item {
            Item::Step(i) => step(&mut m, &recording.steps[i].title, row, layout),
            Item::Message(i) => arrow(&mut m, recording, i, row),
            Item::Refusal(i) => refusal(&mut m, recording, i, row.y),
            Item::Mark(i) => mark(&mut m, recording, &recording.marks[i], i, row.y),
        }
    }
    for (i, refusal_at) in recording.refusals.iter().enumerate() {
        let on_arrow = refusal_at.message.and_then(|index| layout.message_y(index));
        if let Some(y) = on_arrow {
            refusal(&mut m, recording, i, y);
        }
    }
    m
}

fn axis(m: &mut Markup, layout: &Layout) {
    let bottom = num(layout.lanes_bottom());
    m.open("g", &[("class", "axis"), ("data-unit", "ms")]);
    m.element(
        "text",
        &[("class", "axis-title"), ("x", &num(AXIS_X)), ("y", "40")],
        "ms since start",
    );
    m.empty(
        "line",
        &[
            ("x1", &num(AXIS_X)),
            ("y1", &num(LANES_TOP)),
            ("x2", &num(AXIS_X)),
            ("y2", &bottom),
        ],
    );
    for row in layout
        .rows
        .iter()
        .filter(|row| !matches!(row.item, Item::Step(_)))
    {
        let y = num(row.y);
        m.empty(
            "line",
            &[
                ("class", "tick"),
                ("x1", &num(AXIS_X - 4.0)),
                ("y1", &y),
                ("x2", &num(AXIS_X + 4.0)),
                ("y2", &y),
            ],
        );
        let label = [
            ("class", "tick-label"),
            ("x", &num(AXIS_X - 8.0)),
            ("y", &num(row.y + 4.0)),
            ("data-us", &row.at_us.to_string()),
        ];
        m.element("text", &label, &millis(row.at_us));
    }
    m.close("g");
}

fn lane(m: &mut Markup, recording: &Recording, index: usize, layout: &Layout) {
    let lane = &recording.lanes[index];
    let (kind, node) = match lane.kind {
        LaneKind::Node(node) => ("node", node.to_string()),
        LaneKind::TimeSource => ("time-source", String::new()),
    };
    let x = num(lane_x(index));
    let id = format!("lane-{index}");
    let mut attrs = vec![
        ("class", "lane"),
        ("id", id.as_str()),
        ("data-kind", kind),
        ("data-name", lane.name.as_str()),
    ];
    if !node.is_empty() {
        attrs.push(("data-node", node.as_str()));
    }
    m.open("g", &attrs);
    let title = match lane.kind {
        LaneKind::Node(_) => format!("{}: node {node}, {}", lane.name, lane.note),
        LaneKind::TimeSource => format!("{}: time source, {}", lane.name, lane.note),
    };
    m.element("title", &[], &title);
    m.element(
        "text",
        &[("class", "lane-name"), ("x", &x), ("y", "22")],
        &lane.name,
    );
    m.element(
        "text",
        &[("class", "lane-note"), ("x", &x), ("y", "40")],
        &lane.note,
    );
    m.empty(
        "line",
        &[
            ("x1", &x),
            ("y1", &num(LANES_TOP)),
            ("x2", &x),
            ("y2", &num(layout.lanes_bottom())),
        ],
    );
    m.close("g");
}

fn pause(m: &mut Markup, gap: &Break, layout: &Layout) {
    let (y, left, right) = (gap.y, AXIS_X - 10.0, layout.width - 20.0);
    m.open(
        "g",
        &[("class", "break"), ("data-us", &gap.skipped_us.to_string())],
    );
    m.empty(
        "rect",
        &[
            ("x", &num(left)),
            ("y", &num(y - 7.0)),
            ("width", &num(right - left)),
            ("height", "14"),
        ],
    );
    let zigzag = format!("M{} {} l6 -6 l6 12 l6 -6", num(AXIS_X - 9.0), num(y));
    m.empty("path", &[("d", &zigzag)]);
    let label = format!("… {} later", millis(gap.skipped_us));
    m.element(
        "text",
        &[("x", &num(AXIS_X + 16.0)), ("y", &num(y + 4.0))],
        &label,
    );
    m.close("g");
}

fn step(m: &mut Markup, title: &str, row: &Row, layout: &Layout) {
    m.open(
        "g",
        &[("class", "step"), ("data-us", &row.at_us.to_string())],
    );
    let y = row.y;
    m.empty(
        "line",
        &[
            ("x1", &num(AXIS_X)),
            ("y1", &num(y + 6.0)),
            ("x2", &num(layout.width - 20.0)),
            ("y2", &num(y + 6.0)),
        ],
    );
    m.element("text", &[("x", &num(AXIS_X + 12.0)), ("y", &num(y))], title);
    m.close("g");
}

/// Microseconds as milliseconds with one decimal, the axis's unit.
pub(super) fn millis(us: u64) -> String {
    format!("{}.{} ms", us / 1_000, us % 1_000 / 100)
}

/// Coordinates to one decimal: enough for a screen, and the same text on every run.
pub(super) fn num(value: f64) -> String {
    format!("{value:.1}")
}

/// The name of lane `lane`, or `?` for an index the recording has no lane for.
pub(super) fn lane_name(recording: &Recording, lane: LaneId) -> &str {
    recording.lanes.get(lane).map_or("?", |l| l.name.as_str())
}
