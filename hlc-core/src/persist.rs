//! Restart monotonicity: an upper bound on issued physical times that survives a restart.
//!
//! CockroachDB's scheme: before the clock issues a timestamp whose physical part exceeds the
//! persisted bound, it persists a new bound `physical + window`. After a restart, even with the
//! system clock set back, the clock starts from the persisted bound, so it never issues a
//! timestamp at or below one it issued before the restart. It starts at once, without waiting
//! for the clock to pass the bound; a bound further ahead than a healthy node leaves behind
//! fails the build instead (see `HlcBuilder::max_stored_lead`).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the upper bound lives. Implement it for your own storage (a database row, etcd key).
pub trait UpperBoundStore: Send + Sync {
    /// The last stored bound in µs since the epoch, or `None` if nothing was stored yet.
    ///
    /// # Errors
    /// Any I/O error, or [`io::ErrorKind::InvalidData`] for a corrupt record.
    fn load(&self) -> io::Result<Option<u64>>;

    /// Durably stores `bound_micros`; it must be on stable storage when this returns.
    ///
    /// # Errors
    /// Any I/O error; the clock counts and reports it and retries one window later.
    fn store(&self, bound_micros: u64) -> io::Result<()>;
}

/// An [`UpperBoundStore`] in a small text file, replaced atomically: the bound is written to a
/// temporary file beside it, fsynced, renamed over the old one, and the directory fsynced, so
/// a crash leaves either the old bound or the new one, never a torn write.
///
/// ```
/// use hlc_core::{FileUpperBound, UpperBoundStore};
///
/// let dir = tempfile::tempdir()?;
/// let store = FileUpperBound::new(dir.path().join("hlc.bound"));
/// assert_eq!(store.load()?, None);
/// store.store(1_700_000_000_000_000)?;
/// assert_eq!(store.load()?, Some(1_700_000_000_000_000));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileUpperBound {
    path: PathBuf,
}

impl FileUpperBound {
    /// A store in the file at `path` (created on the first store).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn temp_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        self.path.with_file_name(name)
    }
}

impl UpperBoundStore for FileUpperBound {
    fn load(&self) -> io::Result<Option<u64>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let digits = text.strip_suffix('\n').unwrap_or(&text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(corrupt(&self.path));
        }
        digits.parse().map(Some).map_err(|_| corrupt(&self.path))
    }

    fn store(&self, bound_micros: u64) -> io::Result<()> {
        let temp = self.temp_path();
        let mut file = fs::File::create(&temp)?;
        writeln!(file, "{bound_micros}")?;
        file.sync_all()?;
        fs::rename(&temp, &self.path)?;
        // The rename is durable only once the directory entry is.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

fn corrupt(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{} does not hold a decimal microsecond bound",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_files_are_errors_not_zero() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileUpperBound::new(dir.path().join("b"));
        for junk in [
            "",
            "\n",
            "12a\n",
            "-5\n",
            "99999999999999999999999\n",
            " 5\n",
        ] {
            fs::write(store.path(), junk).unwrap();
            let err = store.load().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{junk:?}");
        }
    }

    #[test]
    fn store_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileUpperBound::new(dir.path().join("b"));
        store.store(5).unwrap();
        store.store(7).unwrap();
        assert_eq!(store.load().unwrap(), Some(7));
        assert!(!store.temp_path().exists());
    }
}
