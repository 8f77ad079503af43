//! [`PingService`]: answers with this node's physical clock reading.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use hlc_core::{NodeId, PhysicalClock};
use http::{header, Request, Response};
use tower::Service;

use super::PingAnswer;

/// A tower service answering every request with `200` and a [`PingAnswer`]: `node` and
/// `clock`'s reading when the request arrived. Give it the same physical clock the node's
/// [`Hlc`](hlc_core::Hlc) reads, so that peers measure the clock this node stamps with.
#[derive(Debug, Clone)]
pub struct PingService<C> {
    clock: C,
    node: NodeId,
}

impl<C: PhysicalClock> PingService<C> {
    /// Answers for `node`, reading `clock`.
    pub fn new(clock: C, node: NodeId) -> Self {
        Self { clock, node }
    }

    /// The answer it gives now.
    pub fn answer(&self) -> PingAnswer {
        PingAnswer {
            node_id: self.node,
            physical_us: self.clock.now_micros(),
        }
    }
}

impl<C: PhysicalClock, B> Service<Request<B>> for PingService<C> {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        let mut response = Response::new(self.answer().to_json());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        ready(Ok(response))
    }
}
