//! tonic: the server layer goes into `Server::builder().layer(..)` as it is, and
//! [`client_layer`] wraps a `Channel` so that refused responses become `tonic::Status`.
//!
//! On the server, a gRPC request (content-type `application/grpc*`) from a peer too far ahead
//! is answered with `grpc-status` 9, FAILED_PRECONDITION, without reaching the service; a
//! malformed header gets 3, INVALID_ARGUMENT, and, with signing keys and
//! [`UnsignedPolicy::Refuse`](crate::UnsignedPolicy::Refuse), an unsigned or badly signed
//! stamp gets 16, UNAUTHENTICATED. Handlers read the stamps from the request
//! extensions, which tonic carries over: `request.extensions().get::<MergedTimestamp>()`.
//!
//! On the client, [`client_layer`] is [`HlcClientLayer`] with its
//! errors mapped by [`status`]: a response stamped too far ahead becomes FAILED_PRECONDITION,
//! and a request held back because the local clock is untrusted becomes UNAVAILABLE. A
//! server with a [health board](crate::HlcServerLayer::health) answers UNAVAILABLE (`14`) while
//! its own clock is untrusted.
//!
//! ```no_run
//! use std::sync::Arc;
//! use hlc_middleware::HlcServerLayer;
//! use tonic::transport::{Channel, Server};
//! use tonic_health::pb::health_client::HealthClient;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let hlc = Arc::new(hlc_core::Hlc::new());
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! let server = Server::builder()
//!     .layer(HlcServerLayer::new(hlc.clone()))
//!     .add_service(health)
//!     .serve("127.0.0.1:50051".parse()?);
//!
//! let channel = Channel::from_static("http://127.0.0.1:50051").connect().await?;
//! let stamped = tower::ServiceBuilder::new()
//!     .layer(hlc_middleware::tonic::client_layer(hlc))
//!     .service(channel);
//! let mut client = HealthClient::new(stamped);
//! # let _ = (server, &mut client);
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use ::tonic::Status;
use hlc_core::{Hlc, PhysicalClock, SystemClock};
use tower::layer::util::Stack;
use tower::util::MapErrLayer;

use crate::client::{ClientError, HlcClientLayer};
use crate::refusal::Refusal;

/// The error boxed by tonic's transport.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// [`HlcClientLayer`] whose errors are `tonic::Status`, around a service failing with `E`.
pub type GrpcClientLayer<E, C = SystemClock> =
    Stack<HlcClientLayer<C>, MapErrLayer<fn(ClientError<E>) -> Status>>;

/// The client layer for a tonic `Channel` (or any gRPC transport failing with `E`).
pub fn client_layer<E, C>(hlc: Arc<Hlc<C>>) -> GrpcClientLayer<E, C>
where
    E: Into<BoxError>,
    C: PhysicalClock,
{
    with_status(HlcClientLayer::new(hlc))
}

/// A configured [`HlcClientLayer`] with its errors mapped by [`status`].
pub fn with_status<E, C>(layer: HlcClientLayer<C>) -> GrpcClientLayer<E, C>
where
    E: Into<BoxError>,
{
    Stack::new(
        layer,
        MapErrLayer::new(status::<E> as fn(ClientError<E>) -> Status),
    )
}

/// The gRPC status for a client-side error: FAILED_PRECONDITION for a response stamped too
/// far ahead, UNAUTHENTICATED for one unsigned or badly signed (under
/// [`UnsignedPolicy::Refuse`](crate::UnsignedPolicy::Refuse)), INTERNAL for a malformed or
/// missing header, UNAVAILABLE for a request not sent because the local clock is untrusted
/// (see [`HlcClientLayer::health`]), and the transport's own status otherwise.
pub fn status<E: Into<BoxError>>(error: ClientError<E>) -> Status {
    match error {
        ClientError::Service(error) => Status::from_error(error.into()),
        ClientError::Refused(refusal @ Refusal::TooFarAhead { .. }) => {
            Status::failed_precondition(format!("response refused: {refusal}"))
        }
        ClientError::Refused(refusal @ Refusal::Signature(_)) => {
            Status::unauthenticated(format!("response refused: {refusal}"))
        }
        ClientError::Refused(refusal) => Status::internal(format!("response refused: {refusal}")),
        ClientError::ClockUntrusted(reason) => {
            Status::unavailable(format!("request not sent: local clock untrusted: {reason}"))
        }
    }
}
