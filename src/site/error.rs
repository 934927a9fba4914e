//! [`ErrorReport`]: one failure, whatever stage it came from, as every consumer sees it:
//! the HTTP error page, the dev overlay, the dev client's event stream and the terminal.

use axum::http::StatusCode;
use serde::Serialize;

/// Which stage failed. Shown as the overlay's title and sent to the dev client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorKind {
    /// A template does not compile.
    Compile,
    /// `routes.yml` is wrong.
    Routes,
    /// The build output or the shell cannot be loaded.
    Build,
    /// A controller failed.
    Controller,
    /// The page threw or ran past its limits while rendering.
    Render,
    /// The request itself is wrong (method, body).
    Request,
    /// Nothing answers at this path.
    NotFound,
}

impl ErrorKind {
    /// The word used in pages and logs.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Compile => "compile",
            Self::Routes => "routes",
            Self::Build => "build",
            Self::Controller => "controller",
            Self::Render => "render",
            Self::Request => "request",
            Self::NotFound => "not found",
        }
    }

    /// Whether the whole app is broken (every page answers with this error), rather
    /// than one request having failed. The dev client reloads such a page once fixed.
    pub(crate) fn whole_app(self) -> bool {
        matches!(self, Self::Compile | Self::Routes | Self::Build)
    }
}

/// What went wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorReport {
    /// The status a request that met this error gets.
    #[serde(skip)]
    pub(crate) status: StatusCode,
    /// Which stage failed.
    pub(crate) kind: ErrorKind,
    /// Whether every page is broken by it (see [`ErrorKind::whole_app`]).
    pub(crate) whole_app: bool,
    /// What went wrong.
    pub(crate) message: String,
    /// Where, relative to the app root.
    pub(crate) file: Option<String>,
    /// 1-based line.
    pub(crate) line: Option<u32>,
    /// 1-based column.
    pub(crate) column: Option<u32>,
    /// Code frame around the place.
    pub(crate) frame: Option<String>,
    /// JavaScript stack or Python traceback.
    pub(crate) stack: Option<String>,
}

impl ErrorReport {
    /// A 500 with only a kind and a message.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind,
            whole_app: kind.whole_app(),
            message: message.into(),
            file: None,
            line: None,
            column: None,
            frame: None,
            stack: None,
        }
    }

    /// The same report answered with `status`.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// A 404.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message).with_status(StatusCode::NOT_FOUND)
    }

    /// `file:line:column` (as much of it as is known), or empty.
    pub(crate) fn place(&self) -> String {
        match (&self.file, self.line, self.column) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}"),
            (Some(f), Some(l), None) => format!("{f}:{l}"),
            (Some(f), _, _) => f.clone(),
            _ => String::new(),
        }
    }
}
