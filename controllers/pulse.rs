//! `/pulse`: a live page served by a Rust controller. The page follows topic `pulse`
//! (routes.yml); the `bump` action publishes a props patch (`count`) and an event
//! (`ping`) to every page following it.

use std::sync::atomic::{AtomicU64, Ordering};

use fymo::http::StatusCode;
use fymo::{Outcome, RequestContext};
use serde_json::json;

/// This process's count (a real app keeps it in its database).
static COUNT: AtomicU64 = AtomicU64::new(0);

pub(crate) async fn pulse(req: RequestContext) -> Result<Outcome, fymo::BoxError> {
    match req.action() {
        Some("bump") => {
            let by = req.json.as_ref().and_then(|j| j["by"].as_u64()).unwrap_or(1);
            // Checked: a huge `by` is the client's mistake, never a wrapped count.
            let Ok(before) = COUNT.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_add(by)) else {
                return Ok(Outcome::status(StatusCode::BAD_REQUEST, json!({ "error": "`by` is too large" }))?);
            };
            let count = before + by;
            let live = req.live()?;
            live.publish_patch("pulse", json!({ "count": count }))?;
            live.publish_event("pulse", "ping", json!({ "count": count }))?;
            Ok(Outcome::props(json!({ "count": count }))?)
        }
        Some(other) => Err(format!("no action `{other}`").into()),
        None => Ok(Outcome::props(json!({ "count": COUNT.load(Ordering::SeqCst), "label": "" }))?),
    }
}
