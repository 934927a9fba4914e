//! [`PythonController`]: a `controllers/a/b.py` file as a [`Controller`].

use std::path::PathBuf;

use axum::http::{Method, StatusCode};

use super::pool::PythonPool;
use crate::controller::{BoxFuture, Controller, ControllerError, Outcome, RequestContext};

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
    fn call(&self, request: RequestContext) -> BoxFuture<Result<Outcome, ControllerError>> {
        let this = self.clone();
        Box::pin(async move {
            let call = if request.method == Method::POST { "post" } else { "get" };
            let request = serde_json::to_value(&request).expect("a request context serializes");
            let failed = |message: String, trace: Option<String>| ControllerError::Failed {
                controller: this.name.clone(),
                source: message.into(),
                trace,
            };
            let reply = this.pool.call(&this.name, &this.file, call, request).await.map_err(|e| match e {
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
            let result = reply.result.unwrap_or_default();
            outcome(&result)
                .ok_or_else(|| failed(format!("the worker sent a result Fymo does not understand: {result}"), None))
        })
    }
}

fn outcome(result: &serde_json::Value) -> Option<Outcome> {
    let props = || result.get("props").cloned().unwrap_or_else(|| serde_json::json!({}));
    let status = || {
        result
            .get("status")
            .and_then(serde_json::Value::as_u64)
            .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
    };
    match result.get("kind")?.as_str()? {
        "props" => Some(Outcome::Props(props())),
        "status" => Some(Outcome::Status(status()?, props())),
        "redirect" => {
            Some(Outcome::Redirect { location: result.get("location")?.as_str()?.to_owned(), status: status()? })
        }
        "not_found" => Some(Outcome::NotFound),
        _ => None,
    }
}
