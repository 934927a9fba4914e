//! Stopping without dropping requests: first stop accepting, then drain.
//!
//! A connection a worker has accepted but whose request it has not read yet would be
//! closed by an immediate graceful shutdown, and its client would see a reset. So on a
//! stop signal the listener stops accepting at once (other workers sharing the socket
//! take new connections), requests already on their way get a short grace to arrive,
//! and only then does the server's graceful shutdown begin.

use std::future::Future;
use std::time::Duration;

use axum::serve::Listener;
use tokio::sync::watch;

/// How long accepted connections get to deliver their request before draining starts.
pub(super) const ACCEPT_GRACE: Duration = Duration::from_millis(300);

/// A listener that stops accepting once told to.
pub(super) struct Draining<L> {
    inner: L,
    closed: watch::Receiver<bool>,
}

impl<L: Listener> Listener for Draining<L> {
    type Io = L::Io;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (inner, closed) = (&mut self.inner, &mut self.closed);
        let stop = async move { closed.wait_for(|closed| *closed).await.is_ok() };
        tokio::select! {
            biased;
            _ = stop => std::future::pending().await,
            conn = inner.accept() => conn,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Wraps `listener`; the returned future resolves once `shutdown` has resolved,
/// accepting has stopped and the grace has passed: hand it to graceful shutdown.
pub(super) fn draining<L: Listener>(
    listener: L,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (Draining<L>, impl Future<Output = ()> + Send + 'static) {
    let (close, closed) = watch::channel(false);
    let begin = async move {
        shutdown.await;
        let _ = close.send(true);
        tokio::time::sleep(ACCEPT_GRACE).await;
    };
    (Draining { inner: listener, closed }, begin)
}
