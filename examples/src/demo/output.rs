//! Where the demo writes its timeline page: the one place that knows the path.

use std::io;
use std::path::{Path, PathBuf};

/// Set to a path to write the timeline page there instead of [`default_timeline_path`].
pub const TIMELINE_ENV: &str = "HLC_DEMO_TIMELINE";

/// The directory under the target directory that holds the demo's output.
pub const OUTPUT_DIR: &str = "hlc-demo";

/// The workspace's target directory: `CARGO_TARGET_DIR` when set (cargo builds there then),
/// else `target/` at the workspace root this crate was built in.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")))
            .join("target"),
    }
}

/// `target/hlc-demo/timeline.html` (see [`target_dir`]), or [`TIMELINE_ENV`] when set.
pub fn default_timeline_path() -> PathBuf {
    match std::env::var_os(TIMELINE_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => target_dir().join(OUTPUT_DIR).join("timeline.html"),
    }
}

/// Writes `contents` to `path`, creating its directory first.
///
/// # Errors
/// When the directory cannot be created or the file cannot be written.
pub fn write(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, contents)
}
