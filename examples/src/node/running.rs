//! A node serving in the background of the current process, for the demo and the tests.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Node, NodeConfig};

/// A node serving on a loopback port until [`stop`](Self::stop).
#[derive(Debug)]
pub struct RunningNode {
    node: Arc<Node>,
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl RunningNode {
    /// Starts a node on `listener` (bind `127.0.0.1:0` for a free port).
    ///
    /// # Errors
    /// When the listener has no local address or the clock cannot be built.
    pub fn spawn(listener: TcpListener, config: NodeConfig) -> io::Result<Self> {
        let address = listener.local_addr()?;
        let node = Node::new(config)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            // A dropped sender stops the node as well.
            let _ = stopped.await;
        };
        let task = tokio::spawn(Arc::clone(&node).serve(listener, shutdown));
        Ok(Self {
            node,
            address,
            stop,
            task,
        })
    }

    /// The node's state and clock.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://ADDRESS`, the node's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops accepting, lets the requests in flight finish, and waits for the server to end.
    ///
    /// # Errors
    /// When the server failed, or its task panicked.
    pub async fn stop(self) -> io::Result<()> {
        let _ = self.stop.send(());
        self.task.await.map_err(io::Error::other)?
    }
}
