//! Error responses: a plain page (or JSON) with the request id; details only in the log,
//! or in the response too in development.

use axum::body::Body;
use axum::http::{header, Response, StatusCode};

use crate::document::{escape_html as escape, serialize_props};

/// What went wrong, for the page.
#[derive(Debug)]
pub(super) struct Failure {
    /// Status to answer with.
    pub(super) status: StatusCode,
    /// Which stage failed (`controller`, `render`, `request`).
    pub(super) kind: &'static str,
    /// The full message (shown only in development).
    pub(super) detail: String,
    /// A JavaScript stack or Python traceback (development only).
    pub(super) trace: Option<String>,
}

/// The error page for `failure`.
pub(super) fn error_response(failure: &Failure, request_id: &str, dev: bool, wants_json: bool) -> Response<Body> {
    let reason = failure.status.canonical_reason().unwrap_or("Error");
    let (content_type, body) = if wants_json {
        let mut value =
            serde_json::json!({ "error": reason, "status": failure.status.as_u16(), "request_id": request_id });
        if dev {
            value["kind"] = failure.kind.into();
            value["detail"] = failure.detail.clone().into();
        }
        ("application/json", value.to_string())
    } else {
        let details = if dev {
            format!(
                "<h2>{} error</h2>\n<pre>{}</pre>\n{}",
                failure.kind,
                escape(&failure.detail),
                failure.trace.as_deref().map(|t| format!("<pre>{}</pre>\n", escape(t))).unwrap_or_default()
            )
        } else {
            String::new()
        };
        let html = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{code} {reason}</title></head>\n<body>\n<h1>{code} {reason}</h1>\n{details}<p>Request id: <code>{id}</code></p>\n<script type=\"application/json\" id=\"__fymo_error\">{json}</script>\n</body>\n</html>\n",
            code = failure.status.as_u16(),
            id = escape(request_id),
            json = serialize_props(&serde_json::json!({ "status": failure.status.as_u16(), "request_id": request_id })),
        );
        ("text/html; charset=utf-8", html)
    };
    Response::builder()
        .status(failure.status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .expect("valid error response")
}
