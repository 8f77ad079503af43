//! The demo's [`Recording`] drawn as one self-contained HTML page: inline SVG and CSS, no
//! script, nothing fetched. One lane per node and per time source; each stamped message an
//! arrow labelled with its stamp and how far that stamp reads from true time; refusals in red
//! with the reason on hover (an SVG `<title>`); restarts, NTP polls, the NTP correction and
//! fencing marked; a time axis in milliseconds since the demo started.
//!
//! Pure: a recording in, text out. Every part has a class a test can count (`lane` with
//! `data-node`, `arrow`, `refusal`, `mark`, `step`, `break`) and an id
//! (`lane-N`, `message-N`, `refusal-N`, `mark-N`, N its index in the recording).

mod draw;
mod layout;
mod marks;
mod markup;
mod messages;

use super::recording::{MarkKind, Recording};
use layout::Layout;
use markup::Markup;

/// The SVG's style sheet, inside the SVG so that the picture stands alone.
const STYLE: &str = include_str!("style.css");

/// Arrowheads for the arrows, plain and refused.
const DEFS: &str = "<defs>\
<marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0 L10 5 L0 10 z\" fill=\"#2a6f97\"/></marker>\
<marker id=\"head-refused\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0 L10 5 L0 10 z\" fill=\"#c0262d\"/></marker>\
</defs>\n";

/// The page's own style, around the picture.
const PAGE_STYLE: &str =
    "body { font-family: \"DejaVu Sans\", Arial, sans-serif; margin: 16px; color: #222; }\n\
h1 { font-size: 20px; margin: 0 0 4px; }\n\
p { margin: 4px 0 12px; font-size: 13px; color: #445; }\n";

/// What the picture says about its axis, under it.
const CAPTION: &str = "Rows run down in the order things happened; the axis gives each row's \
time in ms since the demo started, and a grey band stands for a pause left out. \
Hover a refusal for its reason.";

/// The width and height of the picture, in CSS pixels: a screenshot of the page needs a
/// window this size (plus the page's margin and heading).
pub fn size(recording: &Recording) -> (u32, u32) {
    let layout = Layout::new(recording);
    (layout.width.ceil() as u32, layout.height.ceil() as u32)
}

/// The picture alone, a standalone SVG document.
pub fn svg(recording: &Recording) -> String {
    let mut m = Markup::default();
    m.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    m.append(picture(recording));
    m.finish()
}

/// The page: a heading, a one-line summary and the picture.
pub fn page(recording: &Recording) -> String {
    let mut m = Markup::default();
    m.raw("<!DOCTYPE html>\n");
    m.open("html", &[("lang", "en")]);
    m.open("head", &[]);
    m.empty("meta", &[("charset", "utf-8")]);
    m.element("title", &[], "hlc demo: timeline");
    m.open("style", &[]).raw(PAGE_STYLE).close("style");
    m.close("head");
    m.open("body", &[]);
    m.element("h1", &[], "hlc demo: what the cluster did");
    m.element("p", &[("class", "summary")], &summary(recording));
    m.append(picture(recording));
    m.close("body");
    m.close("html");
    m.finish()
}

/// `4 lanes, 8 messages, 2 refusals, 1 NTP poll, 1 NTP correction, no fencing`.
pub fn summary(recording: &Recording) -> String {
    let marks =
        |kind: fn(&MarkKind) -> bool| recording.marks.iter().filter(|m| kind(&m.kind)).count();
    let polls = marks(|k| matches!(k, MarkKind::NtpPoll { .. }));
    let corrections = marks(|k| matches!(k, MarkKind::NtpCorrection));
    let fences = marks(|k| matches!(k, MarkKind::Fenced));
    let fencing = match fences {
        0 => "no fencing".to_owned(),
        n => format!("fenced {}", counted(n, "time")),
    };
    format!(
        "{}, {}, {}, {}, {}, {fencing}",
        counted(recording.lanes.len(), "lane"),
        counted(recording.messages.len(), "message"),
        counted(recording.refusals.len(), "refusal"),
        counted(polls, "NTP poll"),
        counted(corrections, "NTP correction"),
    )
}

/// `1 message`, `2 messages`.
fn counted(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

fn picture(recording: &Recording) -> Markup {
    let layout = Layout::new(recording);
    let (width, height) = (
        format!("{:.0}", layout.width),
        format!("{:.0}", layout.height),
    );
    let view_box = format!("0 0 {width} {height}");
    let mut m = Markup::default();
    m.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("class", "timeline"),
            ("width", &width),
            ("height", &height),
            ("viewBox", &view_box),
            ("role", "img"),
        ],
    );
    m.element(
        "title",
        &[],
        &format!("hlc demo timeline: {}", summary(recording)),
    );
    m.open("style", &[]).raw(STYLE).close("style");
    m.raw(DEFS);
    m.empty(
        "rect",
        &[("width", "100%"), ("height", "100%"), ("fill", "#fff")],
    );
    m.append(draw::body(recording, &layout));
    let caption_y = format!("{:.1}", layout.height - 18.0);
    m.element(
        "text",
        &[("class", "caption-line"), ("x", "16"), ("y", &caption_y)],
        CAPTION,
    );
    m.close("svg");
    m
}

#[cfg(test)]
mod tests;
