//! The demo's timeline page in a real browser: the demo runs and writes
//! `target/hlc-demo/timeline.html`, headless Chromium (Debian `chromium`) loads it, and the
//! DOM it dumps holds one lane per node, an arrow per message and a refusal mark per refusal
//! of that run. The screenshot stays beside the page, `target/hlc-demo/timeline.png`, to look
//! at.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hlc_examples::demo::{output, recording::LaneKind, timeline, Recording};

const MISSING: &str = "install the Debian package chromium, or run scripts/test";
/// Bounds the demo: nodes that never answer fail the test instead of hanging CI.
const DEMO_LIMIT: Duration = Duration::from_secs(120);
/// Bounds one Chromium run; it starts in a second or two, far longer on a loaded machine.
const CHROMIUM_LIMIT: Duration = Duration::from_secs(120);
/// Room around the picture in the page: its margin and heading.
const PAGE_MARGIN: (u32, u32) = (48, 120);

#[test]
fn chromium_shows_a_lane_per_node_an_arrow_per_message_and_a_refusal_per_refusal() {
    let (recording, page) = run_demo();
    let dom = Chromium::run(&page, &["--dump-dom"]);
    let dom = tl::parse(&dom, tl::ParserOptions::default()).expect("chromium's dom parses");
    let count = |selector: &str| dom.query_selector(selector).map_or(0, Iterator::count);

    let nodes: Vec<_> = recording.nodes().collect();
    assert_eq!(nodes.len(), 3, "client, alpha and beta");
    assert_eq!(count("g.lane"), recording.lanes.len());
    assert_eq!(count("g.lane[data-kind=node]"), nodes.len());
    for (_, node) in &nodes {
        let selector = format!("g.lane[data-node=\"{node}\"]");
        assert_eq!(count(&selector), 1, "one lane for node {node}");
    }
    let sources = recording
        .lanes
        .iter()
        .filter(|l| l.kind == LaneKind::TimeSource);
    assert_eq!(count("g.lane[data-kind=time-source]"), sources.count());

    assert!(recording.messages.len() >= 8, "{:?}", recording.messages);
    assert_eq!(count("g.arrow"), recording.messages.len());
    assert_eq!(recording.refusals.len(), 2, "{:?}", recording.refusals);
    assert_eq!(count("g.refusal"), recording.refusals.len());
    assert_eq!(count("g.arrow.refused"), recording.refusals.len());
    assert_eq!(count("g.ntp-correction"), 1);
    // Each refusal's reason is on hover: its <title>, which names the bound.
    for refusal in dom.query_selector("g.refusal").into_iter().flatten() {
        let text = refusal
            .get(dom.parser())
            .map(|g| g.inner_text(dom.parser()));
        let text = text.unwrap_or_default();
        assert!(text.contains("max offset"), "no reason on hover: {text:?}");
    }

    let screenshot = page.with_extension("png");
    let (width, height) = timeline::size(&recording);
    let window = format!(
        "--window-size={},{}",
        width + PAGE_MARGIN.0,
        height + PAGE_MARGIN.1
    );
    let shot = format!("--screenshot={}", screenshot.display());
    Chromium::run(&page, &[&shot, &window, "--hide-scrollbars"]);
    let png = std::fs::read(&screenshot).expect("chromium wrote the screenshot");
    assert!(
        png.starts_with(b"\x89PNG"),
        "not a png: {}",
        screenshot.display()
    );
}

/// Runs the demo as `cargo run --example demo` does and writes its page where the demo
/// does: the recording and the page's path.
fn run_demo() -> (Recording, PathBuf) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = runtime
        .block_on(async { tokio::time::timeout(DEMO_LIMIT, hlc_examples::demo::run()).await })
        .expect("the demo finished in time")
        .expect("the demo ran");
    let page = output::default_timeline_path();
    output::write(&page, &timeline::page(&report.timeline)).expect("the page is written");
    (report.timeline, page)
}

/// A headless Chromium run, killed if it outlives the test.
struct Chromium {
    child: Child,
}

impl Chromium {
    /// Loads `page` with `args` in a fresh profile; what it printed. Off every network: no
    /// background fetches, updates, sync or QUIC.
    fn run(page: &Path, args: &[&str]) -> String {
        let profile = tempfile::tempdir().expect("a profile dir");
        let stdout = profile.path().join("stdout");
        let stderr = profile.path().join("stderr");
        let user_data = format!("--user-data-dir={}", profile.path().join("data").display());
        let url = format!(
            "file://{}",
            page.canonicalize().expect("the page").display()
        );
        let child = Command::new(binary())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                &user_data,
            ])
            .args(args)
            .arg(&url)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("a stdout file"))
            .stderr(File::create(&stderr).expect("a stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run chromium ({e}): {MISSING}"));
        let mut browser = Self { child };
        let deadline = Instant::now() + CHROMIUM_LIMIT;
        let status = loop {
            if let Some(status) = browser.child.try_wait().expect("chromium's status") {
                break status;
            }
            let errors = std::fs::read_to_string(&stderr).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "chromium {args:?} did not finish in {CHROMIUM_LIMIT:?}: {errors}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let errors = std::fs::read_to_string(&stderr).unwrap_or_default();
        assert!(
            status.success(),
            "chromium {args:?} failed: {status}: {errors}"
        );
        std::fs::read_to_string(&stdout).expect("chromium's output")
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Already exited when the test got this far; a kill then fails harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `chromium` on PATH, or where Debian puts it.
fn binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("chromium not found: {MISSING}"))
}
