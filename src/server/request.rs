//! Turning an HTTP request into a controller's [`RequestContext`].

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, Request};

use crate::controller::RequestContext;

/// Largest request body read for forms and JSON.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Why the body could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    /// Too large or a broken connection.
    #[error("cannot read the request body: {0}")]
    Read(String),
    /// Declared JSON that is not.
    #[error("malformed JSON body: {0}")]
    Json(serde_json::Error),
}

/// Builds the context from the request and the route's decoded params.
///
/// # Errors
/// An unreadable or malformed body.
pub(super) async fn context(
    request: Request<Body>,
    params: BTreeMap<String, String>,
) -> Result<RequestContext, BodyError> {
    let (parts, body) = request.into_parts();
    let query = parts
        .uri
        .query()
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let cookies = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| cookie::Cookie::split_parse_encoded(v.to_owned()))
        .filter_map(Result::ok)
        .map(|c| (c.name().to_owned(), c.value().to_owned()))
        .collect();
    let content_type =
        parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let mut form = BTreeMap::new();
    let mut json = None;
    if content_type.starts_with("application/x-www-form-urlencoded") || content_type.starts_with("application/json") {
        let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|e| BodyError::Read(e.to_string()))?;
        if content_type.starts_with("application/json") {
            if !bytes.is_empty() {
                json = Some(serde_json::from_slice(&bytes).map_err(BodyError::Json)?);
            }
        } else {
            form =
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default().into_iter().collect();
        }
    }
    Ok(RequestContext {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        params,
        query,
        headers: parts.headers,
        cookies,
        form,
        json,
    })
}
