//! QuickJS backend through `rquickjs`: builds from bundled C, fully offline.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime, Value};

use super::{
    native, wait_for_timer, EngineBackend, EngineError, EngineInstance, Limits, Poll, RenderJob, Rendered, GUARD_JS,
};

/// The QuickJS engine backend.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct QuickJs;

impl EngineBackend for QuickJs {
    fn name(&self) -> &'static str {
        "quickjs"
    }

    fn instantiate(&self, bundle: &str, limits: Limits) -> Result<Box<dyn EngineInstance>, EngineError> {
        Ok(Box::new(Instance::new(bundle, limits)?))
    }
}

struct Instance {
    // Field order matters: values of the context drop before it, and it before its runtime.
    guard: Persistent<Function<'static>>,
    context: Context,
    runtime: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
    limits: Limits,
}

impl Instance {
    fn new(bundle: &str, limits: Limits) -> Result<Self, EngineError> {
        let load_error = |message: String| EngineError::Load { message, stack: None };
        let runtime = Runtime::new().map_err(|e| load_error(e.to_string()))?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(4 * 1024 * 1024);
        let deadline: Rc<Cell<Option<Instant>>> = Rc::default();
        let watched = deadline.clone();
        // Polled by QuickJS while it runs code: returning true raises an uncatchable error.
        runtime.set_interrupt_handler(Some(Box::new(move || watched.get().is_some_and(|d| Instant::now() >= d))));
        let context = Context::full(&runtime).map_err(|e| load_error(e.to_string()))?;
        let guard = context.with(|ctx| {
            let load = |e| {
                let (message, stack) = exception(&ctx, e);
                EngineError::Load { message, stack }
            };
            install_native(&ctx).map_err(load)?;
            ctx.eval::<(), _>(bundle).map_err(load)?;
            let guard: Function = ctx.eval(GUARD_JS).map_err(load)?;
            Ok::<_, EngineError>(Persistent::save(&ctx, guard))
        })?;
        Ok(Self { guard, context, runtime, deadline, limits })
    }

    /// Runs the promise jobs a render queued (`{#await}` reactions). `false` when the
    /// interrupt handler stopped them: a chain that never settles ran into the deadline.
    fn drain_jobs(&self, deadline: Instant) -> bool {
        loop {
            match self.runtime.execute_pending_job() {
                Ok(true) => {}
                Ok(false) => return true,
                // A job that threw is the component's business; one that was interrupted is not.
                Err(_) if Instant::now() >= deadline => return false,
                Err(_) => {}
            }
        }
    }
}

/// How a render ended, before it becomes an [`EngineError`].
enum Failure {
    /// The deadline passed (in JavaScript, or waiting for a timer).
    Deadline,
    Threw(String, Option<String>),
}

impl Instance {
    /// Starts the render, then runs its event loop: promise jobs, then the host's `poll()`
    /// (which fires due timers), waiting for the next timer in between, until the render
    /// settles or the deadline passes.
    fn run(&self, job: &RenderJob, deadline: Instant) -> Result<Option<Rendered>, Failure> {
        let threw = |(message, stack)| Failure::Threw(message, stack);
        let sync = self
            .context
            .with(|ctx| -> Result<Option<Poll>, (String, Option<String>)> {
                let call = || -> rquickjs::Result<Option<Poll>> {
                    let host: Object = ctx.globals().get("__fymo")?;
                    let render: Function = host.get("render")?;
                    let value: Value =
                        render.call((job.page.as_str(), job.layouts_json.as_deref(), job.props_json.as_str()))?;
                    // Undefined: still running (awaiting), polled below.
                    Ok((!value.is_undefined()).then(|| Poll::Done(rendered(&value))))
                };
                call().map_err(|e| exception(&ctx, e))
            })
            .map_err(threw)?;
        loop {
            if !self.drain_jobs(deadline) {
                return Err(Failure::Deadline);
            }
            if let Some(Poll::Done(rendered)) = sync {
                return Ok(rendered);
            }
            let poll = self
                .context
                .with(|ctx| -> Result<Poll, (String, Option<String>)> {
                    let call = || -> rquickjs::Result<Poll> {
                        let host: Object = ctx.globals().get("__fymo")?;
                        let poll: Function = host.get("poll")?;
                        let value: Value = poll.call(())?;
                        match value.as_number() {
                            Some(ms) => Ok(Poll::from_number(ms)),
                            None => Ok(Poll::Done(rendered(&value))),
                        }
                    };
                    call().map_err(|e| exception(&ctx, e))
                })
                .map_err(threw)?;
            match poll {
                Poll::Done(rendered) => return Ok(rendered),
                Poll::Again => {}
                Poll::Wait(ms) if wait_for_timer(Some(ms), deadline) => {}
                Poll::Idle if wait_for_timer(None, deadline) => {}
                Poll::Wait(_) | Poll::Idle => return Err(Failure::Deadline),
            }
        }
    }
}

impl EngineInstance for Instance {
    fn render(&mut self, job: &RenderJob, deadline: Instant) -> Result<Rendered, EngineError> {
        let started = Instant::now();
        self.deadline.set(Some(deadline));
        let result = self.run(job, deadline);
        self.deadline.set(None);
        let timeout = || EngineError::Timeout { page: job.page.clone(), after: started.elapsed() };
        match result {
            Ok(rendered) => rendered.ok_or_else(|| Rendered::malformed(&job.page)),
            Err(Failure::Deadline) => Err(timeout()),
            Err(Failure::Threw(..)) if Instant::now() >= deadline => Err(timeout()),
            Err(Failure::Threw(message, _)) if message.contains("out of memory") => {
                Err(EngineError::OutOfMemory { page: job.page.clone(), limit_bytes: self.limits.memory_bytes })
            }
            Err(Failure::Threw(message, stack)) => {
                Err(EngineError::Exception { page: job.page.clone(), message, stack })
            }
        }
    }

    fn release_memory(&mut self) {
        self.runtime.run_gc();
    }

    fn tampered(&mut self) -> Option<String> {
        self.context.with(|ctx| {
            let check = self.guard.clone().restore(&ctx).ok()?;
            match check.call::<_, Option<String>>(()) {
                Ok(changed) => changed,
                Err(_) => Some("the built-ins check itself failed".into()),
            }
        })
    }
}

/// `globalThis.__fymoNative` (see js/runtime.js): log, clock, randomness.
fn install_native(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let hooks = Object::new(ctx.clone())?;
    hooks.set(
        "log",
        Function::new(ctx.clone(), |level: String, template: String, message: String| {
            native::log(&level, &template, &message);
        })?,
    )?;
    hooks.set("now", Function::new(ctx.clone(), native::now_ms)?)?;
    hooks.set(
        "randomBytes",
        Function::new(ctx.clone(), |n: usize| {
            let mut bytes = vec![0u8; n.min(65536)];
            native::random(&mut bytes);
            bytes
        })?,
    )?;
    ctx.globals().set("__fymoNative", hooks)?;
    ctx.eval::<(), _>(
        "{ const bytes = __fymoNative.randomBytes; __fymoNative.random = (into) => into.set(bytes(into.length)); }",
    )
}

/// Turns an rquickjs error into (message, stack), reading the pending exception if any.
fn exception(ctx: &Ctx<'_>, error: rquickjs::Error) -> (String, Option<String>) {
    if !error.is_exception() {
        return (error.to_string(), None);
    }
    let value = ctx.catch();
    if let Some(object) = value.as_object() {
        let message: Option<String> = object.get("message").ok();
        let name: Option<String> = object.get("name").ok();
        let stack: Option<String> = object.get("stack").ok();
        let message = match (name, message) {
            (Some(n), Some(m)) if !n.is_empty() => format!("{n}: {m}"),
            (_, Some(m)) => m,
            _ => "unknown exception".to_owned(),
        };
        return (message, stack.filter(|s| !s.trim().is_empty()));
    }
    let text = value.as_string().and_then(|s| s.to_string().ok()).unwrap_or_else(|| format!("{value:?}"));
    (text, None)
}

/// `[head, body]` from the SSR host, as two strings (`None` for anything else).
fn rendered(value: &Value<'_>) -> Option<Rendered> {
    let pair = value.as_array()?;
    let text = |i: usize| pair.get::<Value>(i).ok()?.as_string()?.to_string().ok();
    Some(Rendered { head: text(0)?, body: text(1)? })
}
