//! The HTTP server, and only that: the axum router (`/_fymo/` client files and health,
//! every other path through the page handler), error responses in the server's
//! [`Mode`], request ids and the access log, the listening socket and draining.
//!
//! It serves whatever [`Site`] is current; loading sites (and swapping them, in
//! development) happens outside, in `prefork` and `dev`.

mod accept;
mod access_log;
mod assets;
mod client;
mod conn;
mod csrf;
mod drain;
mod error_page;
mod listen;
mod live;
mod multipart;
mod request;
mod respond;
mod session;
mod static_files;

use std::sync::Arc;
use std::time::Instant;

use arc_swap::{ArcSwapOption, Guard};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::site::{ErrorReport, Site};

pub(crate) use access_log::DEFAULT_REDACTED;
pub(crate) use assets::Assets;
pub(crate) use conn::ConnLimits;
pub(crate) use listen::{adopt_inherited, share_with_children, AsyncListener, Bind, BoundListener};
use session::Sessions;
pub(crate) use session::MIN_SECRET_LEN;
use static_files::StaticFiles;

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
        /// Templates that do not compile while the rest of the app does: a page that
        /// imports one answers with its compile error.
        uncompiled: Arc<arc_swap::ArcSwap<Vec<ErrorReport>>>,
    },
}

impl Mode {
    /// Whether responses carry error details.
    fn details(&self) -> bool {
        !matches!(self, Self::Production)
    }
}

/// HTTP settings from the command line.
#[derive(Debug, Clone)]
pub(crate) struct HttpOptions {
    /// Connection deadlines and cap.
    pub(crate) limits: ConnLimits,
    /// Query keys whose values the access log hides.
    pub(crate) redact_query_keys: Vec<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self { limits: ConnLimits::default(), redact_query_keys: DEFAULT_REDACTED.map(String::from).to_vec() }
    }
}

/// Process-wide because they are set once, from the command line, before serving, and
/// both ways of serving (prefork's `serve_single` and `dev::run`) reach [`serve`]
/// without carrying them.
static OPTIONS: std::sync::OnceLock<HttpOptions> = std::sync::OnceLock::new();

/// Sets this process's HTTP options; only the first call counts.
pub(crate) fn configure(options: HttpOptions) {
    let _ = OPTIONS.set(options);
}

fn options() -> &'static HttpOptions {
    OPTIONS.get_or_init(HttpOptions::default)
}

/// A site and the client files of its build, served together.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The app.
    pub(crate) site: Arc<Site>,
    /// Its build's files under `/_fymo/`.
    pub(crate) assets: Assets,
    /// Its session cookies.
    sessions: Sessions,
    /// Its `static/` folder, if any.
    statics: Option<StaticFiles>,
}

impl Loaded {
    /// `site` with the client files of its build; warns about routes that shadow files
    /// of `static/`.
    pub(crate) fn new(site: Site, assets: Assets) -> Self {
        let app = &site.app;
        let sessions =
            Sessions::new(&site.options.secret, app.session.clone(), &site.options.root, &site.options.broker);
        for (path, route) in shadowed_static_files(&site) {
            tracing::warn!(target: "fymo::server", "static{path} is shadowed by the route `{route}` (a route wins over a file)");
        }
        let statics = StaticFiles::of(&site.options.root);
        Self { site: Arc::new(site), assets, sessions, statics }
    }
}

/// Files of `static/` whose URL a route answers instead: (`/path`, route pattern).
pub(crate) fn shadowed_static_files(site: &Site) -> Vec<(String, String)> {
    shadowed(&site.options.root, &site.routes)
}

/// As [`shadowed_static_files`], from the app directory and its route table.
pub(crate) fn shadowed(root: &std::path::Path, routes: &crate::router::RouteTable) -> Vec<(String, String)> {
    StaticFiles::paths(root)
        .into_iter()
        .filter_map(|path| routes.find(&path).map(|m| (path.clone(), m.route.pattern.clone())))
        .collect()
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
        .route("/_fymo/live", get(live::socket))
        .route("/_fymo/live/sse", get(live::sse))
        .route("/_fymo/live/call", axum::routing::post(live::call_over_http))
        .route("/_fymo/live/publish", axum::routing::post(live::publish))
        .route("/_fymo/{*path}", get(asset))
        .fallback(respond::respond)
        .with_state(state.clone());
    if let Some(extra) = extra {
        router = router.merge(extra);
    }
    let router = with_default_headers(router.layer(CompressionLayer::new()));
    router.layer(middleware::from_fn_with_state(state, request_id)).layer(middleware::from_fn(one_host))
}

/// Safe defaults for every response; one that already has such a header keeps its own.
fn with_default_headers(router: Router) -> Router {
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
    ];
    defaults.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)))
    })
}

/// Serves `app` on `listener` until `shutdown` resolves; then takes every connection
/// still queued, closes the listener and drains the requests in flight (see [`drain`]).
/// Connections get the deadlines and cap of [`configure`] (see [`conn`]).
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
            conn::serve(l, drain::tracking(app), options().limits, shutdown).await;
        }
        AsyncListener::Unix(l) => {
            let (l, shutdown) = drain::draining(l, shutdown);
            conn::serve(l, drain::tracking(app), options().limits, shutdown).await;
        }
    }
    Ok(())
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

/// `/_fymo/health`: what a load balancer needs, for anyone — ok or not (503), and the
/// state of each pool (engines, Python, live). With `Authorization: Bearer <app secret>`
/// also `details`: the process, the build, every counter.
async fn health(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    let current = state.current();
    let Some(loaded) = current.as_ref() else {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "starting" }))).into_response();
    };
    let site = &loaded.site;
    let engines = site.pool.stats();
    let python = site.python_health();
    let serving = python.is_none_or(|p| p.state == "ok");
    let mut answer = serde_json::json!({
        "status": if serving { "ok" } else { "unavailable" },
        "engines": { "state": "ok", "size": engines.size, "busy": engines.busy },
        "python": python,
        "live": { "state": "ok", "connections": site.options.live.connections() },
    });
    if live::bearer_is_secret(&headers, &site.options.secret) {
        answer["details"] = serde_json::json!({
            "version": site.manifest.version,
            "pid": std::process::id(),
            "worker": state.worker,
            "engines": engines,
            "routes": site.routes.routes().len(),
            "live": site.options.live.stats(),
        });
    }
    let status = if serving { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(answer)).into_response()
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

/// HTTP/1.1 asks for exactly one `Host` (RFC 9112 §3.2): a request without one, or with
/// two, is refused before anything reads either.
async fn one_host(request: Request<Body>, next: Next) -> Response<Body> {
    let hosts = request.headers().get_all(header::HOST).iter().count();
    if request.version() == axum::http::Version::HTTP_11 && hosts != 1 {
        let mut response = (StatusCode::BAD_REQUEST, "400 Bad Request: send exactly one Host header\n").into_response();
        respond::close_connection(&mut response);
        return response;
    }
    next.run(request).await
}

/// Gives each request an id (or keeps a valid incoming `x-request-id`) and its
/// [`Client`](client::Client) (through the trusted proxies), and writes the access log line.
async fn request_id(State(state): State<AppState>, mut request: Request<Body>, next: Next) -> Response<Body> {
    let started = Instant::now();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_owned)
        .unwrap_or_else(access_log::new_request_id);
    let method = request.method().clone();
    let uri = request.uri().clone();
    let peer = request.extensions().get::<conn::Peer>().and_then(|p| p.0);
    let client = {
        let current = state.current();
        let trusted = current.as_ref().map_or(&[][..], |l| &l.site.app.trusted_proxies);
        client::client_of(peer, request.headers(), trusted)
    };
    request.extensions_mut().insert(RequestId(id.clone()));
    request.extensions_mut().insert(client);
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    tracing::info!(
        target: "fymo::access",
        request_id = %id,
        client = %client.ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
        method = %method,
        path = %access_log::loggable_target(uri.path(), uri.query(), &options().redact_query_keys),
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn default_headers_do_not_override_the_responses_own() {
        let app = with_default_headers(
            Router::new().route("/framed", get(|| async { ([(header::X_FRAME_OPTIONS, "DENY")], "framed") })),
        );
        let request = Request::builder().uri("/framed").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let headers = response.headers();
        assert_eq!(headers.get_all(header::X_FRAME_OPTIONS).iter().collect::<Vec<_>>(), ["DENY"]);
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "strict-origin-when-cross-origin");
    }
}
