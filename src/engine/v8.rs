//! V8 backend through `deno_core`, behind the `v8` cargo feature.
//!
//! One `JsRuntime` (one isolate) per pool thread, the SSR bundle evaluated once in it.
//! A render calls `__fymo.render`, then runs its event loop (microtask checkpoints, the
//! host's timers through `__fymo.poll`) until the render settles. Limits:
//! - the deadline is a watchdog thread per instance that calls `terminate_execution`;
//! - the heap limit is V8's own (`CreateParams::heap_limits`); when it is near, a callback
//!   terminates the render and grants V8 a little room to unwind instead of aborting
//!   the process, and the pool then discards the instance.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Waker};
use std::thread;
use std::time::Instant;

use deno_core::error::JsError;
use deno_core::{op2, v8, JsRuntime, PollEventLoopOptions, RuntimeOptions};

use super::{
    native, wait_for_timer, EngineBackend, EngineError, EngineInstance, Limits, Poll, RenderJob, Rendered, GUARD_JS,
};

#[op2(fast)]
fn op_fymo_log(#[string] level: &str, #[string] template: &str, #[string] message: &str) {
    native::log(level, template, message);
}

#[op2(fast)]
fn op_fymo_now() -> f64 {
    native::now_ms()
}

#[op2(fast)]
fn op_fymo_random(#[buffer] bytes: &mut [u8]) {
    native::random(bytes);
}

deno_core::extension!(fymo_native, ops = [op_fymo_log, op_fymo_now, op_fymo_random]);

/// `globalThis.__fymoNative` (see js/runtime.js) from the ops above.
pub(super) const NATIVE_JS: &str = "{ const ops = Deno.core.ops; globalThis.__fymoNative = { log: ops.op_fymo_log, now: ops.op_fymo_now, random: ops.op_fymo_random }; }";

/// The V8 engine backend.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V8;

impl EngineBackend for V8 {
    fn name(&self) -> &'static str {
        "v8"
    }

    fn instantiate(&self, bundle: &str, limits: Limits) -> Result<Box<dyn EngineInstance>, EngineError> {
        Ok(Box::new(Instance::new(bundle, limits)?))
    }
}

struct Instance {
    render: v8::Global<v8::Function>,
    poll: v8::Global<v8::Function>,
    guard: v8::Global<v8::Function>,
    // Dropped before the runtime: the watchdog holds a handle to its isolate.
    watchdog: Watchdog,
    runtime: JsRuntime,
    out_of_memory: Rc<Cell<bool>>,
    limits: Limits,
}

/// deno_core schedules V8's delayed tasks (GC housekeeping) as timers on the tokio
/// runtime current when an isolate is made, and aborts the process if there is none.
/// One small runtime serves every instance; the tasks it releases run on the isolate's
/// own thread, drained after each render.
fn timers() -> &'static tokio::runtime::Runtime {
    static TIMERS: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    TIMERS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fymo-v8-timers")
            .enable_time()
            .build()
            .expect("starting the V8 timer runtime")
    })
}

impl Instance {
    fn new(bundle: &str, limits: Limits) -> Result<Self, EngineError> {
        let _timers = timers().enter();
        let snapshot = super::v8_snapshot::startup_snapshot(bundle);
        let mut options = RuntimeOptions {
            extensions: vec![fymo_native::init()],
            startup_snapshot: snapshot,
            ..RuntimeOptions::default()
        };
        if limits.memory_bytes > 0 {
            options.create_params = Some(v8::CreateParams::default().heap_limits(0, limits.memory_bytes));
        }
        let mut runtime = JsRuntime::try_new(options)
            .map_err(|e| EngineError::Load { message: format!("cannot start V8: {e}"), stack: None })?;

        let isolate = runtime.v8_isolate().thread_safe_handle();
        let out_of_memory: Rc<Cell<bool>> = Rc::default();
        let flag = out_of_memory.clone();
        runtime.add_near_heap_limit_callback(move |current, _initial| {
            flag.set(true);
            isolate.terminate_execution();
            // Room to unwind the terminated render; the instance is discarded after it.
            current + current / 2
        });

        if snapshot.is_none() {
            runtime.execute_script("<fymo-native>", NATIVE_JS).map_err(|e| {
                let (message, stack) = describe(&e);
                EngineError::Load { message, stack }
            })?;
            runtime.execute_script("ssr.js", bundle.to_owned()).map_err(|e| {
                let (message, stack) = describe(&e);
                EngineError::Load { message, stack }
            })?;
        }
        let render =
            function(&mut runtime, "globalThis.__fymo?.render", "the SSR bundle did not install __fymo.render")?;
        let poll = function(
            &mut runtime,
            "globalThis.__fymo?.poll ?? (() => { throw new Error('the SSR host has no poll()'); })",
            "the SSR bundle did not install __fymo.poll",
        )?;
        let guard = function(&mut runtime, GUARD_JS, "the built-ins guard did not load")?;
        let watchdog = Watchdog::start(runtime.v8_isolate().thread_safe_handle());
        Ok(Self { render, poll, guard, watchdog, runtime, out_of_memory, limits })
    }

    /// Starts the render, then runs its event loop: a microtask checkpoint, then the
    /// host's `poll()` (which fires due timers), waiting for the next timer in between,
    /// until the render settles or the deadline passes.
    fn call(&mut self, job: &RenderJob, deadline: Instant) -> Result<Option<Rendered>, Failure> {
        let sync = self.step(Some(job))?;
        loop {
            if let Some(Poll::Done(rendered)) = sync {
                return Ok(rendered);
            }
            match self.step(None)?.unwrap_or(Poll::Idle) {
                Poll::Done(rendered) => return Ok(rendered),
                Poll::Again => {}
                Poll::Wait(ms) if wait_for_timer(Some(ms), deadline) => {}
                Poll::Idle if wait_for_timer(None, deadline) => {}
                Poll::Wait(_) | Poll::Idle => return Err(Failure::Terminated),
            }
        }
    }

    /// With a job: calls `__fymo.render(page, layoutsJson, propsJson)` (its JSON when it
    /// completed synchronously, else None). Without: calls `__fymo.poll()`. Either way
    /// the microtasks it queued run before this returns.
    fn step(&mut self, job: Option<&RenderJob>) -> Result<Option<Poll>, Failure> {
        deno_core::scope!(scope, self.runtime);
        v8::tc_scope!(let scope, scope);
        let this = v8::undefined(scope).into();
        let result = match job {
            Some(job) => {
                let render = v8::Local::new(scope, &self.render);
                let page = string(scope, &job.page)?;
                let layout = match &job.layouts_json {
                    Some(layouts) => string(scope, layouts)?,
                    None => v8::null(scope).into(),
                };
                let props = string(scope, &job.props_json)?;
                render.call(scope, this, &[page, layout, props])
            }
            None => v8::Local::new(scope, &self.poll).call(scope, this, &[]),
        };
        // A chain that never settles runs until the watchdog terminates it.
        if result.is_some() {
            scope.perform_microtask_checkpoint();
        }
        let terminated = scope.has_terminated() || scope.is_execution_terminating();
        match result {
            _ if terminated => Err(Failure::Terminated),
            Some(value) if value.is_number() => Ok(Some(Poll::from_number(value.number_value(scope).unwrap_or(-1.0)))),
            Some(value) if job.is_some() && value.is_undefined() => Ok(None),
            Some(value) => Ok(Some(Poll::Done(rendered(scope, value)))),
            None => {
                let exception = scope.exception().unwrap_or_else(|| v8::undefined(scope).into());
                let (message, stack) = describe(&JsError::from_v8_exception(scope, exception));
                Err(Failure::Threw { message, stack })
            }
        }
    }
}

/// `[head, body]` from the SSR host, as two strings (`None` for anything else).
fn rendered(scope: &mut v8::PinScope<'_, '_>, value: v8::Local<'_, v8::Value>) -> Option<Rendered> {
    let pair = v8::Local::<v8::Array>::try_from(value).ok()?;
    let text = |i: u32| {
        let part = pair.get_index(scope, i)?;
        part.is_string().then(|| part.to_rust_string_lossy(scope))
    };
    Some(Rendered { head: text(0)?, body: text(1)? })
}

/// A JavaScript string; creating one fails only when the isolate is terminating.
fn string<'s>(scope: &mut v8::PinScope<'s, '_>, text: &str) -> Result<v8::Local<'s, v8::Value>, Failure> {
    v8::String::new(scope, text).map(Into::into).ok_or(Failure::Terminated)
}

enum Failure {
    Terminated,
    Threw { message: String, stack: Option<String> },
}

impl EngineInstance for Instance {
    fn render(&mut self, job: &RenderJob, deadline: Instant) -> Result<Rendered, EngineError> {
        let started = Instant::now();
        self.watchdog.arm(deadline);
        let result = self.call(job, deadline);
        if self.watchdog.disarm() {
            // The watchdog may have fired just as the render returned: clear it so it
            // cannot hit the next render (the pool discards a timed-out instance anyway).
            self.runtime.v8_isolate().cancel_terminate_execution();
        }
        if result.is_ok() {
            // Runs the V8 tasks that came due (GC housekeeping); never waits.
            let _timers = timers().enter();
            let _ =
                self.runtime.poll_event_loop(&mut Context::from_waker(Waker::noop()), PollEventLoopOptions::default());
        }
        match result {
            Ok(rendered) => rendered.ok_or_else(|| Rendered::malformed(&job.page)),
            Err(Failure::Terminated) if self.out_of_memory.get() => {
                Err(EngineError::OutOfMemory { page: job.page.clone(), limit_bytes: self.limits.memory_bytes })
            }
            Err(Failure::Terminated) => Err(EngineError::Timeout { page: job.page.clone(), after: started.elapsed() }),
            Err(Failure::Threw { message, stack }) => {
                Err(EngineError::Exception { page: job.page.clone(), message, stack })
            }
        }
    }

    fn release_memory(&mut self) {
        self.runtime.v8_isolate().low_memory_notification();
    }

    fn tampered(&mut self) -> Option<String> {
        deno_core::scope!(scope, self.runtime);
        v8::tc_scope!(let scope, scope);
        let guard = v8::Local::new(scope, &self.guard);
        let this = v8::undefined(scope).into();
        match guard.call(scope, this, &[]) {
            Some(value) if value.is_null_or_undefined() => None,
            Some(value) => Some(value.to_rust_string_lossy(scope)),
            None => Some("the built-ins check itself failed".into()),
        }
    }
}

/// Evaluates `source`, which must yield a function (`__fymo.render`, which the SSR host
/// installs, or the built-ins guard).
fn function(
    runtime: &mut JsRuntime,
    source: &'static str,
    missing: &str,
) -> Result<v8::Global<v8::Function>, EngineError> {
    let missing = || EngineError::Load { message: missing.to_owned(), stack: None };
    let value = runtime.execute_script("<fymo>", source).map_err(|_| missing())?;
    deno_core::scope!(scope, runtime);
    let value = v8::Local::new(scope, value);
    let function = v8::Local::<v8::Function>::try_from(value).map_err(|_| missing())?;
    Ok(v8::Global::new(scope, function))
}

/// (message, stack) from a JavaScript exception, as the other backends report them.
fn describe(error: &JsError) -> (String, Option<String>) {
    let message = match (&error.name, &error.message) {
        (Some(name), Some(message)) if !name.is_empty() => format!("{name}: {message}"),
        (_, Some(message)) => message.clone(),
        _ => error.exception_message.clone(),
    };
    (message, error.stack.clone().filter(|s| !s.trim().is_empty()))
}

/// Terminates a render that passes its deadline, from another thread (V8 has no
/// interrupt poll like QuickJS). Terminating happens under the lock, so once `disarm`
/// has returned no termination can arrive late.
///
/// Arming does not wake the thread when it is already asleep until an earlier instant
/// (the previous render's deadline): it wakes then, finds the later deadline and sleeps
/// again. Under steady load that is one wake-up per deadline period instead of two
/// context switches per render.
struct Watchdog {
    shared: Arc<(Mutex<Watch>, Condvar)>,
    thread: Option<thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Watch {
    deadline: Option<Instant>,
    /// When the thread wakes by itself (`None`: only when notified).
    wakes_at: Option<Instant>,
    fired: bool,
    stop: bool,
}

impl Watchdog {
    fn start(isolate: v8::IsolateHandle) -> Self {
        let shared: Arc<(Mutex<Watch>, Condvar)> = Arc::default();
        let watched = shared.clone();
        let thread = thread::Builder::new()
            .name("fymo-v8-watchdog".into())
            .spawn(move || {
                let (lock, wake) = &*watched;
                let mut watch = lock.lock().expect("watchdog lock");
                while !watch.stop {
                    let now = Instant::now();
                    watch.wakes_at = watch.deadline.filter(|&deadline| deadline > now);
                    watch = match (watch.deadline, watch.wakes_at) {
                        (None, _) => wake.wait(watch).expect("watchdog lock"),
                        (Some(_), None) => {
                            isolate.terminate_execution();
                            watch.fired = true;
                            watch.deadline = None;
                            watch
                        }
                        (Some(_), Some(at)) => wake.wait_timeout(watch, at - now).expect("watchdog lock").0,
                    };
                }
            })
            .expect("spawning the V8 watchdog thread");
        Self { shared, thread: Some(thread) }
    }

    fn arm(&self, deadline: Instant) {
        let (lock, wake) = &*self.shared;
        let mut watch = lock.lock().expect("watchdog lock");
        watch.deadline = Some(deadline);
        watch.fired = false;
        if watch.wakes_at.is_none_or(|at| at > deadline) {
            wake.notify_one();
        }
    }

    /// Stops watching; returns whether the deadline fired.
    fn disarm(&self) -> bool {
        let mut watch = self.shared.0.lock().expect("watchdog lock");
        watch.deadline = None;
        watch.fired
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, wake) = &*self.shared;
        lock.lock().expect("watchdog lock").stop = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
