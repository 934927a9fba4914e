//! Stopping without dropping a connection: empty the accept queue, close the socket,
//! wait for the accepted connections' first requests, and only then drain.
//!
//! Closing the last descriptor of a listening socket makes the kernel reset every
//! connection still in its accept queue, and hyper's graceful shutdown drops a
//! connection whose first bytes it has not read yet (hyper-util's version sniffing is
//! cancelled outright). Either way a client that connected in time would see a reset.
//! So on the shutdown signal:
//!
//! 1. The listener keeps accepting, now with direct non-blocking `accept(2)` calls, until
//!    one returns `WouldBlock`: the kernel's queue is empty. It then closes its
//!    descriptor at once ([`Draining::accept`]).
//! 2. Every connection accepted so far (before or during step 1) is waited for until
//!    its first request has reached the app, or it closed, bounded by
//!    [`FIRST_REQUEST_WAIT`] for clients that connect and never send ([`Arrival`]).
//! 3. Only then does axum's graceful shutdown begin: it finishes the requests in flight
//!    and closes idle keep-alive connections.
//!
//! Nothing here sleeps for a fixed time: each step ends on an event (step 2 at the
//! latest after its bound).
//!
//! # Several processes on one socket
//!
//! Prefork workers share one listening socket, so one kernel queue, and the kernel resets
//! that queue only when the *last* descriptor of the socket closes. On a stop the master
//! closes its own copy first (it never accepts), then signals the workers. A worker that
//! finds the queue empty and closes its copy while another process still holds one loses
//! nothing: the socket keeps listening through that copy, and whatever arrives later is
//! the other worker's to take, while serving or in its own step 1. So only the last
//! worker to close matters, and it closes right after an `accept` that found the queue
//! empty: every connection queued before that moment has been accepted by some worker,
//! which answers it. The one connection no listener can save is one whose handshake
//! completes between that last empty `accept` and the `close(2)` right after it, a window
//! of a few instructions that only a client connecting after the stop began can hit; the
//! kernel resets it, as it refuses every connection after the close.
//!
//! Under arrivals that never pause, step 1 keeps accepting (and serving) for as long as
//! the queue stays non-empty; the master's `--graceful-timeout` still bounds a stop.

use std::future::Future;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::http::{Request, Response};
use axum::middleware::{self, Next};
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use tokio::sync::watch;

use super::conn::PeerIp;

/// How long a connection accepted before or during the stop may take to send its first
/// request. A client sends right after connecting; one silent for this long is a
/// speculative pre-connect or a stalled client, and is closed unanswered.
pub(super) const FIRST_REQUEST_WAIT: Duration = Duration::from_secs(5);

/// A listener whose queued connections can be taken without waiting.
pub(super) trait AcceptNow: Listener {
    /// One connection from the kernel's queue through a direct, non-blocking `accept(2)`
    /// (not the runtime's cached readiness, which may not have seen the latest arrival);
    /// `Ok(None)` when the queue is empty.
    fn accept_now(&self) -> std::io::Result<Option<(Self::Io, Self::Addr)>>;
}

/// Accepts one queued connection from `listener` (already non-blocking).
fn accept_queued(listener: &impl AsFd) -> std::io::Result<Option<socket2::Socket>> {
    match socket2::SockRef::from(listener).accept() {
        Ok((socket, _)) => {
            socket.set_nonblocking(true)?;
            Ok(Some(socket))
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

impl AcceptNow for tokio::net::TcpListener {
    fn accept_now(&self) -> std::io::Result<Option<(Self::Io, Self::Addr)>> {
        let Some(socket) = accept_queued(self)? else { return Ok(None) };
        let stream = tokio::net::TcpStream::from_std(socket.into())?;
        let peer = stream.peer_addr()?;
        Ok(Some((stream, peer)))
    }
}

impl AcceptNow for tokio::net::UnixListener {
    fn accept_now(&self) -> std::io::Result<Option<(Self::Io, Self::Addr)>> {
        let Some(socket) = accept_queued(self)? else { return Ok(None) };
        let stream = tokio::net::UnixStream::from_std(socket.into())?;
        let peer = stream.peer_addr()?;
        Ok(Some((stream, peer)))
    }
}

/// Errors of one queued connection (it went away, or its setup failed): skip it and
/// keep draining. Anything else (out of descriptors, say) ends the drain.
fn only_this_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted, NotConnected};
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | NotConnected)
}

/// One accepted connection until its first request reaches the app or it closes
/// (whichever comes first); counted in the number of connections awaited.
#[derive(Debug, Clone)]
pub(super) struct Arrival(Option<Arc<Awaited>>);

#[derive(Debug)]
struct Awaited {
    done: AtomicBool,
    count: watch::Sender<usize>,
}

impl Awaited {
    fn done(&self) {
        if !self.done.swap(true, Ordering::AcqRel) {
            self.count.send_modify(|n| *n -= 1);
        }
    }
}

/// The connection closed (every clone of its [`Arrival`] dropped): not awaited any more.
impl Drop for Awaited {
    fn drop(&mut self) {
        self.done();
    }
}

impl Arrival {
    fn new(count: &watch::Sender<usize>) -> Self {
        count.send_modify(|n| *n += 1);
        Self(Some(Arc::new(Awaited { done: AtomicBool::new(false), count: count.clone() })))
    }

    /// Not a connection (the listener's own address).
    fn none() -> Self {
        Self(None)
    }

    /// Its first request reached the app: hyper now holds it as in flight, and a graceful
    /// shutdown answers it before closing.
    fn arrived(&self) {
        if let Some(awaited) = &self.0 {
            awaited.done();
        }
    }
}

/// A peer address, with the connection's [`Arrival`].
#[derive(Debug, Clone)]
pub(super) struct Peer<A> {
    /// The peer's address; read only through `Debug`, by axum's connection trace.
    #[allow(dead_code)]
    addr: A,
    arrival: Arrival,
}

impl<L: AcceptNow> Connected<IncomingStream<'_, Draining<L>>> for Arrival {
    fn connect_info(stream: IncomingStream<'_, Draining<L>>) -> Self {
        stream.remote_addr().arrival.clone()
    }
}

/// A listener that, once stopped, empties the accept queue and closes.
pub(super) struct Draining<L> {
    /// `None` once closed.
    inner: Option<L>,
    stop: watch::Receiver<bool>,
    closed: watch::Sender<bool>,
    awaited: watch::Sender<usize>,
}

fn track<Io, A>(awaited: &watch::Sender<usize>, (io, addr): (Io, A)) -> (Io, Peer<A>) {
    (io, Peer { addr, arrival: Arrival::new(awaited) })
}

impl<L: AcceptNow> Draining<L> {
    /// Closes this process's descriptor of the socket (see the module docs for why that
    /// is safe while other processes may still accept on it).
    fn close(&mut self) {
        self.inner = None;
        self.closed.send_replace(true);
    }
}

impl<L: AcceptNow> Listener for Draining<L> {
    type Io = L::Io;
    type Addr = Peer<L::Addr>;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Some(inner) = self.inner.as_mut() else { return std::future::pending().await };
            if !*self.stop.borrow() {
                let stop = &mut self.stop;
                let stopped = async move {
                    if stop.wait_for(|stop| *stop).await.is_err() {
                        std::future::pending::<()>().await; // no stop can come any more
                    }
                };
                let accepted = tokio::select! {
                    biased;
                    () = stopped => None,
                    conn = inner.accept() => Some(conn),
                };
                match accepted {
                    Some(conn) => return track(&self.awaited, conn),
                    None => continue,
                }
            }
            match inner.accept_now() {
                Ok(Some(conn)) => return track(&self.awaited, conn),
                Ok(None) => self.close(),
                Err(e) if only_this_connection(&e) => {}
                Err(e) => {
                    tracing::warn!(target: "fymo::server", error = %e, "cannot accept while draining: closing the listener");
                    self.close();
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        let inner = self.inner.as_ref().ok_or_else(|| std::io::Error::other("listener closed"))?;
        Ok(Peer { addr: inner.local_addr()?, arrival: Arrival::none() })
    }
}

/// Wraps `listener`; the returned future resolves once `shutdown` has resolved, the
/// accept queue is empty and closed, and the accepted connections' first requests have
/// arrived (see the module docs): hand it to graceful shutdown.
pub(super) fn draining<L: AcceptNow>(
    listener: L,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (Draining<L>, impl Future<Output = ()> + Send + 'static) {
    let (stop, stop_rx) = watch::channel(false);
    let (closed, mut closed_rx) = watch::channel(false);
    let (awaited, mut awaited_rx) = watch::channel(0_usize);
    let begin = async move {
        shutdown.await;
        stop.send_replace(true);
        // Errors mean the listener is gone (serving ended): nothing left to wait for.
        let _ = closed_rx.wait_for(|closed| *closed).await;
        let first_requests = awaited_rx.wait_for(|awaited| *awaited == 0);
        if tokio::time::timeout(FIRST_REQUEST_WAIT, first_requests).await.is_err() {
            let silent = *awaited_rx.borrow();
            tracing::info!(target: "fymo::server", silent, "closing connections that sent no request");
        }
    };
    (Draining { inner: Some(listener), stop: stop_rx, closed, awaited }, begin)
}

/// `app` as [`Draining`]'s connections are served: each request marks its connection's
/// [`Arrival`] (which the accept loop puts on it, see [`Peer`]'s `PeerIp`).
pub(super) fn tracking(app: Router) -> Router {
    app.layer(middleware::from_fn(mark_arrival))
}

impl<A: PeerIp> PeerIp for Peer<A> {
    fn ip(&self) -> Option<std::net::IpAddr> {
        self.addr.ip()
    }

    fn annotate(&self, extensions: &mut axum::http::Extensions) {
        extensions.insert(ConnectInfo(self.arrival.clone()));
    }
}

async fn mark_arrival(request: Request<Body>, next: Next) -> Response<Body> {
    if let Some(ConnectInfo(arrival)) = request.extensions().get::<ConnectInfo<Arrival>>() {
        arrival.arrived();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::get;
    use axum::Router;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::Listener;

    use crate::server::{serve, AsyncListener};

    const REQUEST: &[u8] = b"GET / HTTP/1.0\r\nHost: test\r\n\r\n";

    async fn response(mut client: TcpStream) -> String {
        let mut raw = Vec::new();
        client.read_to_end(&mut raw).await.expect("an answer, not a reset");
        String::from_utf8_lossy(&raw).into_owned()
    }

    /// Stopped before its first accept: the listener takes every queued connection with
    /// direct accepts, then closes; draining waits for their first requests.
    #[tokio::test]
    async fn a_stopped_listener_empties_its_queue_then_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut clients = Vec::new();
        for _ in 0..20 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let (mut draining, begin) = super::draining(listener, async {});
        let begin = tokio::spawn(begin);
        let check = async {
            while !*draining.stop.borrow() {
                tokio::task::yield_now().await; // lets `begin` see the (immediate) shutdown
            }
            let mut closed = draining.closed.subscribe();
            let mut accepted = Vec::new();
            loop {
                tokio::select! {
                    conn = draining.accept() => accepted.push(conn),
                    _ = closed.wait_for(|closed| *closed) => break,
                }
            }
            assert_eq!(accepted.len(), clients.len(), "every queued connection taken");
            assert!(draining.inner.is_none(), "closed once the queue was empty");
            assert!(TcpStream::connect(addr).await.is_err(), "nothing listens any more");
            assert!(!begin.is_finished(), "draining waits for the first requests");
            accepted[0].1.arrival.arrived(); // a request came
            drop(accepted); // the others closed
            begin.await.unwrap();
        };
        tokio::time::timeout(Duration::from_secs(20), check).await.expect("in time");
    }

    /// Through the server: every connection queued at the stop is answered, whether its
    /// request came before the stop or after.
    #[tokio::test]
    async fn a_stop_answers_every_queued_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut clients = Vec::new();
        for _ in 0..20 {
            clients.push(TcpStream::connect(addr).await.unwrap()); // queued: connect() returned
        }
        for client in clients.iter_mut().step_by(2) {
            client.write_all(REQUEST).await.unwrap();
        }
        let app = Router::new().route("/", get(|| async { "answered" }));
        let server = tokio::spawn(serve(AsyncListener::Tcp(listener), app, async {}));
        for client in clients.iter_mut().skip(1).step_by(2) {
            client.write_all(REQUEST).await.unwrap();
        }
        let answers = async {
            for (i, client) in clients.into_iter().enumerate() {
                let text = response(client).await;
                assert!(text.starts_with("HTTP/1.0 200") && text.ends_with("answered"), "connection {i}: {text}");
            }
            server.await.unwrap().unwrap();
        };
        tokio::time::timeout(Duration::from_secs(20), answers).await.expect("served and stopped in time");
    }
}
