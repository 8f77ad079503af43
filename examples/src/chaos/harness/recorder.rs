//! Writes the history as the run goes: every task sends its records to one writer task,
//! which appends them a line each and flushes whenever it has caught up, so that a run cut
//! short still leaves what happened until then.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::chaos::history::{write_record, Record};

/// The harness's clock, which stands for true time: the system clock, in µs since the epoch.
pub(super) fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A sender of records; clones send to the same history.
#[derive(Debug, Clone)]
pub(super) struct Recorder {
    records: mpsc::UnboundedSender<Record>,
}

/// The task writing the history; [`finish`](Self::finish) once every [`Recorder`] is gone.
#[derive(Debug)]
pub(super) struct Writer {
    task: JoinHandle<io::Result<()>>,
}

/// A recorder writing to a new file at `path`, and its writer.
pub(super) fn create(path: &Path) -> io::Result<(Recorder, Writer)> {
    let mut out = BufWriter::new(File::create(path)?);
    let (records, mut received) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Some(record) = received.recv().await {
            write_record(&mut out, &record)?;
            while let Ok(record) = received.try_recv() {
                write_record(&mut out, &record)?;
            }
            out.flush()?;
        }
        out.flush()
    });
    Ok((Recorder { records }, Writer { task }))
}

impl Recorder {
    /// Records `record` (dropped only if the writer has failed, which `finish` reports).
    pub(super) fn record(&self, record: Record) {
        let _ = self.records.send(record);
    }
}

impl Writer {
    /// Waits until every record sent is written: call it after dropping every recorder.
    ///
    /// # Errors
    /// What writing the history failed with.
    pub(super) async fn finish(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }
}
