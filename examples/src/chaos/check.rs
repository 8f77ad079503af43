//! Placeholder for the checker of a chaos history: counts the requests and finds no
//! violations. The real checker replaces this file.

use super::history::Record;

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    requests: u64,
    restarts: u64,
}

/// Checks a whole history; pure (no I/O, no clock).
pub fn check(history: &[Record]) -> Report {
    let mut report = Report::default();
    for record in history {
        match record {
            Record::Request(_) => report.requests += 1,
            Record::Fault {
                fault: super::history::Fault::Restart { .. },
                ..
            } => report.restarts += 1,
            _ => {}
        }
    }
    report
}

impl Report {
    /// True when there are no violations and no unexpected errors: the script's exit 0.
    pub fn passed(&self) -> bool {
        true
    }

    /// Exactly `chaos: <requests> requests, <errors> unexpected errors, <fencings> fencings,
    /// max lead <ms> ms, <restarts> restarts, rss <a>-><b> MB, <violations> violations`.
    pub fn summary_line(&self) -> String {
        format!(
            "chaos: {} requests, 0 unexpected errors, 0 fencings, max lead 0 ms, {} restarts, \
             rss 0->0 MB, 0 violations",
            self.requests, self.restarts
        )
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "placeholder checker: no invariant checked")?;
        write!(f, "{}", self.summary_line())
    }
}
