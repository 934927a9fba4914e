//! Small demo controllers: the home page, the counter, the snippets page, a failing one.

use fymo::{BoxError, Outcome, RequestContext};
use serde_json::json;

pub(crate) async fn index(_: RequestContext) -> Result<Outcome, BoxError> {
    Ok(json!({
        "title": "Fymo demo",
        "features": [
            "routes.yml routing",
            "Rust controllers",
            "Svelte 5 SSR in QuickJS",
            "real hydration",
        ],
    })
    .into())
}

pub(crate) async fn counter(req: RequestContext) -> Result<Outcome, BoxError> {
    let start: i64 = req.query("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(json!({ "start": start, "step": 1 }).into())
}

pub(crate) async fn snippets(_: RequestContext) -> Result<Outcome, BoxError> {
    Ok(json!({
        "rows": [
            { "name": "Ada", "role": "engine" },
            { "name": "Grace", "role": "compiler" },
            { "name": "Linus", "role": "kernel" },
        ],
    })
    .into())
}

/// Greets `?name=`: whatever the visitor types ends up in the props, escaped.
pub(crate) async fn hello(req: RequestContext) -> Result<Outcome, BoxError> {
    Ok(json!({ "name": req.query("name").unwrap_or("world") }).into())
}

/// Always fails: shows what a controller error looks like (500 with a request id).
pub(crate) async fn fail(_: RequestContext) -> Result<Outcome, BoxError> {
    Err("the demo controller failed on purpose".into())
}
