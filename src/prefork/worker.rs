//! A prefork worker, once the master has started it: adopt the inherited socket, build
//! this process's own engine pool and Python pool (gunicorn's `init_process`), heartbeat,
//! and serve until told to stop or until `max_requests` have been served.

use std::io::Read;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::Request;
use axum::middleware::{self, Next};
use axum::Router;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
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
    /// The master's pid: the parent this worker expects.
    pub master_pid: u32,
    /// The read end of the master's liveness pipe: end of file once the master is gone.
    pub master_fd: RawFd,
    /// How long a worker may drain once the master is gone (no master kills it then).
    pub graceful_timeout: Duration,
}

const VARS: [&str; 8] = [
    "FYMO_WORKER_ID",
    "FYMO_LISTEN_FD",
    "FYMO_LISTEN_KIND",
    "FYMO_HEARTBEAT",
    "FYMO_MAX_REQUESTS",
    "FYMO_MASTER_PID",
    "FYMO_MASTER_FD",
    "FYMO_GRACEFUL_TIMEOUT_MS",
];

impl WorkerEnv {
    /// The worker settings, when this process was started as a worker.
    pub(crate) fn from_env() -> Option<Self> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    fn from_vars(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        Some(Self {
            id: get(VARS[0])?.parse().ok()?,
            fd: get(VARS[1])?.parse().ok()?,
            kind: get(VARS[2])?,
            heartbeat: PathBuf::from(get(VARS[3])?),
            max_requests: get(VARS[4])?.parse().ok()?,
            master_pid: get(VARS[5])?.parse().ok()?,
            master_fd: get(VARS[6])?.parse().ok()?,
            graceful_timeout: Duration::from_millis(get(VARS[7])?.parse().ok()?),
        })
    }

    /// The environment variables that carry these settings.
    pub(crate) fn to_env(&self) -> [(&'static str, String); 8] {
        [
            (VARS[0], self.id.to_string()),
            (VARS[1], self.fd.to_string()),
            (VARS[2], self.kind.clone()),
            (VARS[3], self.heartbeat.display().to_string()),
            (VARS[4], self.max_requests.to_string()),
            (VARS[5], self.master_pid.to_string()),
            (VARS[6], self.master_fd.to_string()),
            (VARS[7], self.graceful_timeout.as_millis().to_string()),
        ]
    }
}

/// Why a worker could not tie its life to the master's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WatchError {
    /// The liveness pipe's descriptor could not be adopted.
    #[error("adopting the master's liveness pipe: {0}")]
    Pipe(std::io::Error),
    /// The thread that reads the pipe could not start.
    #[error("starting the master watch thread: {0}")]
    Thread(std::io::Error),
}

/// Makes this worker stop when the master dies, however it dies (`kill -9` included):
/// otherwise it would go on serving, unsupervised, and keep the port from a restarted
/// master. Two mechanisms, both ending in the SIGTERM a graceful stop uses (drain, then
/// exit; before the app is serving, SIGTERM's default action ends the process at once,
/// with nothing to drain):
///
/// - the kernel's parent-death signal, the quickest. It follows the *thread* that
///   spawned us, not the process; the master spawns from its main thread, which lives
///   as long as the master does;
/// - end of file on the master's liveness pipe, for what the signal misses: a master
///   that died before we asked for it (checked with `getppid` right after, too), a
///   spawning thread that is not the process's lifetime, an exec that clears it.
///
/// Call first thing in the worker.
///
/// # Errors
/// See [`WatchError`].
pub(super) fn watch_master(env: &WorkerEnv) -> Result<(), WatchError> {
    use nix::sys::prctl::set_pdeathsig;
    use nix::unistd::getppid;

    if let Err(e) = set_pdeathsig(Signal::SIGTERM) {
        tracing::warn!(target: "fymo::worker", error = %e, "no parent-death signal; relying on the liveness pipe");
    }
    // The master may have died before the call above: then no signal will ever come, and
    // we have already been handed to another parent.
    if getppid().as_raw() != i32::try_from(env.master_pid).unwrap_or(-1) {
        master_gone(env.id);
    }
    let pipe = crate::server::adopt_inherited(env.master_fd).map_err(WatchError::Pipe)?;
    let (id, grace) = (env.id, env.graceful_timeout);
    std::thread::Builder::new()
        .name("fymo-master-watch".into())
        .spawn(move || {
            wait_for_eof(std::fs::File::from(pipe));
            master_gone(id);
            // No master is left to kill a worker whose drain hangs: do it ourselves.
            std::thread::sleep(grace);
            tracing::error!(target: "fymo::worker", worker = id, "did not drain within the graceful timeout: exiting");
            std::process::exit(1);
        })
        .map_err(WatchError::Thread)?;
    Ok(())
}

/// Blocks until `pipe` reads end of file (every write end closed: the master is gone).
/// A read error other than an interruption counts as the same: the pipe can tell nothing
/// more.
fn wait_for_eof(mut pipe: impl Read) {
    let mut byte = [0_u8; 1];
    loop {
        match pipe.read(&mut byte) {
            Ok(0) => return,
            Ok(_) => {} // the master never writes; ignore
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The master is gone: stop as on the master's SIGTERM.
fn master_gone(id: u32) {
    tracing::warn!(target: "fymo::worker", worker = id, "the master is gone: stopping");
    let _ = kill(Pid::this(), Signal::SIGTERM);
}

fn touch(path: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::options().create(true).truncate(false).write(true).open(path)?.set_modified(SystemTime::now())
}

/// Runs this process as worker `env`; returns the process exit code.
pub(crate) fn run(app: &App, options: SiteOptions, mode: Mode, env: &WorkerEnv) -> i32 {
    if let Err(e) = watch_master(env) {
        tracing::error!(target: "fymo::worker", worker = env.id, error = %e, "cannot watch the master");
        return WORKER_BOOT_ERROR;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_round_trips() {
        let env = WorkerEnv {
            id: 7,
            fd: 3,
            kind: "tcp".into(),
            heartbeat: PathBuf::from("/tmp/beat"),
            max_requests: 40,
            master_pid: 1234,
            master_fd: 4,
            graceful_timeout: Duration::from_secs(30),
        };
        let vars: std::collections::HashMap<_, _> = env.to_env().into_iter().collect();
        assert_eq!(WorkerEnv::from_vars(|k| vars.get(k).cloned()), Some(env));
    }

    #[test]
    fn the_pipe_watch_returns_once_every_write_end_is_closed() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            wait_for_eof(std::fs::File::from(read));
            let _ = done_tx.send(());
        });
        assert!(done.recv_timeout(Duration::from_millis(100)).is_err(), "returned while the master lives");
        drop(write);
        assert!(done.recv_timeout(Duration::from_secs(10)).is_ok(), "no end of file after the master went");
    }
}
