//! [`ServiceBuilderExt`]: the layers as `ServiceBuilder` methods.

use std::sync::Arc;

use hlc_core::{Hlc, PhysicalClock};
use tower::layer::util::Stack;
use tower::ServiceBuilder;

use crate::client::HlcClientLayer;
use crate::server::HlcServerLayer;

mod sealed {
    pub trait Sealed<L> {}
}

impl<L> sealed::Sealed<L> for ServiceBuilder<L> {}

/// Adds the layers of this crate to tower's [`ServiceBuilder`]. Sealed: implemented only
/// there.
///
/// These add the layers with their defaults. A layer with a health board, signing keys,
/// policies or an observer is built first and given to `ServiceBuilder::layer`:
/// `.layer(HlcServerLayer::new(hlc).health(board).signing_keys(keys))`.
///
/// [`ServiceBuilder`]: https://docs.rs/tower/0.5/tower/struct.ServiceBuilder.html
///
/// ```
/// use std::sync::Arc;
/// use hlc_middleware::ServiceBuilderExt;
/// use tower::ServiceBuilder;
///
/// let hlc = Arc::new(hlc_core::Hlc::new());
/// let server = ServiceBuilder::new().hlc_server(hlc.clone());
/// let client = ServiceBuilder::new().hlc_client(hlc);
/// # let _ = (server, client);
/// ```
pub trait ServiceBuilderExt<L>: sealed::Sealed<L> + Sized {
    /// Adds [`HlcServerLayer::new`] on `hlc`.
    fn hlc_server<C: PhysicalClock>(
        self,
        hlc: Arc<Hlc<C>>,
    ) -> ServiceBuilder<Stack<HlcServerLayer<C>, L>>;

    /// Adds [`HlcClientLayer::new`] on `hlc`.
    fn hlc_client<C: PhysicalClock>(
        self,
        hlc: Arc<Hlc<C>>,
    ) -> ServiceBuilder<Stack<HlcClientLayer<C>, L>>;
}

impl<L> ServiceBuilderExt<L> for ServiceBuilder<L> {
    fn hlc_server<C: PhysicalClock>(
        self,
        hlc: Arc<Hlc<C>>,
    ) -> ServiceBuilder<Stack<HlcServerLayer<C>, L>> {
        self.layer(HlcServerLayer::new(hlc))
    }

    fn hlc_client<C: PhysicalClock>(
        self,
        hlc: Arc<Hlc<C>>,
    ) -> ServiceBuilder<Stack<HlcClientLayer<C>, L>> {
        self.layer(HlcClientLayer::new(hlc))
    }
}
