//! Fymo renders Svelte 5 pages from Rust.
//!
//! A request goes server → router → [`site`](crate) (controller → engine → document):
//! `routes.yml` picks a route, a Rust (or Python) controller returns the page's props,
//! the page's precompiled SSR module runs in a pooled embedded JavaScript engine, and the
//! HTML carries the props and the page's DOM entry so the browser hydrates it.
//!
//! Apps define their Rust controllers on an [`App`] and hand it to [`cli::main`]:
//!
//! ```no_run
//! use fymo::{App, Outcome, RequestContext};
//!
//! async fn home(_: RequestContext) -> Result<Outcome, fymo::BoxError> {
//!     Ok(Outcome::props(serde_json::json!({ "title": "Hello" }))?)
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     fymo::cli::main(App::builder().controller("home", home).build())
//! }
//! ```
//!
//! Modules, from the core outward (an arrow only ever points from the edge inward):
//! `config`, `router`, `controller`, `engine`, `document`, `build` → `site` →
//! `server` → `dev`, `prefork`, `export` → `cli`.

mod app;
mod build;
pub mod cli;
mod config;
mod controller;
mod dev;
mod document;
mod engine;
mod export;
mod live;
mod prefork;
mod router;
mod server;
mod site;

pub use app::{App, AppBuilder};
/// HTTP types controllers see (`Method`, `StatusCode`, `HeaderMap`).
pub use axum::http;
pub use controller::{
    Answer, BadRequest, BoxError, ControllerError, JsonProps, Outcome, RequestContext, Session, UploadedFile,
};
/// Cookies a controller sets ([`Outcome::cookie`]): the `cookie` crate's type and builder.
pub use cookie::{self, Cookie, SameSite};
pub use live::{Live, LiveError, Payload};

/// Internals that Fymo's own benchmarks and integration tests drive directly (the
/// engines without a server, the Python pool without HTTP). Not a stable API.
#[doc(hidden)]
pub mod testing {
    pub use crate::build::Manifest;
    pub use crate::controller::python::{PythonConfig, PythonController, PythonPool};
    pub use crate::controller::{Controller, Registry};
    pub use crate::engine::{
        Engine, EngineBackend, EngineInstance, EnginePool, Limits, PoolConfig, RenderJob, Rendered,
    };
}
