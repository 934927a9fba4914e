//! Turning an HTTP request into a controller's [`RequestContext`].

use std::collections::BTreeMap;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body::Body as _;

use super::conn::BodyReadError;
use super::csrf::{self, CsrfError};
use super::multipart::{self, UploadError};
use crate::config::UploadLimits;
use crate::controller::{fields, RequestContext, Session};

/// Largest request body read for forms and JSON.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Why the body could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    /// Larger than [`BODY_LIMIT`].
    #[error("the request body is larger than {BODY_LIMIT} bytes")]
    TooLarge,
    /// A body in a format no controller reads.
    #[error("unsupported content type `{0}`: send application/x-www-form-urlencoded or application/json")]
    Unsupported(String),
    /// The client took longer than the body timeout.
    #[error("the request body did not arrive within {0:?}")]
    TimedOut(Duration),
    /// A broken connection.
    #[error("cannot read the request body: {0}")]
    Read(String),
    /// Declared JSON that is not.
    #[error("malformed JSON body: {0}")]
    Json(serde_json::Error),
    /// A multipart body the route's upload limits refuse.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// An unsafe request that failed the CSRF checks.
    #[error(transparent)]
    Csrf(#[from] CsrfError),
}

impl BodyError {
    /// The status a request gets for it.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Read(_) | Self::Json(_) => StatusCode::BAD_REQUEST,
            Self::Upload(UploadError::TooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Upload(UploadError::Type { .. }) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Upload(UploadError::Malformed(_)) => StatusCode::BAD_REQUEST,
            Self::Upload(UploadError::Io(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Csrf(_) => StatusCode::FORBIDDEN,
        }
    }

    /// Classifies a failed read: the cause may sit under several layers of boxing.
    fn of_read(error: axum::Error) -> Self {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(e) = cause {
            if e.is::<http_body_util::LengthLimitError>() {
                return Self::TooLarge;
            }
            if let Some(BodyReadError::TimedOut(limit)) = e.downcast_ref::<BodyReadError>() {
                return Self::TimedOut(*limit);
            }
            cause = e.source();
        }
        Self::Read(error.to_string())
    }
}

/// The request's cookies by name (values percent-decoded).
pub(super) fn cookies_of(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| cookie::Cookie::split_parse_encoded(v.to_owned()))
        .filter_map(Result::ok)
        .map(|c| (c.name().to_owned(), c.value().to_owned()))
        .collect()
}

/// What a body is, by its `Content-Type`.
enum BodyKind {
    Form,
    Json,
    /// With its boundary.
    Multipart(String),
}

fn body_kind(headers: &HeaderMap) -> Result<Option<BodyKind>, BodyError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(None); // a body without a type is not read
    };
    let unsupported = || BodyError::Unsupported(String::from_utf8_lossy(value.as_bytes()).into_owned());
    let mime: mime::Mime = value.to_str().ok().and_then(|v| v.parse().ok()).ok_or_else(unsupported)?;
    match mime.essence_str() {
        "application/x-www-form-urlencoded" => Ok(Some(BodyKind::Form)),
        "application/json" => Ok(Some(BodyKind::Json)),
        "multipart/form-data" => match mime.get_param(mime::BOUNDARY) {
            Some(boundary) => Ok(Some(BodyKind::Multipart(boundary.to_string()))),
            None => Err(BodyError::Read("a multipart body without a boundary".into())),
        },
        _ => Err(unsupported()),
    }
}

/// What the route asks of a request's body.
pub(super) struct BodyRules<'a> {
    /// Multipart limits.
    pub(super) upload: &'a UploadLimits,
    /// The request came over HTTPS (the origin check compares the scheme).
    pub(super) https: bool,
    /// The session's CSRF token, when this request must carry it.
    pub(super) csrf: Option<String>,
}

/// Builds the context from the request and the route's decoded params. The checks come
/// in the order a client can act on: the body's type (415) and declared size (413), the
/// body itself (413, 400), then the request's origin and CSRF token (403).
///
/// # Errors
/// An unreadable, too large, late, unsupported or malformed body; a CSRF failure.
pub(super) async fn context(
    request: Request<Body>,
    params: BTreeMap<String, String>,
    rules: BodyRules<'_>,
    session: Session,
) -> Result<RequestContext, BodyError> {
    let (parts, body) = request.into_parts();
    let (query, query_values) = fields(
        parts
            .uri
            .query()
            .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
            .unwrap_or_default(),
    );
    let cookies = cookies_of(&parts.headers);
    let mut form = Vec::new();
    let mut json = None;
    let mut files = Vec::new();
    // Only a request that carries a body has its type checked.
    let kind = if body.is_end_stream() { None } else { body_kind(&parts.headers)? };
    let limit = match kind {
        Some(BodyKind::Multipart(_)) => rules.upload.max_size,
        _ => BODY_LIMIT as u64,
    };
    // A declared length over the limit is refused before reading any of it.
    if kind.is_some() && body.size_hint().lower() > limit {
        return Err(match kind {
            Some(BodyKind::Multipart(_)) => {
                UploadError::TooLarge(format!("the body is over the route's {limit} bytes")).into()
            }
            _ => BodyError::TooLarge,
        });
    }
    if let Some(BodyKind::Multipart(boundary)) = kind {
        (form, files) = multipart::read(body, boundary, rules.upload).await?;
    } else if let Some(kind) = kind {
        let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(BodyError::of_read)?;
        match kind {
            BodyKind::Json if !bytes.is_empty() => {
                json = Some(serde_json::from_slice(&bytes).map_err(BodyError::Json)?);
            }
            BodyKind::Json => {}
            BodyKind::Form => form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default(),
            BodyKind::Multipart(_) => unreachable!("read above"),
        }
    }
    let (form, form_values) = fields(form);
    // Checked once the body is read: a refusal that left it unread would cost the client
    // its kept-alive connection.
    if let Some(token) = &rules.csrf {
        csrf::check_origin(&parts.headers, rules.https)?;
        csrf::check_token(&parts.headers, form.get(csrf::FIELD).map(String::as_str), token)?;
    }
    let (csrf, flash) = (session.csrf_token(), session.flashed());
    Ok(RequestContext {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        params,
        query,
        query_values,
        headers: parts.headers,
        cookies,
        form,
        form_values,
        json,
        files,
        session,
        flash,
        csrf,
        action: None,
        live: None,
    })
}
