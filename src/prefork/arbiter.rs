//! The prefork master, in gunicorn's mould: binds the socket, starts workers that
//! accept on it, and supervises them in one loop of short verbs (`spawn_worker`,
//! `reap_workers`, `murder_workers`, `manage_workers`). Signal handlers only queue the
//! signal; the loop does the work.
//!
//! | signal | does |
//! |---|---|
//! | HUP | graceful reload: new workers up and serving, then the old ones drain |
//! | TERM, INT | graceful stop: drain in-flight requests, exit within `graceful_timeout` |
//! | QUIT | stop at once |
//! | TTIN, TTOU | one worker more, one fewer |
//! | CHLD | a worker exited: reap it, replace it |
//!
//! Workers are this same executable started again with [`WorkerEnv`] in their
//! environment: each builds its own engine and Python pools after it starts, sharing no
//! pipe or engine instance with another process.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use nix::fcntl::OFlag;
use nix::sys::signal::{kill, Signal};
use nix::unistd::{pipe2, Pid};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTTIN, SIGTTOU};

use super::worker::{WorkerEnv, WORKER_BOOT_ERROR};
use crate::server::BoundListener;

/// Master settings.
#[derive(Debug, Clone)]
pub(crate) struct ArbiterConfig {
    /// Number of workers.
    pub workers: usize,
    /// A booted worker silent for this long is killed and replaced.
    pub timeout: Duration,
    /// How long stopping workers may drain before they are killed.
    pub graceful_timeout: Duration,
    /// Recycle a worker after this many requests (0 = never)...
    pub max_requests: u64,
    /// ...plus a random 0..=jitter, so workers do not all restart together.
    pub max_requests_jitter: u64,
    /// Where to write the master's pid.
    pub pid_file: Option<PathBuf>,
    /// The executable workers are started from: this one's path, resolved once at
    /// start-up (as gunicorn keeps its start context), so a deploy that renames a new
    /// binary over it is what the next worker runs — after that, this process's own
    /// `/proc/self/exe` reads `… (deleted)`.
    pub exe: PathBuf,
    /// Arguments for the worker processes (this process's own).
    pub worker_args: Vec<std::ffi::OsString>,
    /// Extra environment for the workers (the live relay's socket).
    pub worker_env: Vec<(&'static str, std::ffi::OsString)>,
}

struct Worker {
    id: u32,
    child: Child,
    generation: u64,
    heartbeat: PathBuf,
    spawned: Instant,
    booted: bool,
    stopping: Option<Instant>,
}

impl Worker {
    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits i32"))
    }

    fn signal(&self, signal: Signal) {
        let _ = kill(self.pid(), signal);
    }

    fn last_beat(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.heartbeat).and_then(|m| m.modified()).ok()
    }
}

/// The master process.
pub(crate) struct Arbiter {
    config: ArbiterConfig,
    /// Dropped when stopping, so new connections are refused while workers drain.
    listener: Option<BoundListener>,
    listen_fd: i32,
    listen_kind: &'static str,
    listen_url: String,
    unix_path: Option<PathBuf>,
    workers: Vec<Worker>,
    target: usize,
    generation: u64,
    next_id: u32,
    heartbeat_dir: tempfile::TempDir,
    lifeline: Lifeline,
    signals: mpsc::Receiver<i32>,
    stopping: Option<(bool, Instant)>,
    /// After a failed spawn: no other before this, and how long the wait was (doubling).
    spawn_backoff: Option<(Instant, Duration)>,
}

/// The first wait after a failed spawn, and the longest.
const SPAWN_BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

/// The master's liveness pipe. Workers inherit the read end; only the master holds the
/// write end (close-on-exec, so no child inherits it), so a worker reads end of file
/// exactly when the master process is gone, however it died.
struct Lifeline {
    /// Inheritable; handed to every worker.
    read: OwnedFd,
    /// Never written: held open for as long as the master lives.
    _write: OwnedFd,
}

impl Lifeline {
    fn new() -> std::io::Result<Self> {
        let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(std::io::Error::from)?;
        crate::server::share_with_children(read.as_fd())?;
        Ok(Self { read, _write: write })
    }
}

/// How the master ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Stopped by a signal: exit 0.
    Stopped,
    /// A worker could not boot the app: exit non-zero.
    BootFailed,
}

impl Arbiter {
    /// Prepares the master around an already-bound `listener`.
    ///
    /// # Errors
    /// When the signal handlers, the heartbeat directory or the pid file cannot be set up.
    pub(crate) fn new(config: ArbiterConfig, listener: BoundListener) -> std::io::Result<Self> {
        let listen_fd = listener.share_with_children()?;
        let (tx, signals) = mpsc::channel();
        let mut iter =
            signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGTTIN, SIGTTOU, SIGCHLD])?;
        std::thread::Builder::new().name("fymo-signals".into()).spawn(move || {
            for signal in iter.forever() {
                if tx.send(signal).is_err() {
                    return;
                }
            }
        })?;
        if let Some(pid_file) = &config.pid_file {
            std::fs::write(pid_file, format!("{}\n", std::process::id()))?;
        }
        Ok(Self {
            target: config.workers.max(1),
            config,
            listen_kind: listener.kind(),
            listen_url: listener.url(),
            unix_path: match &listener {
                BoundListener::Unix(_, path) => Some(path.clone()),
                BoundListener::Tcp(_) => None,
            },
            listener: Some(listener),
            listen_fd,
            workers: Vec::new(),
            generation: 0,
            next_id: 1,
            heartbeat_dir: tempfile::Builder::new().prefix("fymo-heartbeat-").tempdir()?,
            lifeline: Lifeline::new()?,
            signals,
            stopping: None,
            spawn_backoff: None,
        })
    }

    /// Runs the master loop until stopped.
    pub(crate) fn run(mut self) -> Ended {
        tracing::info!(target: "fymo::arbiter", pid = std::process::id(), workers = self.target, "listening on {} (prefork master)", self.listen_url);
        let ended = loop {
            match self.signals.recv_timeout(Duration::from_millis(200)) {
                Ok(signal) => self.handle(signal),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => self.stop(true),
            }
            if let Some(ended) = self.reap_workers() {
                break ended;
            }
            if let Some((_, deadline)) = self.stopping {
                if self.workers.is_empty() {
                    break Ended::Stopped;
                }
                if Instant::now() >= deadline {
                    self.halt_remaining();
                }
                continue;
            }
            self.murder_workers();
            self.manage_workers();
        };
        self.cleanup();
        ended
    }

    fn handle(&mut self, signal: i32) {
        match signal {
            SIGHUP => self.reload(),
            SIGTERM | SIGINT => self.stop(true),
            SIGQUIT => self.stop(false),
            SIGTTIN => {
                self.target += 1;
                tracing::info!(target: "fymo::arbiter", workers = self.target, "SIGTTIN: one worker more");
            }
            SIGTTOU => {
                self.target = self.target.saturating_sub(1).max(1);
                tracing::info!(target: "fymo::arbiter", workers = self.target, "SIGTTOU: one worker fewer");
            }
            _ => {} // SIGCHLD: reaping happens on every turn
        }
    }

    /// SIGHUP: a new generation of workers; the old one is retired once it is up.
    fn reload(&mut self) {
        self.generation += 1;
        tracing::info!(target: "fymo::arbiter", generation = self.generation, "SIGHUP: starting new workers, then draining the old ones");
    }

    fn stop(&mut self, graceful: bool) {
        if self.stopping.is_some() && graceful {
            return;
        }
        let (signal, grace) = if graceful {
            (Signal::SIGTERM, self.config.graceful_timeout)
        } else {
            (Signal::SIGQUIT, Duration::from_secs(1))
        };
        tracing::info!(target: "fymo::arbiter", graceful, "stopping: {} workers", self.workers.len());
        // Our copy first: the socket then closes when the last worker has emptied the
        // accept queue and closed its own (see server::drain), so nothing queued is reset.
        self.listener = None;
        for worker in &mut self.workers {
            worker.signal(signal);
            worker.stopping.get_or_insert_with(Instant::now);
        }
        self.stopping = Some((graceful, Instant::now() + grace));
    }

    fn halt_remaining(&mut self) {
        for worker in &mut self.workers {
            tracing::warn!(target: "fymo::arbiter", worker = worker.id, "did not stop in time: killing");
            let _ = worker.child.kill();
        }
    }

    fn spawn_worker(&mut self) {
        let id = self.next_id;
        self.next_id += 1;
        let jitter = match self.config.max_requests_jitter {
            0 => 0,
            j => u64::from(std::process::id() ^ id.wrapping_mul(2_654_435_761)) % (j + 1),
        };
        let env = WorkerEnv {
            id,
            fd: self.listen_fd,
            kind: self.listen_kind.to_owned(),
            heartbeat: self.heartbeat_dir.path().join(format!("worker-{id}")),
            max_requests: if self.config.max_requests == 0 { 0 } else { self.config.max_requests + jitter },
            master_pid: std::process::id(),
            master_fd: self.lifeline.read.as_raw_fd(),
            graceful_timeout: self.config.graceful_timeout,
        };
        match Command::new(&self.config.exe)
            .args(&self.config.worker_args)
            .envs(env.to_env())
            .envs(self.config.worker_env.iter().cloned())
            .spawn()
        {
            Ok(child) => {
                tracing::info!(target: "fymo::arbiter", worker = id, pid = child.id(), generation = self.generation, "worker spawned");
                self.workers.push(Worker {
                    id,
                    child,
                    generation: self.generation,
                    heartbeat: env.heartbeat,
                    spawned: Instant::now(),
                    booted: false,
                    stopping: None,
                });
            }
            Err(e) => {
                // Said once per wait, never in a tight loop (a binary deleted, not replaced).
                let wait = self.spawn_backoff.map_or(SPAWN_BACKOFF.0, |(_, w)| (w * 2).min(SPAWN_BACKOFF.1));
                self.spawn_backoff = Some((Instant::now() + wait, wait));
                tracing::error!(
                    target: "fymo::arbiter",
                    error = %e,
                    exe = %self.config.exe.display(),
                    retry_in_ms = wait.as_millis() as u64,
                    "cannot spawn a worker"
                );
                return;
            }
        }
        self.spawn_backoff = None;
    }

    /// Removes workers that exited. A worker that failed to boot the app stops the master.
    fn reap_workers(&mut self) -> Option<Ended> {
        let mut boot_failed = false;
        let current_generation = self.generation;
        self.workers.retain_mut(|worker| match worker.child.try_wait() {
            Ok(Some(status)) => {
                let _ = std::fs::remove_file(&worker.heartbeat);
                if worker.stopping.is_none() {
                    tracing::warn!(target: "fymo::arbiter", worker = worker.id, %status, "worker exited");
                }
                // Only the current generation counts: a reload already given up on is not news.
                boot_failed |= !worker.booted
                    && status.code() == Some(WORKER_BOOT_ERROR)
                    && worker.generation == current_generation;
                false
            }
            _ => true,
        });
        if !boot_failed {
            return None;
        }
        // A reload whose new app does not boot: keep serving with the workers that run
        // (an older generation's, booted or still booting: the old app booted before).
        let current = self.generation;
        let serving =
            self.workers.iter().filter(|w| w.generation < current && w.stopping.is_none()).map(|w| w.generation).max();
        if let Some(generation) = serving {
            tracing::error!(target: "fymo::arbiter", "reload failed: the new workers cannot boot the app (see above); keeping the running ones");
            self.generation = generation;
            for worker in self.workers.iter_mut().filter(|w| w.generation > generation && w.stopping.is_none()) {
                worker.signal(Signal::SIGTERM);
                worker.stopping = Some(Instant::now());
            }
            return None;
        }
        tracing::error!(target: "fymo::arbiter", "a worker failed to boot the app: stopping (see its error above)");
        self.listener = None;
        self.halt_remaining();
        for worker in &mut self.workers {
            let _ = worker.child.wait();
        }
        self.workers.clear();
        Some(Ended::BootFailed)
    }

    /// Kills workers whose heartbeat is older than the timeout (or that never booted).
    fn murder_workers(&mut self) {
        let boot_timeout = self.config.timeout.max(Duration::from_secs(60));
        for worker in &mut self.workers {
            let beat = worker.last_beat();
            if !worker.booted && beat.is_some() {
                worker.booted = true;
                tracing::info!(target: "fymo::arbiter", worker = worker.id, boot_ms = worker.spawned.elapsed().as_millis() as u64, "worker ready");
            }
            let stale = match beat {
                Some(t) => t.elapsed().unwrap_or_default() > self.config.timeout,
                None => worker.spawned.elapsed() > boot_timeout,
            };
            if stale && worker.stopping.is_none() {
                tracing::error!(target: "fymo::arbiter", worker = worker.id, pid = worker.child.id(), "worker timeout: killing");
                let _ = worker.child.kill();
            } else if let Some(since) = worker.stopping {
                if since.elapsed() > self.config.graceful_timeout {
                    let _ = worker.child.kill();
                }
            }
        }
    }

    /// Keeps `target` workers of the current generation; retires the old generation once
    /// the new one is up, and extra workers oldest first.
    fn manage_workers(&mut self) {
        let generation = self.generation;
        let current = move |w: &Worker| w.generation == generation && w.stopping.is_none();
        let live = self.workers.iter().filter(|w| current(w)).count();
        for _ in live..self.target {
            if self.spawn_backoff.is_some_and(|(until, _)| Instant::now() < until) {
                break;
            }
            self.spawn_worker();
        }
        let booted = self.workers.iter().filter(|w| current(w) && w.booted).count();
        if booted >= self.target {
            for worker in self.workers.iter_mut().filter(|w| w.generation != generation && w.stopping.is_none()) {
                tracing::info!(target: "fymo::arbiter", worker = worker.id, "retiring worker of an older generation");
                worker.signal(Signal::SIGTERM);
                worker.stopping = Some(Instant::now());
            }
        }
        let mut extra = self.workers.iter().filter(|w| current(w)).count().saturating_sub(self.target);
        for worker in self.workers.iter_mut().filter(|w| w.generation == generation && w.stopping.is_none()) {
            if extra == 0 {
                break;
            }
            tracing::info!(target: "fymo::arbiter", worker = worker.id, "stopping a worker (fewer wanted)");
            worker.signal(Signal::SIGTERM);
            worker.stopping = Some(Instant::now());
            extra -= 1;
        }
    }

    fn cleanup(&mut self) {
        if let Some(pid_file) = &self.config.pid_file {
            let _ = std::fs::remove_file(pid_file);
        }
        if let Some(path) = &self.unix_path {
            let _ = std::fs::remove_file(path);
        }
        tracing::info!(target: "fymo::arbiter", "master stopped");
    }
}
