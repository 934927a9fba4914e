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
    /// Query string parameters: the first value of each (see [`RequestContext::query_all`]).
    pub query: BTreeMap<String, String>,
    /// Every value of each query parameter, in order (`?tag=a&tag=b`).
    pub query_values: BTreeMap<String, Vec<String>>,
    /// Request headers, names lower-case.
    #[serde(serialize_with = "headers_map")]
    pub headers: HeaderMap,
    /// Cookies by name.
    pub cookies: BTreeMap<String, String>,
    /// Form fields (urlencoded or multipart): the first value of each (see
    /// [`RequestContext::form_all`]).
    pub form: BTreeMap<String, String>,
    /// Every value of each form field, in order (five `<input name="guess">`).
    pub form_values: BTreeMap<String, Vec<String>>,
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
    /// Whether Inertia's client has once-prop `key` already (`X-Inertia-Except-Once-Props`):
    /// a controller need not compute it.
    pub fn has_once(&self, key: &str) -> bool {
        header_list(&self.headers, "x-inertia-except-once-props").iter().any(|k| k == key)
    }

    /// Whether Inertia's client asks for prop `key` in a partial reload
    /// (`X-Inertia-Partial-Data`): what a controller checks before computing a deferred prop.
    pub fn wants(&self, key: &str) -> bool {
        header_list(&self.headers, "x-inertia-partial-data").iter().any(|k| k == key)
    }

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

    /// Every value of query parameter `name`, in order (empty when absent), as
    /// `URLSearchParams.getAll` gives them.
    pub fn query_all(&self, name: &str) -> &[String] {
        self.query_values.get(name).map_or(&[], Vec::as_slice)
    }

    /// Every value of form field `name`, in order (empty when absent), as
    /// `FormData.getAll` and Django's `QueryDict.getlist` give them.
    pub fn form_all(&self, name: &str) -> &[String] {
        self.form_values.get(name).map_or(&[], Vec::as_slice)
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

/// Fields as sent (`tag=a&tag=b`) -> the first value of each, and every value of each.
pub(crate) fn fields(pairs: Vec<(String, String)>) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let mut first = BTreeMap::new();
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        first.entry(name.clone()).or_insert_with(|| value.clone());
        all.entry(name).or_default().push(value);
    }
    (first, all)
}

/// The names of a comma-separated header (Inertia's `X-Inertia-Partial-Data`, `-Reset`, ...),
/// trimmed, empty ones left out; none when the header is absent.
pub(crate) fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    let text = headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    text.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_keep_every_value_and_the_first_is_the_plain_one() {
        let pairs = [("tag", "a"), ("x", "1"), ("tag", "b")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        let (form, form_values) = fields(pairs.to_vec());
        let req = RequestContext { form, form_values, ..RequestContext::default() };
        assert_eq!(req.form("tag"), Some("a"));
        assert_eq!(req.form_all("tag"), ["a", "b"]);
        assert_eq!(req.form_all("x"), ["1"]);
        assert!(req.form_all("none").is_empty());
    }
}
