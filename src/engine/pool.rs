//! A pool of engine instances, one per dedicated thread.
//!
//! Requests go into one queue; whichever thread is free takes the next render. An
//! instance is replaced after a render that poisoned it (deadline, memory, changed
//! built-ins), when the bundle is reloaded, and after `max_renders` renders if that is
//! set (like gunicorn's `max_requests`, off by default: a new V8 instance has to compile
//! the hot code again, which cost ~15 % of the throughput at 10,000 renders).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::oneshot;

use super::{EngineBackend, EngineError, EngineInstance, Limits, RenderJob, Rendered};

/// Native stack of an engine thread: well above the JavaScript stack limit each engine
/// enforces (QuickJS's 4 MiB, V8's ~1 MiB), so unbounded recursion in a template ends in a
/// catchable JavaScript error rather than a native overflow that aborts the process.
/// Only the pages touched are committed.
const ENGINE_STACK: usize = 32 * 1024 * 1024;

/// Pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Number of instances (threads).
    pub size: usize,
    /// Replace an instance after this many renders (0 = never, the default).
    pub max_renders: u64,
    /// Per-instance limits.
    pub limits: Limits,
    /// After this long without a task, an instance that rendered since gives memory back
    /// (a full garbage collection, and the C allocator's free pages to the OS): a burst
    /// of large pages leaves hundreds of MiB resident otherwise.
    pub idle_release: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            size: thread::available_parallelism().map_or(1, |n| n.get()),
            max_renders: 0,
            limits: Limits::default(),
            idle_release: Duration::from_secs(2),
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
    /// Times an idle instance gave memory back.
    pub released: u64,
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
    released: AtomicU64,
    /// Each thread reports the first instance it builds of a new generation here, so a
    /// reload learns whether the new bundle loads without evaluating it one extra time.
    loaded: Sender<LoadReport>,
}

/// A thread's report of building an instance of a generation.
type LoadReport = (u64, Result<(), EngineError>);

/// Handle to the pool; cheap to clone. Threads stop when the last handle drops.
#[derive(Clone)]
pub struct EnginePool {
    queue: Sender<Task>,
    shared: Arc<Shared>,
    /// One per thread: wakes it to rebuild its instance right after a reload.
    wakers: Arc<Vec<Sender<()>>>,
    loaded: Arc<std::sync::Mutex<Receiver<LoadReport>>>,
}

impl std::fmt::Debug for EnginePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnginePool").field("stats", &self.stats()).finish()
    }
}

impl EnginePool {
    /// Starts the pool's threads and returns once each has its instance (built in
    /// parallel, each evaluating `bundle` or starting from its snapshot): a bundle that
    /// fails to load is reported here rather than on the first request.
    pub fn start(backend: impl EngineBackend, bundle: String, config: PoolConfig) -> Result<Self, EngineError> {
        let (queue, tasks) = crossbeam_channel::unbounded();
        let (started_tx, started) = crossbeam_channel::unbounded();
        let (loaded_tx, loaded) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            backend: Box::new(backend),
            config,
            bundle: RwLock::new((0, Arc::from(bundle))),
            busy: AtomicUsize::new(0),
            renders: AtomicU64::new(0),
            recycled: AtomicU64::new(0),
            released: AtomicU64::new(0),
            loaded: loaded_tx,
        });
        let mut wakers = Vec::new();
        for index in 0..config.size.max(1) {
            let (shared, tasks, started) = (shared.clone(), tasks.clone(), started_tx.clone());
            let (waker, wake) = crossbeam_channel::unbounded();
            wakers.push(waker);
            thread::Builder::new()
                .name(format!("fymo-engine-{index}"))
                .stack_size(ENGINE_STACK)
                .spawn(move || run_thread(&shared, &tasks, &wake, &started))
                .expect("spawning an engine thread");
        }
        drop(started_tx);
        for _ in 0..config.size.max(1) {
            // On an error the threads end with the queue, dropped on return.
            started.recv().map_err(|_| EngineError::PoolClosed)??;
        }
        Ok(Self { queue, shared, wakers: Arc::new(wakers), loaded: Arc::new(std::sync::Mutex::new(loaded)) })
    }

    /// Renders on the next free instance.
    pub async fn render(&self, job: RenderJob) -> Result<Rendered, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Task { job, reply }).map_err(|_| EngineError::PoolClosed)?;
        answer.await.map_err(|_| EngineError::PoolClosed)?
    }

    /// Swaps in a new SSR bundle: every thread rebuilds its instance at once (renders in
    /// flight finish on the old one), and this returns when the first new instance is up.
    /// A bundle that fails to load is rolled back and its error returned.
    ///
    /// # Errors
    /// The new bundle's load error.
    pub fn reload(&self, bundle: String) -> Result<(), EngineError> {
        let loaded = self.loaded.lock().expect("reload lock");
        while loaded.try_recv().is_ok() {} // reports of earlier generations
        let (generation, previous) = {
            let mut current = self.shared.bundle.write().expect("bundle lock");
            let previous = current.1.clone();
            *current = (current.0 + 1, Arc::from(bundle));
            (current.0, previous)
        };
        self.wake_all();
        loop {
            match loaded.recv() {
                Ok((g, Ok(()))) if g == generation => return Ok(()),
                Ok((g, Err(e))) if g == generation => {
                    let mut current = self.shared.bundle.write().expect("bundle lock");
                    *current = (current.0 + 1, previous);
                    drop(current);
                    self.wake_all();
                    return Err(e);
                }
                Ok(_) => {}
                Err(_) => return Err(EngineError::PoolClosed),
            }
        }
    }

    fn wake_all(&self) {
        for waker in self.wakers.iter() {
            let _ = waker.send(());
        }
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
            released: s.released.load(Ordering::Relaxed),
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
fn run_thread(shared: &Shared, tasks: &Receiver<Task>, wake: &Receiver<()>, started: &Sender<Result<(), EngineError>>) {
    let (generation, bundle) = current_bundle(shared);
    let mut slot = match shared.backend.instantiate(&bundle, shared.config.limits) {
        Ok(instance) => Some(Slot { generation, renders: 0, instance }),
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let mut built = Some(generation);
    let _ = started.send(Ok(()));
    // Rendered since memory was last given back.
    let mut dirty = false;
    loop {
        let _ = ensure_instance(shared, &mut slot, &mut built);
        let task = crossbeam_channel::select! {
            recv(tasks) -> task => match task {
                Ok(task) => task,
                Err(_) => return,
            },
            recv(wake) -> woken => match woken {
                Ok(()) => continue, // a reload: rebuild now, not on the next request
                Err(_) => return,
            },
            default(shared.config.idle_release) => {
                if std::mem::take(&mut dirty) {
                    if let Some(current) = slot.as_mut() {
                        current.instance.release_memory();
                    }
                    super::memory::trim_malloc();
                    shared.released.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            },
        };
        dirty = true;
        // A reload may have happened while this thread waited; a failed start earlier
        // is retried here so the request gets the real error.
        if let Err(e) = ensure_instance(shared, &mut slot, &mut built) {
            let _ = task.reply.send(Err(e));
            continue;
        }
        if task.job.isolate {
            render_isolated(shared, task);
            continue;
        }
        let current = slot.as_mut().expect("instance just ensured");
        shared.busy.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + shared.config.limits.deadline;
        let result = current.instance.render(&task.job, deadline);
        shared.busy.fetch_sub(1, Ordering::Relaxed);
        shared.renders.fetch_add(1, Ordering::Relaxed);
        current.renders += 1;
        let mut poisoned = result.as_ref().is_err_and(EngineError::poisons_instance);
        let worn_out = shared.config.max_renders > 0 && current.renders >= shared.config.max_renders;
        let _ = task.reply.send(result);
        // After answering: the check costs the next render, not this one.
        if !poisoned && !worn_out {
            if let Some(what) = current.instance.tampered() {
                tracing::warn!(target: "fymo::engine", page = %task.job.page, changed = %what, "the render changed built-ins: replacing the engine instance");
                poisoned = true;
            }
        }
        if poisoned || worn_out {
            tracing::debug!(target: "fymo::engine", poisoned, worn_out, "recycling engine instance");
            slot = None;
        }
    }
}

/// Renders `task` in an instance built for it alone, then drops the instance.
fn render_isolated(shared: &Shared, task: Task) {
    let (_, bundle) = current_bundle(shared);
    shared.busy.fetch_add(1, Ordering::Relaxed);
    let result = shared.backend.instantiate(&bundle, shared.config.limits).and_then(|mut instance| {
        let deadline = Instant::now() + shared.config.limits.deadline;
        instance.render(&task.job, deadline)
    });
    shared.busy.fetch_sub(1, Ordering::Relaxed);
    shared.renders.fetch_add(1, Ordering::Relaxed);
    let _ = task.reply.send(result);
}

struct Slot {
    generation: u64,
    renders: u64,
    instance: Box<dyn EngineInstance>,
}

/// Builds the thread's instance if it has none or an old generation. `built` is the
/// generation this thread last built (or tried to).
fn ensure_instance(shared: &Shared, slot: &mut Option<Slot>, built: &mut Option<u64>) -> Result<(), EngineError> {
    let (generation, bundle) = current_bundle(shared);
    if slot.as_ref().is_some_and(|s| s.generation == generation) {
        return Ok(());
    }
    *slot = None;
    let result = shared.backend.instantiate(&bundle, shared.config.limits);
    if built.is_some_and(|b| b != generation) {
        let _ = shared.loaded.send((generation, result.as_ref().map(|_| ()).map_err(Clone::clone)));
    }
    let first = built.replace(generation).is_none();
    let instance = result
        .inspect_err(|e| tracing::error!(target: "fymo::engine", error = %e, "engine instance failed to start"))?;
    if !first {
        shared.recycled.fetch_add(1, Ordering::Relaxed);
    }
    *slot = Some(Slot { generation, renders: 0, instance });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    fn bundle(body: &str) -> String {
        format!("globalThis.__fymo = {{ render: (page, layout, props) => ['', {body:?} + JSON.parse(props).n] }};")
    }

    fn render(pool: &EnginePool, n: u32) -> Result<Rendered, EngineError> {
        let job =
            RenderJob { page: "p".into(), layouts_json: None, props_json: format!("{{\"n\":{n}}}"), isolate: false };
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(pool.render(job))
    }

    #[test]
    fn reload_swaps_the_bundle_and_rolls_back_a_broken_one() {
        for &engine in Engine::ALL {
            reload_swaps_and_rolls_back(engine);
        }
    }

    fn reload_swaps_and_rolls_back(engine: Engine) {
        let config = PoolConfig { size: 2, max_renders: 3, ..PoolConfig::default() };
        let pool = EnginePool::start(engine, bundle("a"), config).unwrap();
        assert_eq!(render(&pool, 1).unwrap().body, "a1");
        pool.reload(bundle("b")).unwrap();
        for n in 0..8 {
            assert_eq!(render(&pool, n).unwrap().body, format!("b{n}"), "every instance, also recycled ones");
        }
        let err = pool.reload("throw new Error('broken bundle')".into()).unwrap_err();
        assert!(matches!(&err, EngineError::Load { message, .. } if message.contains("broken bundle")), "{err}");
        assert_eq!(render(&pool, 9).unwrap().body, "b9", "the previous bundle keeps serving");
        assert!(pool.stats().recycled >= 2, "{:?}", pool.stats());
    }

    #[test]
    fn an_idle_instance_gives_memory_back_once_and_renders_after() {
        for &engine in Engine::ALL {
            let config = PoolConfig { size: 1, idle_release: Duration::from_millis(20), ..PoolConfig::default() };
            let pool = EnginePool::start(engine, bundle("a"), config).unwrap();
            let released = |n: u64| {
                let deadline = Instant::now() + Duration::from_secs(30);
                while pool.stats().released < n {
                    assert!(Instant::now() < deadline, "no release on {}: {:?}", engine.name(), pool.stats());
                    std::thread::sleep(Duration::from_millis(5));
                }
            };
            assert_eq!(pool.stats().released, 0, "nothing rendered, nothing to give back");
            assert_eq!(render(&pool, 1).unwrap().body, "a1");
            released(1);
            assert_eq!(render(&pool, 2).unwrap().body, "a2", "the instance renders after its collection");
            released(2);
        }
    }

    #[test]
    fn a_throwing_render_keeps_the_instance_and_props_do_not_leak() {
        for &engine in Engine::ALL {
            throwing_render_keeps_the_instance(engine);
        }
    }

    fn throwing_render_keeps_the_instance(engine: Engine) {
        let leaky = "let seen = 0; globalThis.__fymo = { render: (p, l, props) => { seen++; const v = JSON.parse(props); if (v.fail) throw new TypeError('bad props'); return ['', String(v.n ?? 'none')]; } };";
        let pool = EnginePool::start(engine, leaky.into(), PoolConfig { size: 1, ..PoolConfig::default() }).unwrap();
        let job =
            |props: &str| RenderJob { page: "p".into(), layouts_json: None, props_json: props.into(), isolate: false };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(rt.block_on(pool.render(job("{\"n\":1}"))).unwrap().body, "1");
        let err = rt.block_on(pool.render(job("{\"fail\":true}"))).unwrap_err();
        assert!(matches!(&err, EngineError::Exception { message, .. } if message == "TypeError: bad props"), "{err}");
        assert_eq!(rt.block_on(pool.render(job("{}"))).unwrap().body, "none", "no props carried over");
    }

    #[test]
    fn an_answer_that_is_not_head_and_body_is_an_error() {
        for &engine in Engine::ALL {
            for answer in ["({ head: '', body: 'x' })", "['', 1]", "['only head']", "null"] {
                let bundle = format!("globalThis.__fymo = {{ render: () => {answer} }};");
                let pool = EnginePool::start(engine, bundle, PoolConfig { size: 1, ..PoolConfig::default() }).unwrap();
                let err = render(&pool, 1).unwrap_err();
                assert!(
                    matches!(&err, EngineError::Exception { message, .. } if message.contains("malformed output")),
                    "{answer} on {}: {err}",
                    engine.name()
                );
            }
        }
    }
}
