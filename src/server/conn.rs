//! The accept loop: connections with deadlines and a cap.
//!
//! `axum::serve` has neither, so a client that sends half a request line, trickles a
//! body or idles on keep-alive would hold a file descriptor forever. Here every
//! connection carries one deadline that moves with its request cycle:
//!
//! - waiting for a request head: the header timeout, counted from the connection's
//!   accept, or from the first byte of the next request on a kept-alive connection;
//! - between requests on a kept-alive connection: the keep-alive timeout;
//! - while a request is being answered: none (the render and controller deadlines
//!   apply), but its body must arrive within the body timeout.
//!
//! hyper's own `header_read_timeout` is not used: it also starts as soon as a
//! kept-alive connection goes idle, so it cannot tell idling from a slow head.
//!
//! Past its deadline a connection is dropped (closed); there is no request in flight
//! to answer then. A cap on open connections leaves extra ones waiting in the
//! kernel's backlog until one closes.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::serve::Listener;
use axum::Router;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// Largest request head (request line and headers) read: past it, 431.
const MAX_HEAD: usize = 64 * 1024;

/// Connection deadlines and the connection cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnLimits {
    /// Longest a client may take to send a request head.
    pub(crate) header: Duration,
    /// Longest a client may take to send a request body.
    pub(crate) body: Duration,
    /// Longest a kept-alive connection may idle between requests.
    pub(crate) keep_alive: Duration,
    /// Most connections open at once in this process.
    pub(crate) max_connections: usize,
}

impl Default for ConnLimits {
    /// nginx-like defaults: 10 s for a head, 30 s for a body, 75 s of keep-alive.
    fn default() -> Self {
        Self {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
            keep_alive: Duration::from_secs(75),
            max_connections: 10_000,
        }
    }
}

/// The address of the client that sent a request (none over a Unix socket): a request
/// extension, for trusting proxies' forwarded headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) Option<std::net::IpAddr>);

/// What an accepted connection's address tells each of its requests: the peer's IP
/// address, when it has one, and anything else the listener attaches.
pub(super) trait PeerIp: Send + Sync + 'static {
    /// The IP address, if any (none over a Unix socket).
    fn ip(&self) -> Option<std::net::IpAddr>;

    /// Puts what the listener tracks per connection on a request.
    fn annotate(&self, _extensions: &mut axum::http::Extensions) {}
}

impl PeerIp for std::net::SocketAddr {
    fn ip(&self) -> Option<std::net::IpAddr> {
        Some(std::net::SocketAddr::ip(self))
    }
}

impl PeerIp for tokio::net::unix::SocketAddr {
    fn ip(&self) -> Option<std::net::IpAddr> {
        None
    }
}

/// Why reading a request body failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyReadError {
    /// The client did not send the whole body within the body timeout.
    #[error("the request body did not arrive within {0:?}")]
    TimedOut(Duration),
    /// The connection failed.
    #[error(transparent)]
    Connection(#[from] hyper::Error),
}

/// Serves `app` on `listener` with `limits` until `drain` resolves; then stops
/// accepting, lets every connection finish its request in flight (hyper's graceful
/// shutdown closes idle ones at once) and returns when all are closed.
pub(super) async fn serve<L>(mut listener: L, app: Router, limits: ConnLimits, drain: impl Future<Output = ()>)
where
    L: Listener,
    L::Addr: PeerIp,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Every connection holds a receiver; the sender's `closed` resolves once all are gone.
    let (stop, stopping) = watch::channel(false);
    let mut drain = pin!(drain);
    loop {
        let permit = tokio::select! {
            () = &mut drain => break,
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (io, addr) = tokio::select! {
            () = &mut drain => break,
            accepted = listener.accept() => accepted,
        };
        tokio::spawn(connection(io, app.clone(), limits, Arc::new(addr), stopping.clone(), permit));
    }
    drop(stopping);
    stop.send_replace(true);
    stop.closed().await;
}

/// Serves one connection until it closes, its deadline passes, or it is drained.
async fn connection<I, A: PeerIp>(
    io: I,
    app: Router,
    limits: ConnLimits,
    addr: Arc<A>,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let clock = Arc::new(Clock::new(limits));
    let mut deadline = clock.phase.subscribe();
    let service = hyper::service::service_fn({
        let clock = clock.clone();
        move |request: hyper::Request<Incoming>| {
            clock.set(Phase::Busy);
            let mut request = request.map(|body| Body::new(TimedBody::new(body, limits.body)));
            request.extensions_mut().insert(Peer(addr.ip()));
            addr.annotate(request.extensions_mut());
            let clock = clock.clone();
            let answer = app.clone().oneshot(request);
            async move {
                let response = answer.await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| IdleOnDrop { body, clock }))
            }
        }
    });
    let mut builder = http1::Builder::new();
    // The deadlines above replace hyper's header timer (see the module docs).
    builder.keep_alive(true).header_read_timeout(None);
    // The request head may not outgrow this (431): hyper's ~400 KB read buffer let slow
    // clients hold that much per connection.
    builder.max_header_size(MAX_HEAD);
    let io = TokioIo::new(Watched { io, clock });
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let mut draining = false;
    loop {
        let phase = *deadline.borrow_and_update();
        let expired = async {
            match phase.deadline() {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(target: "fymo::server", %error, "connection ended with an error");
                }
                return;
            }
            () = expired => {
                // The phase may have moved on at the same instant; then wait again.
                if *deadline.borrow() == phase {
                    tracing::debug!(target: "fymo::server", ?phase, "closing a connection past its deadline");
                    return;
                }
            }
            _ = deadline.changed() => {}
            _ = stopping.wait_for(|s| *s), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Where a connection is in its request cycle, with its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a request head, due by then.
    Head(Instant),
    /// Kept alive between requests, until then.
    Idle(Instant),
    /// A request is being answered.
    Busy,
}

impl Phase {
    fn deadline(self) -> Option<Instant> {
        match self {
            Self::Head(at) | Self::Idle(at) => Some(at),
            Self::Busy => None,
        }
    }
}

/// A connection's phase, shared by its socket, its service and its task.
struct Clock {
    limits: ConnLimits,
    phase: watch::Sender<Phase>,
}

impl Clock {
    fn new(limits: ConnLimits) -> Self {
        Self { limits, phase: watch::Sender::new(Phase::Head(Instant::now() + limits.header)) }
    }

    fn set(&self, phase: Phase) {
        self.phase.send_replace(phase);
    }

    /// Bytes arrived: on an idle connection they begin the next request's head.
    fn bytes_read(&self) {
        let header = self.limits.header;
        self.phase.send_if_modified(|phase| match phase {
            Phase::Idle(_) => {
                *phase = Phase::Head(Instant::now() + header);
                true
            }
            _ => false,
        });
    }

    /// The response has been sent (its body dropped): the connection idles.
    fn answered(&self) {
        self.set(Phase::Idle(Instant::now() + self.limits.keep_alive));
    }
}

/// The socket, reporting reads to its connection's [`Clock`].
struct Watched<I> {
    io: I,
    clock: Arc<Clock>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.bytes_read();
        }
        result
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A request body that fails once the body timeout has passed since the request
/// began: a whole-body deadline, so a client trickling a byte at a time cannot
/// stretch it (tower-http's `TimeoutBody` restarts its timer on every frame).
struct TimedBody {
    body: Incoming,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl TimedBody {
    fn new(body: Incoming, limit: Duration) -> Self {
        Self { body, limit, deadline: Box::pin(tokio::time::sleep(limit)) }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = BodyReadError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(BodyReadError::from)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyReadError::TimedOut(self.limit)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body that marks its connection idle once hyper is done with it.
struct IdleOnDrop {
    body: Body,
    clock: Arc<Clock>,
}

impl Drop for IdleOnDrop {
    fn drop(&mut self) {
        self.clock.answered();
    }
}

impl http_body::Body for IdleOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
