//! [`Prober`]: pings peers through a client stack and feeds the exchanges to a monitor.

use std::fmt::{self, Display};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use hlc_core::peers::{ExchangeError, Measurement, PeerMonitor, PingExchange, Round};
use hlc_core::{NodeId, PhysicalClock};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use tower::Service;

use super::{PingAnswer, PingAnswerError};

/// How long one ping may take before it counts as unanswered: a peer that slow measures
/// nothing useful (its uncertainty would be half of this), and the round must go on.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Why one ping measured nothing. The monitor is left unchanged by it; a peer that keeps
/// failing turns stale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PingError {
    /// Connecting, sending or reading failed.
    #[error("ping failed: {0}")]
    Transport(String),
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// The peer answered with a status other than `200`.
    #[error("the peer answered {0}")]
    Status(StatusCode),
    /// The body is not a ping answer.
    #[error(transparent)]
    Answer(#[from] PingAnswerError),
    /// The readings measure nothing (this node's clock stepped back in between).
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// What one ping gave: the peer that answered and what it measured, or why nothing.
pub type PingOutcome = Result<(NodeId, Measurement), PingError>;

/// One probing round: what each peer's ping measured (in the order the targets were added,
/// each with its label), and the monitor's verdict after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRound {
    /// Per target: its label, and the peer and measurement, or why there is none.
    pub pings: Vec<(String, PingOutcome)>,
    /// The monitor's [`evaluate`](PeerMonitor::evaluate) after the pings.
    pub round: Round,
}

/// Pings a fixed set of peers through `client` (any tower HTTP client service: hyper-util's,
/// say, *without* the HLC client layer, see the [module docs](super)) and records each
/// exchange in a shared [`PeerMonitor`].
///
/// Readings of `clock` (this node's physical clock, the one its `Hlc` reads) are taken just
/// before the request is handed to the client and just after the answer's body is read, so
/// the round trip (and so the uncertainty) covers everything in between: an exchange can
/// only be pessimistic, never falsely precise.
pub struct Prober<S, C> {
    client: S,
    clock: C,
    monitor: Arc<Mutex<PeerMonitor>>,
    targets: Vec<(String, Uri)>,
    timeout: Duration,
}

impl<S, C, B> Prober<S, C>
where
    S: Service<Request<String>, Response = Response<B>> + Clone,
    S::Error: Display,
    B: http_body::Body,
    B::Error: Display,
    C: PhysicalClock,
{
    /// A prober with no targets and [`DEFAULT_PING_TIMEOUT`].
    pub fn new(client: S, clock: C, monitor: Arc<Mutex<PeerMonitor>>) -> Self {
        Self {
            client,
            clock,
            monitor,
            targets: Vec::new(),
            timeout: DEFAULT_PING_TIMEOUT,
        }
    }

    /// Adds a peer: `ping_url` is the full URL of its ping route; `label` names it in
    /// [`ProbeRound`] (its base URL, say).
    pub fn target(mut self, label: impl Into<String>, ping_url: Uri) -> Self {
        self.targets.push((label.into(), ping_url));
        self
    }

    /// How long one ping may take (default [`DEFAULT_PING_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The monitor it feeds.
    pub fn monitor(&self) -> &Arc<Mutex<PeerMonitor>> {
        &self.monitor
    }

    /// One round: pings every target in turn (each bounded by the timeout, measured with
    /// `sleep`, e.g. `tokio::time::sleep`), records what they measured, then evaluates.
    pub async fn round<Sl, F>(&self, mut sleep: Sl) -> ProbeRound
    where
        Sl: FnMut(Duration) -> F,
        F: Future<Output = ()>,
    {
        let mut pings = Vec::with_capacity(self.targets.len());
        for (label, url) in &self.targets {
            let outcome = match within(sleep(self.timeout), self.ping(url)).await {
                Some(Ok(exchange)) => self.record(exchange),
                Some(Err(error)) => Err(error),
                None => Err(PingError::TimedOut(self.timeout)),
            };
            pings.push((label.clone(), outcome));
        }
        let round = self.lock().evaluate(Instant::now());
        ProbeRound { pings, round }
    }

    /// A round every `interval` (the first at once), forever; `on_round` sees each.
    pub async fn run<Sl, F>(
        &self,
        interval: Duration,
        mut sleep: Sl,
        mut on_round: impl FnMut(&ProbeRound),
    ) where
        Sl: FnMut(Duration) -> F,
        F: Future<Output = ()>,
    {
        loop {
            let round = self.round(&mut sleep).await;
            on_round(&round);
            sleep(interval).await;
        }
    }

    async fn ping(&self, url: &Uri) -> Result<PingExchange, PingError> {
        let request = Request::get(url.clone())
            .body(String::new())
            .map_err(transport)?;
        let mut client = self.client.clone();
        poll_fn(|cx| client.poll_ready(cx))
            .await
            .map_err(transport)?;
        let sent_local = self.clock.now_micros();
        let response = client.call(request).await.map_err(transport)?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(transport)?;
        let received_local = self.clock.now_micros();
        if status != StatusCode::OK {
            return Err(PingError::Status(status));
        }
        let answer = PingAnswer::parse(&body.to_bytes())?;
        Ok(PingExchange {
            peer: answer.node_id,
            sent_local,
            received_local,
            peer_physical: answer.physical_us,
        })
    }

    fn record(&self, exchange: PingExchange) -> PingOutcome {
        let measured = self.lock().record(Instant::now(), exchange)?;
        Ok((exchange.peer, measured))
    }

    /// The monitor, even if a thread panicked holding it: its state is updated whole by each
    /// call, so it is never left half-written.
    fn lock(&self) -> std::sync::MutexGuard<'_, PeerMonitor> {
        self.monitor.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S, C> fmt::Debug for Prober<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prober")
            .field("targets", &self.targets)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `work`'s output, or `None` if `limit` completes first. Hand-rolled so that the crate
/// needs no runtime and no futures crate.
async fn within<T>(limit: impl Future<Output = ()>, work: impl Future<Output = T>) -> Option<T> {
    let (mut limit, mut work) = (pin!(limit), pin!(work));
    poll_fn(|cx| {
        if let Poll::Ready(output) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        limit.as_mut().poll(cx).map(|()| None)
    })
    .await
}

fn transport(error: impl Display) -> PingError {
    PingError::Transport(error.to_string())
}
