//! A pool of engine instances, one per dedicated thread.
//!
//! Requests go into one queue; whichever thread is free takes the next render. An
//! instance is replaced after `max_renders` renders (like gunicorn's `max_requests`),
//! after a render that poisoned it (deadline, memory), and when the bundle is reloaded.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::oneshot;

use super::{EngineBackend, EngineError, EngineInstance, Limits, RenderJob, Rendered};

/// Pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Number of instances (threads).
    pub size: usize,
    /// Replace an instance after this many renders (0 = never).
    pub max_renders: u64,
    /// Per-instance limits.
    pub limits: Limits,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            size: thread::available_parallelism().map_or(1, |n| n.get()),
            max_renders: 10_000,
            limits: Limits::default(),
        }
    }
}

/// Counters for the health endpoint and logs.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PoolStats {
    /// Backend name.
    pub engine: &'static str,
    /// Number of instances.
    pub size: usize,
    /// Instances currently rendering.
    pub busy: usize,
    /// Renders finished (ok or not).
    pub renders: u64,
    /// Instances created after the first ones (recycled, poisoned, reloaded).
    pub recycled: u64,
    /// Bundle generation (bumped by each reload).
    pub generation: u64,
}

struct Task {
    job: RenderJob,
    reply: oneshot::Sender<Result<Rendered, EngineError>>,
}

struct Shared {
    backend: Box<dyn EngineBackend>,
    config: PoolConfig,
    bundle: RwLock<(u64, Arc<str>)>,
    busy: AtomicUsize,
    renders: AtomicU64,
    recycled: AtomicU64,
}

/// Handle to the pool; cheap to clone. Threads stop when the last handle drops.
#[derive(Clone)]
pub struct EnginePool {
    queue: Sender<Task>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EnginePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnginePool").field("stats", &self.stats()).finish()
    }
}

impl EnginePool {
    /// Starts the pool's threads. Each evaluates `bundle` once; a bundle that fails to
    /// load is reported here rather than on the first request.
    pub fn start(backend: impl EngineBackend, bundle: String, config: PoolConfig) -> Result<Self, EngineError> {
        // Fail fast: one trial instance proves the bundle loads.
        backend.instantiate(&bundle, config.limits)?;
        let (queue, tasks) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            backend: Box::new(backend),
            config,
            bundle: RwLock::new((0, Arc::from(bundle))),
            busy: AtomicUsize::new(0),
            renders: AtomicU64::new(0),
            recycled: AtomicU64::new(0),
        });
        for index in 0..config.size.max(1) {
            let (shared, tasks) = (shared.clone(), tasks.clone());
            thread::Builder::new()
                .name(format!("fymo-engine-{index}"))
                .spawn(move || run_thread(&shared, &tasks))
                .expect("spawning an engine thread");
        }
        Ok(Self { queue, shared })
    }

    /// Renders on the next free instance.
    pub async fn render(&self, job: RenderJob) -> Result<Rendered, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Task { job, reply }).map_err(|_| EngineError::PoolClosed)?;
        answer.await.map_err(|_| EngineError::PoolClosed)?
    }

    /// Swaps in a new SSR bundle. In-flight renders finish on the old one; each
    /// instance is rebuilt before its next render.
    pub fn reload(&self, bundle: String) -> Result<(), EngineError> {
        self.shared.backend.instantiate(&bundle, self.shared.config.limits)?;
        let mut current = self.shared.bundle.write().expect("bundle lock");
        *current = (current.0 + 1, Arc::from(bundle));
        Ok(())
    }

    /// Current counters.
    pub fn stats(&self) -> PoolStats {
        let s = &self.shared;
        PoolStats {
            engine: s.backend.name(),
            size: s.config.size.max(1),
            busy: s.busy.load(Ordering::Relaxed),
            renders: s.renders.load(Ordering::Relaxed),
            recycled: s.recycled.load(Ordering::Relaxed),
            generation: s.bundle.read().expect("bundle lock").0,
        }
    }
}

fn current_bundle(shared: &Shared) -> (u64, Arc<str>) {
    let guard = shared.bundle.read().expect("bundle lock");
    (guard.0, guard.1.clone())
}

/// One pool thread: owns at most one instance and rebuilds it ahead of the next task,
/// so a recycle costs the next request nothing.
fn run_thread(shared: &Shared, tasks: &Receiver<Task>) {
    let mut slot: Option<Slot> = None;
    let mut first = true;
    loop {
        let _ = ensure_instance(shared, &mut slot, &mut first);
        let Ok(task) = tasks.recv() else { return };
        // A reload may have happened while this thread waited; a failed start earlier
        // is retried here so the request gets the real error.
        if let Err(e) = ensure_instance(shared, &mut slot, &mut first) {
            let _ = task.reply.send(Err(e));
            continue;
        }
        let current = slot.as_mut().expect("instance just ensured");
        shared.busy.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + shared.config.limits.deadline;
        let result = current.instance.render(&task.job, deadline);
        shared.busy.fetch_sub(1, Ordering::Relaxed);
        shared.renders.fetch_add(1, Ordering::Relaxed);
        current.renders += 1;
        let poisoned = result.as_ref().is_err_and(EngineError::poisons_instance);
        let worn_out = shared.config.max_renders > 0 && current.renders >= shared.config.max_renders;
        let _ = task.reply.send(result);
        if poisoned || worn_out {
            tracing::debug!(target: "fymo::engine", poisoned, worn_out, "recycling engine instance");
            slot = None;
        }
    }
}

struct Slot {
    generation: u64,
    renders: u64,
    instance: Box<dyn EngineInstance>,
}

fn ensure_instance(shared: &Shared, slot: &mut Option<Slot>, first: &mut bool) -> Result<(), EngineError> {
    let (generation, bundle) = current_bundle(shared);
    if slot.as_ref().is_some_and(|s| s.generation == generation) {
        return Ok(());
    }
    *slot = None;
    let instance = shared
        .backend
        .instantiate(&bundle, shared.config.limits)
        .inspect_err(|e| tracing::error!(target: "fymo::engine", error = %e, "engine instance failed to start"))?;
    if !std::mem::take(first) {
        shared.recycled.fetch_add(1, Ordering::Relaxed);
    }
    *slot = Some(Slot { generation, renders: 0, instance });
    Ok(())
}
