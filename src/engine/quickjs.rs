//! QuickJS backend through `rquickjs`: builds from bundled C, fully offline.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime};

use super::{EngineBackend, EngineError, EngineInstance, Limits, RenderJob, Rendered, GUARD_JS};

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

impl EngineInstance for Instance {
    fn render(&mut self, job: &RenderJob, deadline: Instant) -> Result<Rendered, EngineError> {
        let started = Instant::now();
        self.deadline.set(Some(deadline));
        let result = self.context.with(|ctx| -> Result<String, (String, Option<String>)> {
            let call = || -> rquickjs::Result<String> {
                let host: Object = ctx.globals().get("__fymo")?;
                let render: Function = host.get("render")?;
                render.call((job.page.as_str(), job.layouts_json.as_deref(), job.props_json.as_str()))
            };
            call().map_err(|e| exception(&ctx, e))
        });
        let settled = self.drain_jobs(deadline);
        self.deadline.set(None);
        match result {
            Ok(_) if !settled => Err(EngineError::Timeout { page: job.page.clone(), after: started.elapsed() }),
            Ok(json) => Rendered::from_host_json(&job.page, &json),
            Err(_) if Instant::now() >= deadline => {
                Err(EngineError::Timeout { page: job.page.clone(), after: started.elapsed() })
            }
            Err((message, _)) if message.contains("out of memory") => {
                Err(EngineError::OutOfMemory { page: job.page.clone(), limit_bytes: self.limits.memory_bytes })
            }
            Err((message, stack)) => Err(EngineError::Exception { page: job.page.clone(), message, stack }),
        }
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
