//! The JavaScript engine boundary.
//!
//! An [`EngineBackend`] makes [`EngineInstance`]s; each instance has the SSR bundle
//! evaluated once and then renders many pages, one at a time, on the thread that made it.
//! [`EnginePool`] runs one instance per dedicated thread and hands renders to whichever is
//! free. Nothing above this module knows which engine it is talking to: QuickJS, which
//! builds anywhere, or V8 through `deno_core` behind the `v8` cargo feature.

mod memory;
mod pool;
mod quickjs;
#[cfg(feature = "v8")]
mod v8;
#[cfg(feature = "v8")]
mod v8_snapshot;

use std::time::{Duration, Instant};

pub use pool::{EnginePool, PoolConfig};
pub(crate) use quickjs::QuickJs;
#[cfg(feature = "v8")]
pub(crate) use v8::V8;

/// In the child process that makes a V8 startup snapshot, does that and returns its
/// exit code; elsewhere returns `None` (and, with V8, lets this process use snapshots:
/// its executable can make them). The CLI calls it first thing.
pub(crate) fn snapshot_child_main() -> Option<std::process::ExitCode> {
    #[cfg(feature = "v8")]
    return v8_snapshot::child_main();
    #[cfg(not(feature = "v8"))]
    None
}

/// V8 instances in this process evaluate the bundle from now on instead of starting
/// from a startup snapshot (`fymo dev`). No effect without V8.
pub(crate) fn disable_startup_snapshots() {
    #[cfg(feature = "v8")]
    v8_snapshot::disable();
}

/// Which JavaScript engine renders pages (`--engine`).
///
/// V8 is the default when compiled in (`--features v8`): it renders 4–7× faster.
/// QuickJS is always there and needs nothing but a C compiler to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// QuickJS through `rquickjs`.
    #[value(name = "quickjs")]
    QuickJs,
    /// V8 through `deno_core`.
    #[cfg(feature = "v8")]
    #[value(name = "v8")]
    V8,
}

impl Engine {
    /// Every engine compiled into this build.
    pub const ALL: &'static [Engine] = &[
        #[cfg(feature = "v8")]
        Engine::V8,
        Engine::QuickJs,
    ];
}

impl Default for Engine {
    fn default() -> Self {
        Self::ALL[0]
    }
}

impl EngineBackend for Engine {
    fn name(&self) -> &'static str {
        match self {
            Self::QuickJs => QuickJs.name(),
            #[cfg(feature = "v8")]
            Self::V8 => V8.name(),
        }
    }

    fn instantiate(&self, bundle: &str, limits: Limits) -> Result<Box<dyn EngineInstance>, EngineError> {
        match self {
            Self::QuickJs => QuickJs.instantiate(bundle, limits),
            #[cfg(feature = "v8")]
            Self::V8 => V8.instantiate(bundle, limits),
        }
    }
}

/// What a render produced: Svelte's `head` and `body` strings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Rendered {
    /// Markup for `<head>` (`<svelte:head>` content, `<title>`).
    pub head: String,
    /// The component's HTML, with Svelte's hydration markers.
    pub body: String,
}

impl Rendered {
    /// The error for an SSR host answer that is not `[head, body]` (two strings).
    fn malformed(page: &str) -> EngineError {
        EngineError::Exception {
            page: page.to_owned(),
            message: "the SSR host returned malformed output (expected [head, body])".into(),
            stack: None,
        }
    }
}

/// One render: which component, wrapped in which layouts, with which props.
#[derive(Debug, Clone)]
pub struct RenderJob {
    /// Component name as in the manifest (`products/show`).
    pub page: String,
    /// Layout component name, if the route has one.
    /// The layouts around the page, outermost first, as the JSON the SSR host reads:
    /// `[{"component": "layouts/main", "props": {…}}, …]`; `None` for a bare page.
    pub layouts_json: Option<String>,
    /// The props, already serialized as JSON.
    pub props_json: String,
    /// Render in a fresh instance made for this job alone (a route's `isolate: true`):
    /// no module state or built-in shared with any other render, at the cost of loading
    /// the bundle once more.
    pub isolate: bool,
}

/// Limits applied to every engine instance.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock budget for one render; past it the render is interrupted.
    pub deadline: Duration,
    /// Heap limit per instance in bytes (0 = unlimited).
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { deadline: Duration::from_secs(2), memory_bytes: 256 * 1024 * 1024 }
    }
}

/// Why a render or an instance failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The SSR bundle threw while being evaluated.
    #[error("the SSR bundle failed to load: {message}")]
    Load {
        /// The exception message.
        message: String,
        /// The JavaScript stack, if any.
        stack: Option<String>,
    },
    /// The component threw while rendering.
    #[error("render of `{page}` threw: {message}")]
    Exception {
        /// Component name.
        page: String,
        /// The exception message.
        message: String,
        /// The JavaScript stack, if any.
        stack: Option<String>,
    },
    /// The render ran past its deadline and was interrupted.
    #[error("render of `{page}` was interrupted after {:?} (deadline)", .after)]
    Timeout {
        /// Component name.
        page: String,
        /// How long it had run.
        after: Duration,
    },
    /// The instance ran out of its heap limit.
    #[error("render of `{page}` ran out of memory (limit {limit_bytes} bytes)")]
    OutOfMemory {
        /// Component name.
        page: String,
        /// The configured limit.
        limit_bytes: usize,
    },
    /// The pool is shut down or its threads are gone.
    #[error("the engine pool is not running")]
    PoolClosed,
}

impl EngineError {
    /// Whether the instance that produced this error must be discarded.
    pub fn poisons_instance(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::OutOfMemory { .. } | Self::Load { .. })
    }

    /// The JavaScript stack, when the engine reported one.
    pub fn stack(&self) -> Option<&str> {
        match self {
            Self::Load { stack, .. } | Self::Exception { stack, .. } => stack.as_deref(),
            _ => None,
        }
    }
}

/// Makes engine instances. Shared by all pool threads.
pub trait EngineBackend: Send + Sync + 'static {
    /// Short name for logs and health output (`quickjs`).
    fn name(&self) -> &'static str;

    /// Creates an instance and evaluates `bundle` (the SSR bundle's source) in it.
    /// Called on the pool thread that will own the instance.
    fn instantiate(&self, bundle: &str, limits: Limits) -> Result<Box<dyn EngineInstance>, EngineError>;
}

/// One engine instance, owned by one thread.
pub trait EngineInstance {
    /// Renders one job; must be interrupted once `deadline` passes.
    fn render(&mut self, job: &RenderJob, deadline: Instant) -> Result<Rendered, EngineError>;

    /// The first standard built-in a render replaced or added to (`JSON.stringify`), if
    /// any: the instance must then be replaced. Runs [`GUARD_JS`]'s check.
    fn tampered(&mut self) -> Option<String>;

    /// A full garbage collection that gives the heap's free pages back, for an idle
    /// instance after a burst of renders.
    fn release_memory(&mut self);
}

/// Evaluated after the SSR bundle in every instance; yields the check behind
/// [`EngineInstance::tampered`].
const GUARD_JS: &str = include_str!("guard.js");

/// What only Rust can give the JavaScript runtime (js/runtime.js reads it as
/// `globalThis.__fymoNative`): the log, a monotonic clock and randomness. Both backends
/// expose exactly these.
mod native {
    use std::sync::OnceLock;
    use std::time::Instant;

    /// `console.*` from a template: to Fymo's log, with the template named.
    pub(super) fn log(level: &str, template: &str, message: &str) {
        let template = if template.is_empty() { "-" } else { template };
        match level {
            "error" => tracing::error!(target: "fymo::console", template, "{message}"),
            "warn" => tracing::warn!(target: "fymo::console", template, "{message}"),
            "debug" => tracing::debug!(target: "fymo::console", template, "{message}"),
            _ => tracing::info!(target: "fymo::console", template, "{message}"),
        }
    }

    /// Milliseconds since the process's first call (`performance.now()`, timers).
    pub(super) fn now_ms() -> f64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
    }

    /// Fills `bytes` from the operating system's generator (`crypto.getRandomValues`).
    pub(super) fn random(bytes: &mut [u8]) {
        getrandom::fill(bytes).expect("the operating system's random generator");
    }
}

/// One step of a render's event loop, as the SSR host's `poll()` answers it.
#[derive(Debug)]
enum Poll {
    /// The render settled: `[head, body]`, or `None` when the host answered anything else.
    Done(Option<Rendered>),
    /// A timer fired: run the jobs it queued and poll again.
    Again,
    /// The next timer is due in this many milliseconds.
    Wait(f64),
    /// Nothing is queued: the render can no longer settle by itself.
    Idle,
}

impl Poll {
    fn from_number(ms: f64) -> Self {
        if ms == 0.0 {
            Self::Again
        } else if ms > 0.0 {
            Self::Wait(ms)
        } else {
            Self::Idle
        }
    }
}

/// Waits for the next timer (`Some(ms)`) or, when none is queued, for the deadline:
/// a render that cannot settle ends there, as a timeout. Returns false once the
/// deadline has passed.
fn wait_for_timer(next: Option<f64>, deadline: Instant) -> bool {
    let now = Instant::now();
    if now >= deadline {
        return false;
    }
    let until = match next {
        Some(ms) => (now + Duration::from_secs_f64(ms / 1000.0)).min(deadline),
        None => deadline,
    };
    std::thread::sleep(until - now);
    Instant::now() < deadline
}
