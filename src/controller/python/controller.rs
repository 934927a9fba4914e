//! [`PythonController`]: a `controllers/a/b.py` file as a [`Controller`].

use std::path::PathBuf;

use axum::http::{Method, StatusCode};
use cookie::{Cookie, SameSite};
use serde_json::Value;

use super::pool::PythonPool;
use super::protocol::ReplyResult;
use crate::controller::{Answer, BoxFuture, Controller, ControllerError, JsonProps, Outcome, RequestContext, Session};
use crate::live::{Live, Payload};

/// Controller `name`, served by `file` through the pool.
#[derive(Debug, Clone)]
pub struct PythonController {
    name: String,
    file: PathBuf,
    pool: PythonPool,
}

impl PythonController {
    /// Controller `name` in `file`.
    pub fn new(name: &str, file: PathBuf, pool: PythonPool) -> Self {
        Self { name: name.to_owned(), file, pool }
    }
}

impl Controller for PythonController {
    fn entries(&self) -> BoxFuture<Result<Vec<Value>, ControllerError>> {
        let this = self.clone();
        Box::pin(async move {
            let failed = |message: String| ControllerError::Failed {
                controller: this.name.clone(),
                source: message.into(),
                trace: None,
            };
            let reply = this
                .pool
                .call(&this.name, &this.file, "entries", serde_json::value::RawValue::NULL)
                .await
                .map_err(|e| failed(e.to_string()))?;
            if !reply.ok {
                let message = reply.error.map_or_else(|| "entries() failed".to_owned(), |e| e.message);
                return Err(failed(message));
            }
            let entries = reply.result.and_then(|r| r.entries);
            Ok(entries.and_then(|e| e.as_array().cloned()).unwrap_or_default())
        })
    }

    fn call(&self, request: RequestContext) -> BoxFuture<Result<Outcome, ControllerError>> {
        let this = self.clone();
        Box::pin(async move {
            let call = if request.method == Method::GET || request.method == Method::HEAD { "get" } else { "post" };
            let session = request.session.clone();
            let live = request.live.clone();
            let request = serde_json::value::to_raw_value(&request).expect("a request context serializes");
            let failed = |message: String, trace: Option<String>| ControllerError::Failed {
                controller: this.name.clone(),
                source: message.into(),
                trace,
            };
            let reply = this.pool.call(&this.name, &this.file, call, &request).await.map_err(|e| match e {
                super::PythonError::Timeout(t) => {
                    ControllerError::Timeout { controller: this.name.clone(), seconds: t.as_secs_f64() }
                }
                other => failed(other.to_string(), None),
            })?;
            if !reply.ok {
                let error =
                    reply.error.ok_or_else(|| failed("the worker reported an error without details".into(), None))?;
                return Err(match error.kind.as_str() {
                    "not_serializable" => ControllerError::NotSerializable {
                        controller: this.name.clone(),
                        path: error.path.unwrap_or_default(),
                        message: error.message,
                    },
                    _ => failed(error.message, error.traceback),
                });
            }
            let mut result = reply.result.unwrap_or_default();
            // Moved, not copied: at 1,000 products they are most of the reply.
            let props =
                result.props.take().map(JsonProps::from_raw).transpose().map_err(|e| failed(e.to_string(), None))?;
            let mut outcome = outcome(&result, props).ok_or_else(|| {
                failed(format!("the worker sent a result Fymo does not understand: {result:?}"), None)
            })?;
            apply_session(&session, result.session.as_ref());
            let ops = result.session.as_ref();
            if let Some(topics) = ops.and_then(|o| o.get("live")).and_then(Value::as_array) {
                outcome = outcome.live(topics.iter().filter_map(Value::as_str));
            }
            for publish in ops.and_then(|o| o.get("publish")).and_then(Value::as_array).into_iter().flatten() {
                publish_one(&this.name, live.as_ref(), publish).map_err(|e| failed(e, None))?;
            }
            Ok(outcome)
        })
    }
}

/// The outcome a worker's `result` describes; `props` (JSON text, passed on unparsed)
/// were taken out of it.
fn outcome(result: &ReplyResult, props: Option<JsonProps>) -> Option<Outcome> {
    let props = || props.unwrap_or_else(|| JsonProps::new("{}".to_owned()).expect("an empty object"));
    let status = || {
        let code = result.status.as_ref()?.as_u64()?;
        StatusCode::from_u16(u16::try_from(code).ok()?).ok()
    };
    let answer = match result.kind.as_ref()?.as_str()? {
        "props" => Answer::Json(StatusCode::OK, props()),
        "status" => Answer::Json(status()?, props()),
        "redirect" => Answer::Redirect { location: result.location.as_ref()?.as_str()?.to_owned(), status: status()? },
        "location" => Answer::Location(result.location.as_ref()?.as_str()?.to_owned()),
        "not_found" => Answer::NotFound,
        _ => return None,
    };
    let mut outcome = Outcome::new(answer);
    for (name, value) in result.headers.as_ref().and_then(Value::as_object).into_iter().flatten() {
        outcome = outcome.header(name.clone(), value.as_str().map_or_else(|| value.to_string(), str::to_owned));
    }
    for spec in result.cookies.as_ref().and_then(Value::as_array).into_iter().flatten() {
        outcome = outcome.cookie(cookie_of(spec)?);
    }
    if let Some(kinds) = &result.prop_kinds {
        let keys = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
        };
        for (group, list) in kinds.get("deferred").and_then(Value::as_object).into_iter().flatten() {
            for key in keys(list) {
                outcome = outcome.defer(key, group.clone());
            }
        }
        for (key, spec) in kinds.get("once").and_then(Value::as_object).into_iter().flatten() {
            outcome = outcome.once(key.clone(), spec.get("expiresAt").and_then(Value::as_u64));
        }
        for (list, deep) in [("merge", false), ("deep_merge", true)] {
            for key in kinds.get(list).map(keys).unwrap_or_default() {
                outcome = outcome.merge(key, deep);
            }
        }
    }
    Some(outcome)
}

/// A cookie from the dict `fymo.cookie(...)` / `fymo.delete_cookie(...)` made.
fn cookie_of(spec: &Value) -> Option<Cookie<'static>> {
    let text = |key: &str| spec.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut cookie = Cookie::new(text("name")?, text("value").unwrap_or_default());
    cookie.set_path(text("path").unwrap_or_else(|| "/".into()));
    if let Some(domain) = text("domain") {
        cookie.set_domain(domain);
    }
    if spec.get("remove").and_then(Value::as_bool) == Some(true) {
        cookie.make_removal();
        return Some(cookie);
    }
    if let Some(secs) = spec.get("max_age").and_then(Value::as_i64) {
        cookie.set_max_age(cookie::time::Duration::seconds(secs));
    }
    if let Some(at) = spec.get("expires").and_then(Value::as_i64) {
        cookie.set_expires(cookie::time::OffsetDateTime::from_unix_timestamp(at).ok()?);
    }
    cookie.set_secure(spec.get("secure").and_then(Value::as_bool).unwrap_or(false));
    cookie.set_http_only(spec.get("http_only").and_then(Value::as_bool).unwrap_or(true));
    cookie.set_same_site(match spec.get("same_site").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("strict") => Some(SameSite::Strict),
        Some(s) if s.eq_ignore_ascii_case("none") => Some(SameSite::None),
        Some(_) => Some(SameSite::Lax),
        None => None,
    });
    Some(cookie)
}

/// One `fymo.publish(...)` of the controller: `{"topic", "patch"}` or `{"topic", "event", "data"}`.
fn publish_one(controller: &str, live: Option<&Live>, op: &Value) -> Result<(), String> {
    let live =
        live.ok_or_else(|| format!("controller `{controller}` published, but live updates are not available here"))?;
    let topic = op.get("topic").and_then(Value::as_str).unwrap_or_default();
    let payload = match (op.get("patch"), op.get("event").and_then(Value::as_str)) {
        (Some(patch), None) if !patch.is_null() => Payload::Patch(patch.clone()),
        (_, Some(name)) => {
            Payload::Event { name: name.to_owned(), data: op.get("data").cloned().unwrap_or(Value::Null) }
        }
        _ => return Err("publish() needs a patch or an event".into()),
    };
    live.publish(topic, payload).map_err(|e| e.to_string())
}

/// What the controller did to `request["session"]` (and `fymo.flash`,
/// `fymo.rotate_session`), applied to the request's session.
fn apply_session(session: &Session, ops: Option<&Value>) {
    let Some(ops) = ops else { return };
    if let Some(data) = ops.get("data").and_then(Value::as_object) {
        session.replace_data(data.clone());
    }
    if ops.get("rotate").and_then(Value::as_bool) == Some(true) {
        session.rotate();
    }
    if let Some(message) = ops.get("flash").and_then(Value::as_str) {
        session.flash(message);
    }
}
