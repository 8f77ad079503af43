//! A one-shot query: a short burst of polls to each server, then one selection. What
//! `ntp-sync query` runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hlc_core::{PhysicalClock, SystemClock};

use crate::lock::lock;
use crate::net::{poll_once, resolve, socket_for};
use crate::proto::engine::SourceReport;
use crate::proto::engine::{Engine, EngineConfig, Evaluation};
use crate::proto::poll::PollConfig;
use crate::proto::source::PollFailure;
use crate::readings::local_nanos;

/// How to query.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct QueryOptions {
    /// Polls per server; the filter keeps the one with the least delay.
    pub samples: u8,
    /// Wait for each response (default
    /// [`DEFAULT_TIMEOUT`](crate::proto::poll::DEFAULT_TIMEOUT)).
    pub timeout: Duration,
    /// Pause between a server's polls.
    pub spacing: Duration,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            samples: 4,
            timeout: crate::proto::poll::DEFAULT_TIMEOUT,
            spacing: Duration::from_millis(250),
        }
    }
}

/// The result of a query.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct QueryReport {
    /// The selection at the end of the burst.
    pub evaluation: Evaluation,
    /// Every server, in the order given.
    pub sources: Vec<SourceReport>,
    /// Local time of the selection, nanoseconds since the Unix epoch.
    pub at_nanos: i64,
}

/// Queries every server in `servers` at once against the system clock.
pub async fn query(servers: &[String], options: QueryOptions) -> QueryReport {
    query_with_clock(servers, options, Arc::new(SystemClock)).await
}

/// Like [`query`], measuring against `clock`.
pub async fn query_with_clock(
    servers: &[String],
    options: QueryOptions,
    clock: Arc<dyn PhysicalClock>,
) -> QueryReport {
    let engine = query_engine(servers, options, clock.resolution());
    let engine = Arc::new(Mutex::new(engine));
    let mut burst = tokio::task::JoinSet::new();
    for (index, server) in servers.iter().enumerate() {
        let (engine, clock, server) = (Arc::clone(&engine), Arc::clone(&clock), server.clone());
        burst.spawn(async move { poll_server(&engine, index, &server, &*clock, options).await });
    }
    while burst.join_next().await.is_some() {}
    let at_nanos = local_nanos(&*clock);
    let (evaluation, sources) = lock(&engine).report(at_nanos);
    QueryReport {
        evaluation,
        sources,
        at_nanos,
    }
}

fn query_engine(servers: &[String], options: QueryOptions, resolution: Duration) -> Engine {
    let poll = PollConfig {
        timeout: options.timeout,
        ..PollConfig::default()
    };
    // Every server has had all its polls by the end: none is still undecided.
    let config = EngineConfig {
        poll,
        undecided_polls: 0,
        ..EngineConfig::default()
    }
    .with_clock_resolution(resolution);
    let mut engine = Engine::new(config);
    for server in servers {
        engine.add_source(server.clone(), None);
    }
    engine
}

async fn poll_server(
    engine: &Mutex<Engine>,
    index: usize,
    server: &str,
    clock: &dyn PhysicalClock,
    options: QueryOptions,
) {
    let socket = match resolve(server).await {
        Ok(address) => socket_for(address).await.map(|socket| (address, socket)),
        Err(failure) => Err(failure),
    };
    let (address, socket) = match socket {
        Ok(found) => found,
        Err(failure) => return record(engine, index, failure),
    };
    lock(engine).source_mut(index).set_address(address);
    for sample in 0..options.samples {
        if sample > 0 {
            tokio::time::sleep(options.spacing).await;
        }
        let polled = poll_once(&socket, engine, index, address, clock, options.timeout).await;
        if lock(engine).next_poll_in(index).is_none() || polled.is_err_and(|f| is_kiss(&f)) {
            break;
        }
    }
}

fn is_kiss(failure: &PollFailure) -> bool {
    matches!(
        failure,
        PollFailure::Response(crate::proto::validate::ResponseError::KissOfDeath(_))
    )
}

fn record(engine: &Mutex<Engine>, index: usize, failure: PollFailure) {
    let mut engine = lock(engine);
    engine.begin_poll(index, 0);
    engine.on_failure(index, failure);
}
