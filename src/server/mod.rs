//! The HTTP server: `/_fymo/` assets and health, every other path through the page handler.

mod assets;
mod error_page;
mod request;
mod respond;
mod site;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwapOption;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;

use crate::dev::{self, DevHub};
use crate::serve::{draining, AsyncListener};

pub use assets::Assets;
pub use site::{load_routes, Site, SiteError, SiteOptions};

/// The id given to each request (`x-request-id`), in logs and error pages.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the handlers share: the current site (swapped whole by `fymo dev` after a
/// rebuild; in-flight requests keep the one they started with) and, in development,
/// the dev hub.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The current site; `None` only in development while the first build is broken.
    pub site: Arc<ArcSwapOption<Site>>,
    /// Live reload and overlay state (development only).
    pub dev: Option<Arc<DevHub>>,
    /// The prefork worker number, when this process is one.
    pub worker: Option<u32>,
}

impl AppState {
    /// State for serving `site` in production.
    pub fn new(site: Site) -> Self {
        Self { site: Arc::new(ArcSwapOption::from_pointee(site)), dev: None, worker: None }
    }
}

/// The axum router for `state`.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new().route("/_fymo/health", get(health)).route("/_fymo/{*path}", get(asset));
    if let Some(hub) = &state.dev {
        let dev_routes = Router::new()
            .route("/_fymo/dev/events", get(dev::events))
            .with_state(hub.clone())
            .route(dev::CLIENT_PATH, get(dev_client));
        router = router.merge(dev_routes);
    }
    router
        .fallback(respond::respond)
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(request_id))
}

async fn dev_client() -> Response<Body> {
    Response::builder()
        .header("content-type", "text/javascript; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(Body::from(dev::CLIENT_JS))
        .expect("valid response")
}

/// Serves `app` (see [`router`]) on `listener` until `shutdown` resolves; then stops
/// accepting and drains the requests in flight (see [`crate::serve::Draining`]).
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(
    listener: AsyncListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match listener {
        AsyncListener::Tcp(l) => {
            let (l, shutdown) = draining(l, shutdown);
            axum::serve(l, app).with_graceful_shutdown(shutdown).await
        }
        AsyncListener::Unix(l) => {
            let (l, shutdown) = draining(l, shutdown);
            axum::serve(l, app).with_graceful_shutdown(shutdown).await
        }
    }
}

async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, StatusCode> {
    let site = state.site.load_full().ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
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
    let site = state.site.load_full();
    site.and_then(|s| s.assets.respond(&path, &headers)).unwrap_or_else(|| {
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
