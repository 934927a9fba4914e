//! `fymo dev`: build, serve, watch, rebuild, live reload, error overlay. [`run`] wires
//! it: one long-lived node-tools process, a watcher, and a site swapped whole after each
//! good rebuild. Never on the production request path: the server only sees
//! [`crate::server::Mode::Dev`] and the routes added here.

mod hub;
mod reload;
mod watch;

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwapOption;
use axum::body::Body;
use axum::http::Response;
use axum::routing::get;
use axum::Router;

use crate::build::{BuildError, DevBuilder};
use crate::document::DEV_CLIENT_PATH;
use crate::server::{self, AppState, Bind, BoundListener, Mode};
use crate::site::SiteOptions;
use crate::App;

use hub::DevHub;
use reload::{report, Reloader};
use watch::{watch, Changes};

/// The dev client script (live reload, CSS swap, overlay), embedded.
const CLIENT_JS: &str = include_str!("../../js/dev-client.js");

/// Why `fymo dev` could not start (a broken app does not stop it: it shows the overlay).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DevStartError {
    /// node-tools could not be started.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The watcher, the runtime or the socket failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being set up.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevStartError {
    let what = what.into();
    move |source| DevStartError::Io { what, source }
}

/// Runs the development server for `app` on `bind` until SIGTERM or SIGINT.
///
/// # Errors
/// See [`DevStartError`].
pub(crate) fn run(app: App, mut options: SiteOptions, bind: &Bind) -> Result<(), DevStartError> {
    options.dev_client = true;
    // Every edit is a new bundle, evaluated once per engine: a snapshot would only add a
    // child process to each reload.
    crate::engine::disable_startup_snapshots();
    let root = options.root.clone();
    let runtime = tokio::runtime::Runtime::new().map_err(io("starting the runtime"))?;
    // `--broker redis://…`: pages on this dev server and on other processes share topics.
    runtime.block_on(options.broker.start(&options.live)).map_err(io("connecting the live broker"))?;
    let hub = Arc::new(DevHub::default());
    let current = Arc::new(ArcSwapOption::empty());
    let builder = DevBuilder::start(&root)?;
    let mut reloader = Reloader::new(app, options, builder, current.clone(), hub.clone(), runtime.handle().clone());
    let started = Instant::now();
    let first = reloader.apply(&Changes::all());
    report(&Changes::all(), &first, started);
    let (watcher, changes) = watch(&root).map_err(|e| DevStartError::Io {
        what: format!("watching {}", root.display()),
        source: std::io::Error::other(e),
    })?;
    std::thread::Builder::new()
        .name("fymo-reload".into())
        .spawn(move || {
            let _watcher = watcher;
            while let Ok(batch) = changes.recv() {
                let started = Instant::now();
                let result = reloader.apply(&batch);
                report(&batch, &result, started);
            }
        })
        .map_err(io("starting the reload thread"))?;
    let routes = current.load().as_ref().map_or(0, |l| l.site.routes.routes().len());
    let state =
        AppState { current, mode: Mode::Dev { broken: hub.broken(), uncompiled: hub.uncompiled() }, worker: None };
    let dev_routes = Router::new()
        .route("/_fymo/dev/events", get(hub::events))
        .with_state(hub)
        .route(DEV_CLIENT_PATH, get(client_js));
    let listener = BoundListener::bind(bind).map_err(io(format!("binding {bind:?}")))?;
    let url = listener.url();
    let _context = runtime.enter();
    let listener = listener.into_async().map_err(io("adopting the listening socket"))?;
    tracing::info!(target: "fymo::server", "listening on {url} (fymo dev, {routes} routes, watching {})", root.display());
    let shutdown = server::shutdown_signal(Arc::default()).map_err(io("installing the signal handlers"))?;
    let serving = server::serve(listener, server::router(state, Some(dev_routes)), shutdown);
    runtime.block_on(serving).map_err(io("serving"))
}

async fn client_js() -> Response<Body> {
    Response::builder()
        .header("content-type", "text/javascript; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(Body::from(CLIENT_JS))
        .expect("valid response")
}
