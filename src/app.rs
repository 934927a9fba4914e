//! [`App`]: the application as a program defines it (its Rust controllers), before any
//! directory, build or server is involved.

use std::future::Future;

use crate::controller::{BoxError, Outcome, Registry, RequestContext};

/// An app: Rust controllers by name. Everything else (routes, templates, Python
/// controllers) comes from the app directory at run time.
///
/// # Examples
/// ```
/// use fymo::{App, Outcome, RequestContext};
///
/// async fn show(req: RequestContext) -> Result<Outcome, fymo::BoxError> {
///     let id = req.param("id").unwrap_or_default();
///     Ok(Outcome::props(serde_json::json!({ "id": id }))?)
/// }
///
/// let app = App::builder().controller("posts.show", show).build();
/// assert!(app.controllers().rust("posts.show").is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct App {
    controllers: Registry,
}

impl App {
    /// Starts an app definition.
    pub fn builder() -> AppBuilder {
        AppBuilder::default()
    }

    /// The registered controllers.
    pub fn controllers(&self) -> &Registry {
        &self.controllers
    }
}

/// Builder for [`App`].
#[derive(Debug, Default)]
pub struct AppBuilder {
    controllers: Registry,
}

impl AppBuilder {
    /// Registers an async controller under `name` (`products.show`).
    #[must_use]
    pub fn controller<F, Fut, O, E>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
        O: Into<Outcome>,
        E: Into<BoxError>,
    {
        self.controllers.add(name, f);
        self
    }

    /// Lists the pages controller `name` prerenders for `fymo export`: one object of path
    /// parameters per page (`[{"slug": "intro"}]`), for a `prerender: true` route with
    /// parameters.
    #[must_use]
    pub fn entries(mut self, name: &str, f: impl Fn() -> Vec<serde_json::Value> + Send + Sync + 'static) -> Self {
        self.controllers.add_entries(name, f);
        self
    }

    /// Finishes the definition.
    pub fn build(self) -> App {
        App { controllers: self.controllers }
    }
}
