//! The controller registry: name -> controller.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{BoxError, ControllerError, Outcome, RequestContext};

/// A boxed future, as controllers return.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Which language serves a controller (shown by `fymo routes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    /// Compiled into the binary.
    Rust,
    /// `controllers/a/b.py`, run by the Python worker pool.
    Python,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rust => "rust",
            Self::Python => "python",
        })
    }
}

/// Something that answers a request with an [`Outcome`].
pub trait Controller: Send + Sync + 'static {
    /// Handles one request.
    fn call(&self, request: RequestContext) -> BoxFuture<Result<Outcome, ControllerError>>;

    /// The path parameters to prerender (`fymo export`), one object per page; none unless
    /// the controller lists them.
    fn entries(&self) -> BoxFuture<Result<Vec<serde_json::Value>, ControllerError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// Lists a Rust controller's prerendered pages: `[{"slug": "intro"}, …]`.
pub(crate) type EntriesFn = Arc<dyn Fn() -> Vec<serde_json::Value> + Send + Sync>;

/// Adapts an async fn `fn(RequestContext) -> Result<impl Into<Outcome>, E>` to [`Controller`].
struct FnController<F> {
    name: String,
    f: F,
}

impl<F, Fut, O, E> Controller for FnController<F>
where
    F: Fn(RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    O: Into<Outcome>,
    E: Into<BoxError>,
{
    fn call(&self, request: RequestContext) -> BoxFuture<Result<Outcome, ControllerError>> {
        let name = self.name.clone();
        let fut = (self.f)(request);
        Box::pin(async move {
            fut.await.map(Into::into).map_err(|e| ControllerError::Failed {
                controller: name,
                source: e.into(),
                trace: None,
            })
        })
    }
}

/// Controllers by name.
#[derive(Clone, Default)]
pub struct Registry {
    rust: BTreeMap<String, Arc<dyn Controller>>,
    entries: BTreeMap<String, EntriesFn>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("rust", &self.rust.keys().collect::<Vec<_>>()).finish()
    }
}

impl Registry {
    /// Registers an async fn as controller `name`.
    pub fn add<F, Fut, O, E>(&mut self, name: &str, f: F)
    where
        F: Fn(RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
        O: Into<Outcome>,
        E: Into<BoxError>,
    {
        let controller = FnController { name: name.to_owned(), f };
        self.rust.insert(name.to_owned(), Arc::new(controller));
    }

    /// Registers what `name` prerenders (`prerender: true` routes with parameters).
    pub fn add_entries(&mut self, name: &str, f: impl Fn() -> Vec<serde_json::Value> + Send + Sync + 'static) {
        self.entries.insert(name.to_owned(), Arc::new(f));
    }

    /// What the Rust controller `name` prerenders, if it says.
    pub fn entries(&self, name: &str) -> Option<Vec<serde_json::Value>> {
        self.entries.get(name).map(|f| f())
    }

    /// The Rust controller called `name`.
    pub fn rust(&self, name: &str) -> Option<Arc<dyn Controller>> {
        self.rust.get(name).cloned()
    }

    /// Names of the Rust controllers.
    pub fn rust_names(&self) -> impl Iterator<Item = &str> {
        self.rust.keys().map(String::as_str)
    }
}
