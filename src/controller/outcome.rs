//! What a controller returns, and how it fails.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

/// A controller's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Render the page with these props (200).
    Props(Value),
    /// Render the page with these props and this status.
    Status(StatusCode, Value),
    /// Redirect (303 See Other by default, right after a POST).
    Redirect {
        /// Target URL.
        location: String,
        /// 301, 302, 303, 307 or 308.
        status: StatusCode,
    },
    /// Answer 404 with the not-found page.
    NotFound,
}

impl Outcome {
    /// Props from any serializable value.
    ///
    /// # Errors
    /// When `value` does not serialize to JSON (a map with non-string keys, a failing
    /// `Serialize` impl).
    pub fn props(value: impl Serialize) -> Result<Self, serde_json::Error> {
        serde_json::to_value(value).map(Self::Props)
    }

    /// A 303 redirect to `location`.
    pub fn redirect(location: impl Into<String>) -> Self {
        Self::Redirect { location: location.into(), status: StatusCode::SEE_OTHER }
    }
}

impl From<Value> for Outcome {
    fn from(value: Value) -> Self {
        Self::Props(value)
    }
}

/// A controller failed. The request gets a 500; the details go to the log (and the dev
/// overlay), never into a production response.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The controller returned an error.
    #[error("controller `{controller}` failed: {source}")]
    Failed {
        /// Controller name.
        controller: String,
        /// What it returned.
        source: super::BoxError,
        /// A traceback or stack, when the controller's language gives one.
        trace: Option<String>,
    },
    /// It returned something that is not JSON-serializable.
    #[error("controller `{controller}` returned a value that is not JSON-serializable at `{path}`: {message}")]
    NotSerializable {
        /// Controller name.
        controller: String,
        /// Where in the value (`props.items[3].created`).
        path: String,
        /// Why.
        message: String,
    },
    /// It did not answer in time.
    #[error("controller `{controller}` timed out after {seconds:.1}s")]
    Timeout {
        /// Controller name.
        controller: String,
        /// The timeout.
        seconds: f64,
    },
}
