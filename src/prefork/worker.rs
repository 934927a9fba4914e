//! A prefork worker, once the master has started it: adopt the inherited socket, build
//! this process's own engine pool and Python pool (gunicorn's `init_process`), heartbeat,
//! and serve until told to stop or until `max_requests` have been served.

use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::Request;
use axum::middleware::{self, Next};
use axum::Router;
use tokio::sync::Notify;

use super::single::{serve_single, ServeError};
use crate::server::{BoundListener, Mode};
use crate::site::SiteOptions;
use crate::App;

/// Exit code of a worker whose app failed to load: the master halts instead of
/// respawning a broken app forever.
pub(super) const WORKER_BOOT_ERROR: i32 = 3;

/// How often a worker proves it is alive.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);

/// What the master tells a worker, through its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkerEnv {
    /// Worker number (for logs).
    pub id: u32,
    /// The inherited listening socket.
    pub fd: RawFd,
    /// `tcp` or `unix`.
    pub kind: String,
    /// File whose mtime is the heartbeat.
    pub heartbeat: PathBuf,
    /// Exit after this many requests (0 = never).
    pub max_requests: u64,
}

const VARS: [&str; 5] = ["FYMO_WORKER_ID", "FYMO_LISTEN_FD", "FYMO_LISTEN_KIND", "FYMO_HEARTBEAT", "FYMO_MAX_REQUESTS"];

impl WorkerEnv {
    /// The worker settings, when this process was started as a worker.
    pub(crate) fn from_env() -> Option<Self> {
        let get = |k: &str| std::env::var(k).ok();
        Some(Self {
            id: get(VARS[0])?.parse().ok()?,
            fd: get(VARS[1])?.parse().ok()?,
            kind: get(VARS[2])?,
            heartbeat: PathBuf::from(get(VARS[3])?),
            max_requests: get(VARS[4])?.parse().ok()?,
        })
    }

    /// The environment variables that carry these settings.
    pub(crate) fn to_env(&self) -> [(&'static str, String); 5] {
        [
            (VARS[0], self.id.to_string()),
            (VARS[1], self.fd.to_string()),
            (VARS[2], self.kind.clone()),
            (VARS[3], self.heartbeat.display().to_string()),
            (VARS[4], self.max_requests.to_string()),
        ]
    }
}

fn touch(path: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::options().create(true).truncate(false).write(true).open(path)?.set_modified(SystemTime::now())
}

/// Runs this process as worker `env`; returns the process exit code.
pub(crate) fn run(app: &App, options: SiteOptions, mode: Mode, env: &WorkerEnv) -> i32 {
    let listener = match BoundListener::inherit(env.fd, &env.kind) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "cannot adopt the listening socket");
            return WORKER_BOOT_ERROR;
        }
    };
    match serve_single(app, options, mode, listener, Some(env)) {
        Ok(()) => 0,
        Err(e @ (ServeError::Boot(_) | ServeError::Start { .. })) => {
            tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "worker failed to boot");
            WORKER_BOOT_ERROR
        }
        Err(e) => {
            tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "worker failed");
            1
        }
    }
}

/// gunicorn's `init_process`, after the app is loaded: heartbeat, and SIGQUIT to stop
/// at once. Runs inside the worker's runtime.
pub(super) fn init_process(env: &WorkerEnv) {
    let heartbeat = env.heartbeat.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = touch(&heartbeat) {
                tracing::warn!(target: "fymo::worker", error = %e, "heartbeat failed");
            }
        }
    });
    tokio::spawn(async {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut quit) = signal(SignalKind::quit()) {
            quit.recv().await;
            std::process::exit(0); // SIGQUIT: stop at once
        }
    });
    tracing::info!(target: "fymo::worker", worker = env.id, pid = std::process::id(), "worker booted");
}

/// Counts `router`'s requests; past the worker's `max_requests` it asks it to drain and
/// exit (the master starts a replacement).
pub(super) fn count_requests(router: Router, env: &WorkerEnv, stop: Arc<Notify>) -> Router {
    let (max, worker) = (env.max_requests, env.id);
    let served = Arc::new(AtomicU64::new(0));
    router.layer(middleware::from_fn(move |request: Request<Body>, next: Next| {
        let (served, stop) = (served.clone(), stop.clone());
        Box::pin(async move {
            let response = next.run(request).await;
            if max > 0 && served.fetch_add(1, Ordering::Relaxed) + 1 == max {
                tracing::info!(target: "fymo::worker", worker, max, "max requests reached: recycling");
                stop.notify_one();
            }
            response
        })
    }))
}
