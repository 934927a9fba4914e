//! Controllers: named functions from a request to a page's props (or a redirect, a
//! status, not-found). Rust controllers are registered on the [`crate::App`] builder.

mod context;
mod outcome;
pub mod python;
mod registry;

pub use context::RequestContext;
pub use outcome::{ControllerError, Outcome};
pub use registry::{BoxFuture, Controller, Language, Registry};

/// Any error a controller body may return with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
