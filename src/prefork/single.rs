//! [`serve_single`]: one process serving the app — all of `fymo serve` without
//! `--workers`, and the body of every prefork worker (which adds its heartbeat and
//! request count through [`WorkerEnv`]).

use std::sync::Arc;

use tokio::sync::Notify;

use super::worker::{self, WorkerEnv};
use crate::server::{self, AppState, Assets, BoundListener, Loaded, Mode};
use crate::site::{Site, SiteError, SiteOptions};
use crate::App;

/// Why serving ended with an error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    /// The app could not be loaded (nothing was served).
    #[error(transparent)]
    Boot(#[from] SiteError),
    /// The runtime, the build's client files or the socket failed before serving.
    #[error("{what}: {source}")]
    Start {
        /// What was being set up.
        what: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The server failed while serving.
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

fn start(what: &'static str) -> impl FnOnce(std::io::Error) -> ServeError {
    move |source| ServeError::Start { what, source }
}

/// Loads the app in this process (engine and Python pools are built here, after any
/// fork), then serves it on `listener` until SIGTERM or SIGINT, draining the requests
/// in flight.
///
/// # Errors
/// See [`ServeError`].
pub(crate) fn serve_single(
    app: &App,
    options: SiteOptions,
    mode: Mode,
    listener: BoundListener,
    worker: Option<&WorkerEnv>,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Runtime::new().map_err(start("starting the runtime"))?;
    let _context = runtime.enter(); // the Python pool spawns its workers on this runtime
    let hub = options.live.clone();
    runtime.block_on(options.broker.start(&hub)).map_err(start("connecting the live broker"))?;
    let site = Site::load(app, options)?;
    let assets = Assets::load(&site.manifest.client_dir()).map_err(start("reading the build's client files"))?;
    let url = listener.url();
    let listener = listener.into_async().map_err(start("adopting the listening socket"))?;
    let stats = site.pool.stats();
    let banner = format!("{} routes, {} {} engines", site.routes.routes().len(), stats.size, stats.engine);
    let mut state = AppState::new(Some(Loaded::new(site, assets)), mode);
    let stop = Arc::new(Notify::new());
    let router = match worker {
        Some(env) => {
            state.worker = Some(env.id);
            worker::init_process(env);
            worker::count_requests(server::router(state, None), env, stop.clone())
        }
        None => server::router(state, None),
    };
    let signal = server::shutdown_signal(stop).map_err(start("installing the signal handlers"))?;
    tracing::info!(target: "fymo::server", "listening on {url} ({banner})");
    let shutdown = async move {
        signal.await;
        // Live sockets first: told to go, their clients reconnect to the workers that stay.
        hub.shutdown(std::time::Duration::from_secs(5)).await;
    };
    runtime.block_on(server::serve(listener, router, shutdown)).map_err(ServeError::Serve)
}
