//! Controllers: named functions from a request to a page's props (or a redirect, a
//! status, not-found). Rust controllers are registered on the [`crate::App`] builder.

mod context;
mod json_props;
mod outcome;
pub(crate) mod python;
mod registry;
mod session;
mod upload;

pub(crate) use context::fields;
pub(crate) use context::header_list;
pub use context::RequestContext;
pub use json_props::JsonProps;
pub(crate) use outcome::PropKinds;
pub use outcome::{Answer, BadRequest, ControllerError, Outcome};
pub(crate) use registry::{BoxFuture, Language};
pub use registry::{Controller, Registry};
pub use session::Session;
pub(crate) use session::{hex, random_token, random_token_pair, unix_now, SessionState};
pub use upload::UploadedFile;

/// Any error a controller body may return with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
