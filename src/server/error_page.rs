//! Error responses, written in one place for every [`Mode`]: a plain page (details only
//! in the log), the same page with the details (`--dev-errors`), `fymo dev`'s overlay,
//! or JSON. Every one carries the request id.

use axum::body::Body;
use axum::http::{header, Response};

use super::Mode;
use crate::config::CspSetting;
use crate::document::{dev_client_tag, escape_html as escape, escape_json, Csp};
use crate::site::ErrorReport;

/// The error response for `error` in `mode`. In development, server errors show the
/// overlay; a 404 or 405 is the plain page with its details.
pub(super) fn error_response(error: &ErrorReport, request_id: &str, mode: &Mode, wants_json: bool) -> Response<Body> {
    let (content_type, body) = if wants_json {
        ("application/json", json_body(error, request_id, mode.details()))
    } else if matches!(mode, Mode::Dev { .. }) && (error.status.is_server_error() || error.whole_app) {
        // The overlay's inline style carries a nonce, as a page's would.
        let csp = Csp::new(&CspSetting::Enabled(true));
        let nonce = csp.nonce().expect("a policy");
        let mut response = html_or_json(error, "text/html; charset=utf-8", overlay_page(error, request_id, &nonce));
        if let Some(Ok(value)) = csp.header(&nonce).map(axum::http::HeaderValue::try_from) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
        }
        return response;
    } else {
        ("text/html; charset=utf-8", plain_page(error, request_id, mode.details()))
    };
    html_or_json(error, content_type, body)
}

/// A full page (`templates/error.svelte`, rendered) answered with `error`'s status.
pub(super) fn page_response(error: &ErrorReport, html: String) -> Response<Body> {
    html_or_json(error, "text/html; charset=utf-8", html)
}

fn html_or_json(error: &ErrorReport, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(error.status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .expect("valid error response")
}

fn reason(error: &ErrorReport) -> &'static str {
    error.status.canonical_reason().unwrap_or("Error")
}

fn json_body(error: &ErrorReport, request_id: &str, details: bool) -> String {
    let mut value =
        serde_json::json!({ "error": reason(error), "status": error.status.as_u16(), "request_id": request_id });
    if details {
        value["kind"] = error.kind.as_str().into();
        value["detail"] = error.message.clone().into();
    }
    value.to_string()
}

fn pre(class: &str, text: Option<&str>) -> String {
    text.map(|t| format!("<pre class=\"{class}\">{}</pre>\n", escape(t))).unwrap_or_default()
}

fn plain_page(error: &ErrorReport, request_id: &str, details: bool) -> String {
    let details = if details {
        format!(
            "<h2>{} error</h2>\n{}{}",
            error.kind.as_str(),
            pre("message", Some(&error.message)),
            pre("stack", error.stack.as_deref())
        )
    } else {
        String::new()
    };
    let data = serde_json::json!({ "status": error.status.as_u16(), "request_id": request_id }).to_string();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{code} {reason}</title></head>\n<body>\n<h1>{code} {reason}</h1>\n{details}<p>Request id: <code>{id}</code></p>\n<script type=\"application/json\" id=\"__fymo_error\">{json}</script>\n</body>\n</html>\n",
        code = error.status.as_u16(),
        reason = reason(error),
        id = escape(request_id),
        json = escape_json(&data),
    )
}

/// `fymo dev`'s overlay as a full page, with the dev client so that it reloads once fixed.
fn overlay_page(error: &ErrorReport, request_id: &str, nonce: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{kind} error</title>\n<style nonce=\"{nonce}\">\nbody {{ font: 14px/1.5 ui-monospace, monospace; background: #1e1e24; color: #eee; margin: 0; padding: 2rem; }}\n.kind {{ color: #ff6b6b; text-transform: uppercase; letter-spacing: .05em; }}\n.place {{ color: #8ab4f8; }}\npre {{ background: #111; padding: 1rem; overflow: auto; white-space: pre-wrap; }}\n</style>\n</head>\n<body>\n<div id=\"fymo-error\" data-kind=\"{kind}\" data-whole-app=\"{whole_app}\">\n<p class=\"kind\">{kind} error</p>\n<h1 class=\"message\">{message}</h1>\n<p class=\"place\">{place}</p>\n{frame}{stack}<p>Request id: <code>{id}</code>. Fix the file and this page reloads by itself.</p>\n</div>\n{client}\n</body>\n</html>\n",
        kind = escape(error.kind.as_str()),
        whole_app = error.whole_app,
        message = escape(&error.message),
        place = escape(&error.place()),
        frame = pre("frame", error.frame.as_deref()),
        stack = pre("stack", error.stack.as_deref()),
        id = escape(request_id),
        client = dev_client_tag(Some(nonce)),
    )
}
