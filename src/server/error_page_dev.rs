//! The error overlay page served while the app is broken in development.

use super::DevError;
use crate::document::escape_html as escape;

/// Where the dev client is served.
pub const CLIENT_PATH: &str = "/_fymo/dev/client.js";

/// The dev client script, embedded.
pub const CLIENT_JS: &str = include_str!("../../js/dev-client.js");

/// A full page showing `error`, with the dev client so that it reloads once fixed.
pub fn page(error: &DevError, request_id: &str) -> String {
    let place = error.place();
    let section = |class: &str, text: &Option<String>| {
        text.as_deref().map(|t| format!("<pre class=\"{class}\">{}</pre>\n", escape(t))).unwrap_or_default()
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{kind} error</title>\n<style>\nbody {{ font: 14px/1.5 ui-monospace, monospace; background: #1e1e24; color: #eee; margin: 0; padding: 2rem; }}\n.kind {{ color: #ff6b6b; text-transform: uppercase; letter-spacing: .05em; }}\n.place {{ color: #8ab4f8; }}\npre {{ background: #111; padding: 1rem; overflow: auto; white-space: pre-wrap; }}\n</style>\n</head>\n<body>\n<div id=\"fymo-error\" data-kind=\"{kind}\">\n<p class=\"kind\">{kind} error</p>\n<h1 class=\"message\">{message}</h1>\n<p class=\"place\">{place}</p>\n{frame}{stack}<p>Request id: <code>{id}</code>. Fix the file and this page reloads by itself.</p>\n</div>\n<script type=\"module\" src=\"{CLIENT_PATH}\"></script>\n</body>\n</html>\n",
        kind = escape(&error.kind),
        message = escape(&error.message),
        place = escape(&place),
        frame = section("frame", &error.frame),
        stack = section("stack", &error.stack),
        id = escape(request_id),
    )
}
