//! The supervised pool of Python worker processes.
//!
//! A call waits for a free slot (a semaphore, first come first served), takes the slot's
//! worker process and talks to it from the caller's own task: no hop through another task
//! or thread on the way there or back. A slow controller holds up only its own slot. A
//! process that crashes, overruns the timeout or breaks the protocol is killed, and the
//! slot starts a new one for its next call; the call that saw it fail gets a clear error.
//! A call abandoned mid-exchange (its request went away) keeps its slot until the worker
//! has answered, on a task of its own, then the worker serves the next call: a client
//! that hangs up costs the controller's run, not a new interpreter. Only a call
//! abandoned while its request was half written kills its worker.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::protocol::{write_frame, Call, FrameReader, Reply};

const WORKER_SOURCE: &str = include_str!("../../../python/fymo_worker.py");
const HELPER_SOURCE: &str = include_str!("../../../python/fymo.py");

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PythonConfig {
    /// The interpreter.
    pub python: PathBuf,
    /// Number of worker processes.
    pub workers: usize,
    /// Longest a call may take before its worker is killed.
    pub timeout: Duration,
}

impl Default for PythonConfig {
    fn default() -> Self {
        Self {
            python: PathBuf::from("python3"),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why a Python call failed below the controller's own code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PythonError {
    /// The worker did not answer in time; it was killed.
    #[error("timed out after {0:?}; the worker was killed and replaced")]
    Timeout(Duration),
    /// The worker died during the call.
    #[error("the Python worker died during the call ({0}); it was replaced")]
    Died(String),
    /// The worker wrote something that is not the protocol.
    #[error("the Python worker broke the protocol ({0}); it was killed and replaced")]
    Protocol(String),
    /// The interpreter could not be started.
    #[error("cannot start `{python}`: {message}")]
    Spawn {
        /// The interpreter.
        python: String,
        /// Why.
        message: String,
    },
    /// The pool is shut down.
    #[error("the Python pool is not running")]
    Closed,
}

/// A worker's answer: the `result` object or the controller-level error.
pub(crate) type CallResult = Result<Reply, PythonError>;

struct Job<'a> {
    controller: &'a str,
    file: &'a str,
    call: &'static str,
    request: &'a serde_json::value::RawValue,
}

struct Shared {
    config: PythonConfig,
    script: PathBuf,
    generation: AtomicU64,
    next_id: AtomicU64,
    /// One permit per slot not in use.
    free: Arc<Semaphore>,
    /// The slots not in use, each with its worker (`None`: start one at its next call).
    idle: std::sync::Mutex<Vec<Option<Worker>>>,
    /// Workers replaced after a failed call.
    restarts: AtomicU64,
    /// The last attempt to start an interpreter failed: calls cannot be served.
    down: AtomicBool,
}

/// What `/_fymo/health` shows of the pool.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(crate) struct PythonHealth {
    /// `ok`, or `down` while no interpreter can be started.
    pub(crate) state: &'static str,
    /// Interpreters running (idle or answering).
    pub(crate) workers: usize,
    /// How many the pool keeps.
    pub(crate) slots: usize,
    /// Workers replaced after a failed call.
    pub(crate) restarts: u64,
}

/// Handle to the pool. Dropping the last handle stops the workers.
#[derive(Clone)]
pub struct PythonPool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PythonPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonPool").field("config", &self.shared.config).finish()
    }
}

impl PythonPool {
    /// Writes the worker script under `<root>/.fymo/python/` and starts the workers.
    /// Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// When the script cannot be written.
    pub fn start(root: &Path, config: PythonConfig) -> std::io::Result<Self> {
        let dir = root.join(".fymo").join("python");
        std::fs::create_dir_all(&dir)?;
        write_if_changed(&dir.join("fymo_worker.py"), WORKER_SOURCE)?;
        write_if_changed(&dir.join("fymo.py"), HELPER_SOURCE)?;
        let slots = config.workers.max(1);
        let mut shared = Shared {
            script: dir.join("fymo_worker.py"),
            generation: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            free: Arc::new(Semaphore::new(slots)),
            idle: std::sync::Mutex::new(Vec::new()),
            restarts: AtomicU64::new(0),
            down: AtomicBool::new(false),
            config,
        };
        // Started now, so the first requests do not wait for interpreters to boot.
        let workers = (0..slots)
            .map(|slot| {
                Worker::spawn(&shared, slot)
                    .inspect_err(
                        |e| tracing::error!(target: "fymo::python", slot, error = %e, "python worker failed to start"),
                    )
                    .ok()
            })
            .collect();
        shared.idle = std::sync::Mutex::new(workers);
        Ok(Self { shared: Arc::new(shared) })
    }

    /// Calls controller `name` in `file`: `get_context`/`getContext`/`context` for `get`,
    /// `action` for `post`.
    pub(crate) async fn call(
        &self,
        name: &str,
        file: &Path,
        call: &'static str,
        request: &serde_json::value::RawValue,
    ) -> CallResult {
        let shared = &*self.shared;
        let file = file.to_string_lossy();
        let job = Job { controller: name, file: &file, call, request };
        let permit = shared.free.clone().acquire_owned().await.map_err(|_| PythonError::Closed)?;
        let mut slot = Slot::take(&self.shared, permit);
        let generation = shared.generation.load(Ordering::SeqCst);
        if slot.worker.as_ref().is_some_and(|w| w.generation != generation) {
            slot.worker = None;
        }
        let worker = match slot.worker.as_mut() {
            Some(w) => w,
            None => slot.worker.insert(Worker::spawn(shared, slot.index)?),
        };
        let result = worker.call(shared, &job).await;
        if let Err(e) = &result {
            tracing::warn!(target: "fymo::python", slot = slot.index, controller = %name, error = %e, "replacing python worker");
            slot.worker = None; // kill_on_drop ends the process
            shared.restarts.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// The pool's state for health checks.
    pub(crate) fn health(&self) -> PythonHealth {
        let shared = &*self.shared;
        let slots = shared.config.workers.max(1);
        let idle = shared.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A slot in use holds its worker; an idle one may have none until its next call.
        let in_use = slots - idle.len();
        let workers = in_use + idle.iter().filter(|w| w.is_some()).count();
        let down = shared.down.load(Ordering::Relaxed);
        PythonHealth {
            state: if down { "down" } else { "ok" },
            workers,
            slots,
            restarts: shared.restarts.load(Ordering::Relaxed),
        }
    }

    /// Replaces every worker before its next call (used when controller code changed).
    pub fn recycle(&self) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The settings.
    pub fn config(&self) -> &PythonConfig {
        &self.shared.config
    }
}

fn write_if_changed(path: &Path, contents: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|c| c == contents) {
        return Ok(());
    }
    std::fs::write(path, contents)
}

/// One live interpreter.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: FrameReader<ChildStdout>,
    generation: u64,
    exchange: Exchange,
}

/// Where a worker is in its exchange with the pool.
#[derive(Clone, Copy)]
enum Exchange {
    Idle,
    /// A call is being written: if abandoned now, the worker holds half a request.
    Writing,
    /// Call `id` was written at `since`; its reply is not read yet.
    Awaiting {
        id: u64,
        since: Instant,
    },
}

impl Worker {
    fn spawn(shared: &Shared, slot: usize) -> Result<Self, PythonError> {
        let spawn_error = |e: std::io::Error| PythonError::Spawn {
            python: shared.config.python.display().to_string(),
            message: e.to_string(),
        };
        let spawned = Command::new(&shared.config.python)
            .arg("-u")
            .arg(&shared.script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .kill_on_drop(true)
            .spawn();
        shared.down.store(spawned.is_err(), Ordering::Relaxed);
        let mut child = spawned.map_err(spawn_error)?;
        let pid = child.id().unwrap_or_default();
        let stderr = child.stderr.take().expect("piped stderr");
        // print() and stray writes in controllers arrive here: log them, line by line.
        // Bytes, not lines of text: a controller may write anything, and the pipe must be
        // drained until the process ends or the worker would block (or see EPIPE).
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            while matches!(reader.read_until(b'\n', &mut line).await, Ok(n) if n > 0) {
                let text = String::from_utf8_lossy(&line);
                tracing::info!(target: "fymo::python", pid, slot, "{}", text.trim_end());
                line.clear();
            }
        });
        tracing::debug!(target: "fymo::python", pid, slot, "python worker started");
        Ok(Self {
            stdin: child.stdin.take().expect("piped stdin"),
            stdout: FrameReader::new(child.stdout.take().expect("piped stdout")),
            child,
            generation: shared.generation.load(Ordering::SeqCst),
            exchange: Exchange::Idle,
        })
    }

    async fn call(&mut self, shared: &Shared, job: &Job<'_>) -> CallResult {
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let call = Call { id, controller: job.controller, file: job.file, call: job.call, request: job.request };
        let payload = serde_json::to_vec(&call).expect("a call serializes");
        let since = Instant::now();
        let exchange = async {
            self.exchange = Exchange::Writing;
            write_frame(&mut self.stdin, &payload).await.map_err(|e| self.died(e.to_string()))?;
            self.exchange = Exchange::Awaiting { id, since };
            self.reply(id).await
        };
        tokio::time::timeout(shared.config.timeout, exchange)
            .await
            .unwrap_or(Err(PythonError::Timeout(shared.config.timeout)))
    }

    /// Reads the reply to call `id`. Cancel-safe: an abandoned read can be resumed.
    async fn reply(&mut self, id: u64) -> CallResult {
        let frame = match self.stdout.next_frame().await {
            Ok(Some(frame)) => frame,
            Ok(None) => return Err(self.died("end of output".into())),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Err(PythonError::Protocol(e.to_string())),
            Err(e) => return Err(self.died(e.to_string())),
        };
        let reply: Reply = serde_json::from_slice(frame).map_err(|e| PythonError::Protocol(e.to_string()))?;
        if reply.id != id {
            return Err(PythonError::Protocol(format!("answer to call {} while waiting for {id}", reply.id)));
        }
        self.exchange = Exchange::Idle;
        Ok(reply)
    }

    /// Reads the reply to a call whose request went away, within what is left of the
    /// call's timeout; the worker when it can serve again.
    async fn finish_abandoned(mut self, timeout: Duration) -> Option<Self> {
        let Exchange::Awaiting { id, since } = self.exchange else { return None };
        let left = timeout.saturating_sub(since.elapsed());
        let result = tokio::time::timeout(left, self.reply(id)).await.unwrap_or(Err(PythonError::Timeout(timeout)));
        match result {
            Ok(_) => Some(self),
            Err(e) => {
                tracing::warn!(target: "fymo::python", error = %e, "replacing python worker");
                None
            }
        }
    }

    fn died(&mut self, fallback: String) -> PythonError {
        match self.child.try_wait() {
            Ok(Some(status)) => PythonError::Died(status.to_string()),
            _ => PythonError::Died(fallback),
        }
    }
}

/// A slot taken from the pool for one call, with the permit that stands for it; both go
/// back when it is dropped (see the module's notes for a call abandoned mid-exchange).
struct Slot {
    shared: Arc<Shared>,
    index: usize,
    worker: Option<Worker>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Slot {
    fn take(shared: &Arc<Shared>, permit: OwnedSemaphorePermit) -> Self {
        let mut idle = shared.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let worker = idle.pop().expect("a permit stands for an idle slot");
        Self { shared: shared.clone(), index: idle.len(), worker, permit: Some(permit) }
    }

    fn put_back(shared: &Shared, worker: Option<Worker>) {
        shared.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(worker);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // The permit is released after the slot is back (field drop order, or the task's
        // end): the next call must find a slot for its permit.
        let worker = match self.worker.take() {
            Some(w) if matches!(w.exchange, Exchange::Awaiting { .. }) => match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    tracing::info!(target: "fymo::python", slot = self.index, "request went away during its python call; the worker finishes it");
                    let (shared, permit) = (self.shared.clone(), self.permit.take());
                    runtime.spawn(async move {
                        let kept = w.finish_abandoned(shared.config.timeout).await;
                        Self::put_back(&shared, kept);
                        drop(permit);
                    });
                    return;
                }
                Err(_) => None, // no runtime to finish it on (shutting down)
            },
            Some(w) if matches!(w.exchange, Exchange::Writing) => None, // kill_on_drop ends the process
            other => other,
        };
        Self::put_back(&self.shared, worker);
    }
}
