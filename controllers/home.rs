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

/// `GET /visits`: a Rust controller with a session counter, a response header and a
/// cookie (`?theme=dark` sets it, `?forget` deletes it).
pub(crate) async fn visits(req: RequestContext) -> Result<Outcome, BoxError> {
    let session = req.session();
    let visits = session.get::<u64>("visits").unwrap_or(0) + 1;
    session.insert("visits", visits);
    let mut outcome = Outcome::props(serde_json::json!({ "visits": visits, "theme": req.cookie("theme") }))?
        .header("x-visits", visits.to_string());
    if let Some(theme) = req.query("theme") {
        let cookie = fymo::Cookie::build(("theme", theme.to_owned()))
            .path("/")
            .max_age(fymo::cookie::time::Duration::days(30))
            .same_site(fymo::SameSite::Lax);
        outcome = outcome.cookie(cookie);
    }
    if req.query("forget").is_some() {
        outcome = outcome.remove_cookie("theme");
    }
    Ok(outcome)
}

/// The `auth` section's layout (`templates/auth/_layout.svelte`): who is signed in, from
/// the session. A Rust layout controller, registered as `auth._layout`.
pub(crate) async fn auth_layout(req: RequestContext) -> Result<Outcome, BoxError> {
    Ok(Outcome::props(serde_json::json!({ "user": req.session().get::<String>("user") }))?)
}

/// `echo`: the page's props are the JSON object in the `props` query parameter. The
/// fidelity test serves every fixture template through a Rust controller this way.
pub(crate) async fn echo(req: RequestContext) -> Result<Outcome, BoxError> {
    let props: serde_json::Value = serde_json::from_str(req.query("props").unwrap_or("{}"))?;
    Ok(Outcome::props(props)?)
}
