//! The five NTP responders the nodes correct their clocks against, in the harness's process
//! on the system clock (true time here): three stay honest, one starts lying and one goes
//! silent during the run.

use std::io;
use std::time::Duration;

use ntp_sync::{Behaviour, Fault, Responder};

use super::schedule::RESPONDERS;

/// How far the lying responder is ahead: three times max offset, so that a node following
/// it would be fenced at once, while the honest majority outvotes it.
pub const LIE: Duration = Duration::from_millis(1_500);

/// The responders, on `127.0.0.1` ports of their own choosing.
#[derive(Debug)]
pub(super) struct NtpSources {
    responders: Vec<Responder>,
}

impl NtpSources {
    /// Binds [`RESPONDERS`] honest responders.
    pub(super) async fn start() -> io::Result<Self> {
        let mut responders = Vec::with_capacity(RESPONDERS);
        for _ in 0..RESPONDERS {
            responders.push(Responder::bind("127.0.0.1:0").await?);
        }
        Ok(Self { responders })
    }

    /// `host:port` of each, for `--ntp`.
    pub(super) fn addresses(&self) -> Vec<String> {
        self.responders
            .iter()
            .map(|r| r.local_addr().to_string())
            .collect()
    }

    /// Responder `index` answers [`LIE`] ahead from now on.
    pub(super) fn lie(&self, index: usize) {
        let nanos = i64::try_from(LIE.as_nanos()).unwrap_or(i64::MAX);
        self.set(index, Fault::Offset { nanos });
    }

    /// Responder `index` stops answering.
    pub(super) fn silence(&self, index: usize) {
        self.set(index, Fault::Silence);
    }

    fn set(&self, index: usize, fault: Fault) {
        if let Some(responder) = self.responders.get(index) {
            responder.set_behaviour(Behaviour::default().with(fault));
        }
    }

    /// Stops them all.
    pub(super) async fn shutdown(self) {
        for responder in self.responders {
            responder.shutdown().await;
        }
    }
}
