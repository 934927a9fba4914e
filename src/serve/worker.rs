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
use tokio::sync::Notify;

use super::BoundListener;
use crate::server::{self, AppState, Site, SiteOptions};
use crate::App;

/// Exit code of a worker whose app failed to load: the master halts instead of
/// respawning a broken app forever.
pub const WORKER_BOOT_ERROR: i32 = 3;

/// How often a worker proves it is alive.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(500);

/// What the master tells a worker, through its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerEnv {
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
    pub fn from_env() -> Option<Self> {
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
    pub fn to_env(&self) -> [(&'static str, String); 5] {
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

/// Runs the worker; returns the process exit code.
pub fn run(app: &App, options: SiteOptions, env: &WorkerEnv) -> i32 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "cannot start the runtime");
            return WORKER_BOOT_ERROR;
        }
    };
    let _context = runtime.enter();
    let site = match Site::load(app, options) {
        Ok(site) => site,
        Err(e) => {
            tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "worker failed to boot");
            return WORKER_BOOT_ERROR;
        }
    };
    let listener = match BoundListener::inherit(env.fd, &env.kind).and_then(BoundListener::into_async) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "cannot adopt the listening socket");
            return WORKER_BOOT_ERROR;
        }
    };
    let mut state = AppState::new(site);
    state.worker = Some(env.id);
    let stop = Arc::new(Notify::new());
    let router =
        server::router(state).layer(middleware::from_fn(count_requests(env.max_requests, stop.clone(), env.id)));

    let heartbeat = env.heartbeat.clone();
    runtime.spawn(async move {
        let mut every = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = touch(&heartbeat) {
                tracing::warn!(target: "fymo::worker", error = %e, "heartbeat failed");
            }
        }
    });
    runtime.spawn(async {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut quit) = signal(SignalKind::quit()) {
            quit.recv().await;
            std::process::exit(0); // SIGQUIT: stop at once
        }
    });
    tracing::info!(target: "fymo::worker", worker = env.id, pid = std::process::id(), "worker booted");
    let id = env.id;
    let shutdown = async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("installing SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("installing SIGINT handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            () = stop.notified() => {}
        }
        tracing::info!(target: "fymo::worker", worker = id, "worker draining");
    };
    match runtime.block_on(server::serve(listener, router, shutdown)) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "worker failed");
            1
        }
    }
}

/// Middleware counting requests; past `max` it asks the worker to drain and exit.
fn count_requests(
    max: u64,
    stop: Arc<Notify>,
    worker: u32,
) -> impl Fn(Request<Body>, Next) -> std::pin::Pin<Box<dyn std::future::Future<Output = axum::response::Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static {
    let served = Arc::new(AtomicU64::new(0));
    move |request, next| {
        let (served, stop) = (served.clone(), stop.clone());
        Box::pin(async move {
            let response = next.run(request).await;
            if max > 0 && served.fetch_add(1, Ordering::Relaxed) + 1 == max {
                tracing::info!(target: "fymo::worker", worker, max, "max requests reached: recycling");
                stop.notify_one();
            }
            response
        })
    }
}
