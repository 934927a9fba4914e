//! Fymo renders Svelte 5 pages from Rust.
//!
//! A request goes config → router → controller → render → document → server:
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

mod app;
pub mod build;
pub mod cli;
pub mod config;
pub mod controller;
pub mod dev;
pub mod document;
pub mod engine;
pub mod render;
pub mod router;
pub mod serve;
pub mod server;

pub use app::{App, AppBuilder};
pub use controller::{BoxError, ControllerError, Outcome, RequestContext};
