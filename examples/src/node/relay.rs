//! The node's way to its peer: hyper-util's client, with the client layer when layers are on.

use std::fmt::Display;
use std::sync::Arc;

use bytes::Bytes;
use hlc_core::health::{HealthBoard, UnhealthyReason};
use hlc_core::{Hlc, Timestamp};
use hlc_middleware::{
    ClientError, HlcClientLayer, LayerObserver, MergedTimestamp, Refusal, SigningKeys,
};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Layer, ServiceExt};

use super::{NodeClock, NodeConfig};

/// A pooled HTTP/1 client to the peer.
#[derive(Debug, Clone)]
pub(super) enum PeerClient {
    /// Stamps requests and merges (or refuses) answers.
    Stamped(hlc_middleware::hyper::HyperClient<Empty<Bytes>, NodeClock>),
    /// No HLC at all, for `--no-hlc`.
    Plain(Client<HttpConnector, Empty<Bytes>>),
}

/// The peer's answer, read in full.
#[derive(Debug)]
pub(super) struct PeerAnswer {
    pub(super) status: StatusCode,
    /// The local receive stamp, when the client layer merged the answer's header.
    pub(super) merged: Option<Timestamp>,
    pub(super) body: Bytes,
}

/// Why the peer gave no answer.
#[derive(Debug)]
pub(super) enum RelayError {
    /// The client layer refused the peer's answer; the clock did not move.
    Refused(Refusal),
    /// The client layer sent nothing: this node's own clock is untrusted.
    NotSent(UnhealthyReason),
    /// Connecting or talking to the peer failed.
    Transport(String),
}

impl PeerClient {
    /// With the layers on: signing with `keys` (and applying the config's unsigned policy to
    /// answers) when given, sending nothing while `health` says the clock is untrusted, and
    /// telling `observer` what the client layer does.
    pub(super) fn new(
        hlc: &Arc<Hlc<NodeClock>>,
        config: &NodeConfig,
        keys: Option<SigningKeys>,
        health: Option<HealthBoard>,
        observer: Arc<dyn LayerObserver>,
    ) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        if !config.hlc_layers {
            return Self::Plain(client);
        }
        let mut layer = HlcClientLayer::new(Arc::clone(hlc))
            .unsigned(config.unsigned)
            .observer(observer);
        if let Some(keys) = keys {
            layer = layer.signing_keys(keys);
        }
        if let Some(board) = health {
            layer = layer.health(board);
        }
        Self::Stamped(layer.layer(client))
    }

    /// `GET uri`, through the client layer when it is on.
    pub(super) async fn get(&self, uri: Uri) -> Result<PeerAnswer, RelayError> {
        let request = Request::get(uri).body(Empty::new()).map_err(transport)?;
        match self {
            Self::Stamped(client) => match client.clone().oneshot(request).await {
                Ok(response) => read(response).await,
                Err(ClientError::Refused(refusal)) => Err(RelayError::Refused(refusal)),
                Err(ClientError::ClockUntrusted(reason)) => Err(RelayError::NotSent(reason)),
                Err(other) => Err(transport(other)),
            },
            Self::Plain(client) => read(client.request(request).await.map_err(transport)?).await,
        }
    }
}

async fn read<B>(response: Response<B>) -> Result<PeerAnswer, RelayError>
where
    B: http_body::Body,
    B::Error: Display,
{
    let status = response.status();
    let merged = response.extensions().get::<MergedTimestamp>().map(|m| m.0);
    let body = response.into_body().collect().await.map_err(transport)?;
    Ok(PeerAnswer {
        status,
        merged,
        body: body.to_bytes(),
    })
}

fn transport(error: impl Display) -> RelayError {
    RelayError::Transport(error.to_string())
}
