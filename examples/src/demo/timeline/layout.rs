//! Where everything goes. Time runs down the page, one row per message, mark or step in the
//! order they happened, as in a sequence diagram: on loopback a whole exchange takes less
//! than a millisecond and the NTP polls come half a second apart, so a linear scale would
//! draw either a blur or a blank page. The axis gives each row's time in milliseconds
//! instead, and a pause longer than [`BREAK_AFTER_US`] is drawn as a break naming its length.

use super::super::recording::{LaneId, Recording};

/// Where the time axis runs.
pub(super) const AXIS_X: f64 = 88.0;
/// The first lane's centre, and the distance between lanes: room for a stamp's text form.
const FIRST_LANE_X: f64 = 230.0;
const LANE_GAP: f64 = 280.0;
/// Room right of the last lane for its marks' labels.
const RIGHT_MARGIN: f64 = 150.0;
/// Where the lanes' lines start, under their names.
pub(super) const LANES_TOP: f64 = 58.0;
/// The first row's top.
const ROWS_TOP: f64 = 74.0;
/// A pause longer than this between two rows is drawn as a break (20 ms).
pub(super) const BREAK_AFTER_US: u64 = 20_000;
const BREAK_HEIGHT: f64 = 34.0;
/// Room under the last row for the caption.
const FOOTER: f64 = 58.0;

/// What a row holds: an index into the recording's list of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item {
    Step(usize),
    Message(usize),
    /// A refusal without a recorded message (one with a message sits on its arrow).
    Refusal(usize),
    Mark(usize),
}

impl Item {
    /// Room above and below the row's line, in pixels.
    fn room(self) -> (f64, f64) {
        match self {
            Self::Step(_) => (30.0, 12.0),
            Self::Message(_) => (22.0, 22.0),
            Self::Refusal(_) | Self::Mark(_) => (16.0, 12.0),
        }
    }
}

/// One row: its item, when it happened, and the y of its line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Row {
    pub(super) item: Item,
    pub(super) at_us: u64,
    pub(super) y: f64,
}

/// A pause left out between two rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Break {
    pub(super) y: f64,
    pub(super) skipped_us: u64,
}

/// The rows, the breaks, and the picture's size.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Layout {
    pub(super) rows: Vec<Row>,
    pub(super) breaks: Vec<Break>,
    pub(super) width: f64,
    pub(super) height: f64,
}

impl Layout {
    pub(super) fn new(recording: &Recording) -> Self {
        let mut rows = Vec::new();
        let mut breaks = Vec::new();
        let mut previous: Option<(Row, f64)> = None;
        for (item, at_us) in items(recording) {
            let (above, below) = item.room();
            let y = match previous {
                None => ROWS_TOP + above,
                Some((row, row_below)) => {
                    let mut y = row.y + row_below + above;
                    let pause = at_us.saturating_sub(row.at_us);
                    if pause > BREAK_AFTER_US {
                        breaks.push(Break {
                            y: row.y + row_below + BREAK_HEIGHT / 2.0,
                            skipped_us: pause,
                        });
                        y += BREAK_HEIGHT;
                    }
                    y
                }
            };
            let row = Row { item, at_us, y };
            rows.push(row);
            previous = Some((row, below));
        }
        let bottom = previous.map_or(ROWS_TOP, |(row, below)| row.y + below);
        let lanes = recording.lanes.len().max(1);
        Self {
            rows,
            breaks,
            width: lane_x(lanes - 1) + RIGHT_MARGIN,
            height: bottom + FOOTER,
        }
    }

    /// The y of message `index`'s arrow.
    pub(super) fn message_y(&self, index: usize) -> Option<f64> {
        self.rows
            .iter()
            .find(|row| row.item == Item::Message(index))
            .map(|row| row.y)
    }

    /// Where the lanes' lines end.
    pub(super) fn lanes_bottom(&self) -> f64 {
        self.height - FOOTER + 8.0
    }
}

/// The centre of lane `lane`.
pub(super) fn lane_x(lane: LaneId) -> f64 {
    FIRST_LANE_X + LANE_GAP * lane as f64
}

/// Every item with its time, in the order they happened; at the same microsecond a step
/// comes first, then the rest in the order they were recorded.
fn items(recording: &Recording) -> Vec<(Item, u64)> {
    let steps = recording.steps.iter().enumerate();
    let messages = recording.messages.iter().enumerate();
    let loose_refusals = recording
        .refusals
        .iter()
        .enumerate()
        .filter(|(_, refusal)| {
            refusal
                .message
                .is_none_or(|index| index >= recording.messages.len())
        });
    let mut items: Vec<(Item, u64)> = steps
        .map(|(i, step)| (Item::Step(i), step.at_us))
        .chain(messages.map(|(i, message)| (Item::Message(i), message.sent_us)))
        .chain(loose_refusals.map(|(i, refusal)| (Item::Refusal(i), refusal.at_us)))
        .chain(
            recording
                .marks
                .iter()
                .enumerate()
                .map(|(i, mark)| (Item::Mark(i), mark.at_us)),
        )
        .collect();
    items.sort_by_key(|&(item, at_us)| (at_us, !matches!(item, Item::Step(_))));
    items
}
