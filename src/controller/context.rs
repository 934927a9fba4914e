//! [`RequestContext`]: what a controller sees of the request, as plain data.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method};
use serde::Serialize;

use super::{BadRequest, Session, UploadedFile};
use crate::live::{Live, LiveError};

/// The request as a controller sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestContext {
    /// HTTP method.
    #[serde(serialize_with = "method_str")]
    pub method: Method,
    /// The request path, without the query.
    pub path: String,
    /// Path parameters from the route pattern.
    pub params: BTreeMap<String, String>,
    /// Query string parameters (the last value wins for repeated keys).
    pub query: BTreeMap<String, String>,
    /// Request headers, names lower-case.
    #[serde(serialize_with = "headers_map")]
    pub headers: HeaderMap,
    /// Cookies by name.
    pub cookies: BTreeMap<String, String>,
    /// Form fields of an `application/x-www-form-urlencoded` body.
    pub form: BTreeMap<String, String>,
    /// A JSON body, when the request sent one.
    pub json: Option<serde_json::Value>,
    /// Files of a `multipart/form-data` body.
    pub files: Vec<UploadedFile>,
    /// The visitor's session (sent to Python as a dict of its values).
    #[serde(serialize_with = "session_data")]
    pub session: Session,
    /// The message the previous request flashed, shown once.
    pub flash: Option<String>,
    /// The session's CSRF token, for pages that build forms.
    pub csrf: String,
    /// For a call from a live page (`live.call("send", {...})`): the action's name; the
    /// arguments are in [`RequestContext::json`] and the method is POST.
    pub action: Option<String>,
    /// Publishing to live pages (set by the server; see [`RequestContext::live`]).
    #[serde(skip)]
    pub live: Option<Live>,
}

impl RequestContext {
    /// A path parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// A query parameter parsed as `T` (`None` when absent).
    ///
    /// # Errors
    /// A value that does not parse: [`BadRequest`], which answers 400 (the client's
    /// mistake, not the server's).
    pub fn query_as<T>(&self, name: &str) -> Result<Option<T>, BadRequest>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.query(name)
            .map(|v| v.parse().map_err(|e| BadRequest(format!("query parameter `{name}`: {e} (got `{v}`)"))))
            .transpose()
    }

    /// A header value, if it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A cookie.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// A form field (urlencoded or multipart).
    pub fn form(&self, name: &str) -> Option<&str> {
        self.form.get(name).map(String::as_str)
    }

    /// The first uploaded file of field `name`.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|f| f.field == name)
    }

    /// The visitor's session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Publishes to live pages: `req.live()?.publish_patch("chat:lobby", json!({...}))?`.
    ///
    /// # Errors
    /// [`LiveError::Unavailable`] outside a server.
    pub fn live(&self) -> Result<&Live, LiveError> {
        self.live.as_ref().ok_or(LiveError::Unavailable)
    }

    /// The live action being called, if this is a live call.
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// The message the previous request flashed (see [`Session::flash`]), once.
    pub fn flash(&self) -> Option<&str> {
        self.flash.as_deref()
    }
}

fn session_data<S: serde::Serializer>(session: &Session, s: S) -> Result<S::Ok, S::Error> {
    session.data().serialize(s)
}

fn method_str<S: serde::Serializer>(method: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(method.as_str())
}

fn headers_map<S: serde::Serializer>(headers: &HeaderMap, s: S) -> Result<S::Ok, S::Error> {
    let map: BTreeMap<&str, String> =
        headers.iter().map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
    map.serialize(s)
}
