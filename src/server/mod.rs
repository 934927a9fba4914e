//! The HTTP server, and only that: the axum router (`/_fymo/` client files and health,
//! every other path through the page handler), error responses in the server's
//! [`Mode`], request ids and the access log, the listening socket and draining.
//!
//! It serves whatever [`Site`] is current; loading sites (and swapping them, in
//! development) happens outside, in `prefork` and `dev`.

mod assets;
mod drain;
mod error_page;
mod listen;
mod request;
mod respond;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::{ArcSwapOption, Guard};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;

use crate::site::{ErrorReport, Site};

pub(crate) use assets::Assets;
pub(crate) use listen::{adopt_inherited, share_with_children, AsyncListener, Bind, BoundListener};

/// How errors are answered.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// A plain error page (or the app's `templates/error.svelte`); details only in the log.
    Production,
    /// Production, with the error's details in the response (`--dev-errors`).
    Details,
    /// `fymo dev`: the overlay, and while the app is broken (`broken` holds the
    /// build's error) every page answers with it.
    Dev {
        /// The current whole-app error, set and cleared by the dev reloader.
        broken: Arc<ArcSwapOption<ErrorReport>>,
    },
}

impl Mode {
    /// Whether responses carry error details.
    fn details(&self) -> bool {
        !matches!(self, Self::Production)
    }
}

/// A site and the client files of its build, served together.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The app.
    pub(crate) site: Arc<Site>,
    /// Its build's files under `/_fymo/`.
    pub(crate) assets: Assets,
}

/// The request id (`x-request-id`), in logs and error pages.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) String);

/// What the handlers share: the current site (swapped whole by `fymo dev` after a
/// rebuild; in-flight requests keep the one they started with) and the mode.
#[derive(Clone, Debug)]
pub(crate) struct AppState {
    /// The current site; `None` only in development while the first build is broken.
    pub(crate) current: Arc<ArcSwapOption<Loaded>>,
    /// How errors are answered.
    pub(crate) mode: Mode,
    /// The prefork worker number, when this process is one.
    pub(crate) worker: Option<u32>,
}

impl AppState {
    /// State serving `loaded` in `mode`.
    pub(crate) fn new(loaded: Option<Loaded>, mode: Mode) -> Self {
        Self { current: Arc::new(ArcSwapOption::new(loaded.map(Arc::new))), mode, worker: None }
    }

    fn current(&self) -> Guard<Option<Arc<Loaded>>> {
        self.current.load()
    }
}

/// The axum router for `state`; `extra` routes (the dev server's) are merged in.
pub(crate) fn router(state: AppState, extra: Option<Router>) -> Router {
    let mut router = Router::new()
        .route("/_fymo/health", get(health))
        .route("/_fymo/{*path}", get(asset))
        .fallback(respond::respond)
        .with_state(state);
    if let Some(extra) = extra {
        router = router.merge(extra);
    }
    router.layer(CompressionLayer::new()).layer(middleware::from_fn(request_id))
}

/// Serves `app` on `listener` until `shutdown` resolves; then takes every connection
/// still queued, closes the listener and drains the requests in flight (see [`drain`]).
///
/// # Errors
/// I/O errors of the listener.
pub(crate) async fn serve(
    listener: AsyncListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match listener {
        AsyncListener::Tcp(l) => {
            let (l, shutdown) = drain::draining(l, shutdown);
            axum::serve(l, drain::tracking(app)).with_graceful_shutdown(shutdown).await
        }
        AsyncListener::Unix(l) => {
            let (l, shutdown) = drain::draining(l, shutdown);
            axum::serve(l, drain::tracking(app)).with_graceful_shutdown(shutdown).await
        }
    }
}

/// Installs the SIGTERM and SIGINT handlers now (call inside a runtime, before serving);
/// the returned future resolves on either signal, or when `stop` is notified (a prefork
/// worker's max requests).
///
/// Installing them before the first `accept` matters: until then a SIGTERM takes its
/// default action and ends the process at once, which loses nothing only while the
/// process holds no connection.
///
/// # Errors
/// When a handler cannot be installed.
pub(crate) fn shutdown_signal(
    stop: Arc<tokio::sync::Notify>,
) -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            () = stop.notified() => {}
        }
        tracing::info!(target: "fymo::server", "shutting down: answering queued connections, draining in-flight requests");
    })
}

async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, StatusCode> {
    let current = state.current();
    let site = &current.as_ref().ok_or(StatusCode::SERVICE_UNAVAILABLE)?.site;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "version": site.manifest.version,
        "pid": std::process::id(),
        "worker": state.worker,
        "engines": site.pool.stats(),
        "routes": site.routes.routes().len(),
    })))
}

async fn asset(State(state): State<AppState>, Path(path): Path<String>, headers: HeaderMap) -> Response<Body> {
    let current = state.current();
    current.as_ref().and_then(|l| l.assets.respond(&path, &headers)).unwrap_or_else(|| {
        Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("content-type", "text/plain; charset=utf-8")
            .body(Body::from("404 Not Found\n"))
            .expect("valid 404")
    })
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Gives each request an id (or keeps a valid incoming `x-request-id`) and writes the
/// access log line.
async fn request_id(mut request: Request<Body>, next: Next) -> Response<Body> {
    let started = Instant::now();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:x}-{:x}", std::process::id(), NEXT_ID.fetch_add(1, Ordering::Relaxed)));
    let method = request.method().clone();
    let uri = request.uri().clone();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    tracing::info!(
        target: "fymo::access",
        request_id = %id,
        method = %method,
        path = %uri,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
    );
    response
}
