//! What a controller returns, and how it fails.

use axum::http::StatusCode;
use cookie::Cookie;
use serde::Serialize;
use serde_json::Value;

use super::JsonProps;

/// A controller's answer: what to do ([`Answer`]) plus any response headers and cookies.
///
/// # Examples
/// ```
/// use fymo::{Cookie, Outcome};
///
/// let outcome = Outcome::props(serde_json::json!({ "theme": "dark" }))
///     .unwrap()
///     .header("cache-control", "private, max-age=60")
///     .cookie(Cookie::build(("theme", "dark")).path("/").max_age(fymo::cookie::time::Duration::days(365)))
///     .remove_cookie("legacy");
/// assert_eq!(outcome.headers().len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    answer: Answer,
    headers: Vec<(String, String)>,
    cookies: Vec<Cookie<'static>>,
    topics: Vec<String>,
    props_kinds: PropKinds,
}

/// How Inertia's client treats some props (Inertia apps): loaded after the page, or merged
/// into what it has rather than replacing it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PropKinds {
    /// Deferred props by group: left out of a visit, loaded by the client with one partial
    /// reload per group once the page shows.
    pub(crate) deferred: std::collections::BTreeMap<String, Vec<String>>,
    /// Props whose arrays the client appends to what it has (infinite scroll).
    pub(crate) merge: Vec<String>,
    /// Props the client merges deeply into what it has.
    pub(crate) deep_merge: Vec<String>,
    /// Props the client keeps once it has them (by key: the prop, and when the copy expires,
    /// in ms since the epoch), sent again only when it says it lacks them.
    pub(crate) once: std::collections::BTreeMap<String, (String, Option<u64>)>,
}

impl PropKinds {
    pub(crate) fn extend(&mut self, other: Self) {
        for (group, keys) in other.deferred {
            self.deferred.entry(group).or_default().extend(keys);
        }
        self.merge.extend(other.merge);
        self.deep_merge.extend(other.deep_merge);
        self.once.extend(other.once);
    }
}

/// What a controller asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Render the page with these props (200).
    Props(Value),
    /// Render the page with these props and this status.
    Status(StatusCode, Value),
    /// Render the page with props that are JSON text already, and this status: passed
    /// through unparsed ([`Outcome::props`] and a Python controller's props are this).
    Json(StatusCode, JsonProps),
    /// Redirect (303 See Other by default, right after a POST).
    Redirect {
        /// Target URL.
        location: String,
        /// 301, 302, 303, 307 or 308.
        status: StatusCode,
    },
    /// Leave for this URL, which may be another site's: a 303 redirect, or for Inertia's
    /// client (a request with `X-Inertia`) 409 with `X-Inertia-Location`, which makes it
    /// load the URL as a whole page (Inertia's external redirect).
    Location(String),
    /// Answer 404 with the not-found page.
    NotFound,
}

impl Outcome {
    /// An outcome that does `answer`, with no extra headers or cookies.
    pub fn new(answer: Answer) -> Self {
        Self { answer, headers: Vec::new(), cookies: Vec::new(), topics: Vec::new(), props_kinds: PropKinds::default() }
    }

    /// Props from any serializable value that serializes to a JSON object. Written
    /// straight to JSON text ([`Answer::Json`]), never built as a [`Value`] first: for a
    /// large page that is most of the controller's cost.
    ///
    /// # Errors
    /// When `value` does not serialize to JSON (a failing `Serialize` impl), or not to
    /// an object.
    pub fn props(value: impl Serialize) -> Result<Self, serde_json::Error> {
        Self::status(StatusCode::OK, value)
    }

    /// The page with these props, answered with `status` (422 for a form with errors).
    ///
    /// # Errors
    /// As [`Outcome::props`].
    pub fn status(status: StatusCode, value: impl Serialize) -> Result<Self, serde_json::Error> {
        // Written by serde_json, so not read again to check it is JSON.
        let props = JsonProps::from_raw(serde_json::value::to_raw_value(&value)?)?;
        Ok(Self::new(Answer::Json(status, props)))
    }

    /// A 303 redirect to `location`.
    pub fn redirect(location: impl Into<String>) -> Self {
        Self::new(Answer::Redirect { location: location.into(), status: StatusCode::SEE_OTHER })
    }

    /// Leaves for `url`, maybe on another site ([`Answer::Location`]): the way out that
    /// works for Inertia's client too, which a plain redirect to another origin does not.
    pub fn location(url: impl Into<String>) -> Self {
        Self::new(Answer::Location(url.into()))
    }

    /// The page again, answered 422, with `props` and the form's `errors` (field name ->
    /// message) as its `errors` prop: what Inertia's `useForm` and a plain form both read.
    ///
    /// # Errors
    /// As [`Outcome::props`]; also when `props` is not an object.
    pub fn invalid(errors: impl Serialize, props: impl Serialize) -> Result<Self, serde_json::Error> {
        let mut props = serde_json::to_value(props)?;
        let Some(object) = props.as_object_mut() else {
            return Err(serde::ser::Error::custom("Outcome::invalid: the props must serialize to an object"));
        };
        object.insert("errors".to_owned(), serde_json::to_value(errors)?);
        Ok(Self::new(Answer::Status(StatusCode::UNPROCESSABLE_ENTITY, props)))
    }

    /// 404 with the not-found page.
    pub fn not_found() -> Self {
        Self::new(Answer::NotFound)
    }

    /// Adds a response header (`name: value`); checked when the response is built, where
    /// an invalid one is a controller error naming it.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a cookie (`Path`, `Domain`, `Max-Age`/`Expires`, `Secure`, `HttpOnly`,
    /// `SameSite` as built).
    #[must_use]
    pub fn cookie(mut self, cookie: impl Into<Cookie<'static>>) -> Self {
        self.cookies.push(cookie.into());
        self
    }

    /// Deletes the cookie `name` (set on path `/`) in the browser.
    #[must_use]
    pub fn remove_cookie(self, name: impl Into<String>) -> Self {
        let mut gone = Cookie::build((name.into(), "")).path("/").build();
        gone.make_removal();
        self.cookie(gone)
    }

    /// Makes the page follow live `topics` (besides those of `routes.yml`): their
    /// patches and events reach it without a reload.
    #[must_use]
    pub fn live<T: Into<String>>(mut self, topics: impl IntoIterator<Item = T>) -> Self {
        self.topics.extend(topics.into_iter().map(Into::into));
        self
    }

    /// Marks prop `key` deferred, in `group` ("default" for most): an Inertia app's page is
    /// sent without it, and Inertia's client asks for each group once the page shows. A
    /// controller computes it only when asked ([`super::RequestContext::wants`]); a value
    /// given anyway is left out of the first answer.
    #[must_use]
    pub fn defer(mut self, key: impl Into<String>, group: impl Into<String>) -> Self {
        self.props_kinds.deferred.entry(group.into()).or_default().push(key.into());
        self
    }

    /// Marks prop `key` as one Inertia's client merges into what it has (appending arrays:
    /// infinite scroll) instead of replacing; `deep`: merged deeply.
    #[must_use]
    pub fn merge(mut self, key: impl Into<String>, deep: bool) -> Self {
        let list = if deep { &mut self.props_kinds.deep_merge } else { &mut self.props_kinds.merge };
        list.push(key.into());
        self
    }

    /// Marks prop `key` as one Inertia's client keeps across visits once it has it (until
    /// `expires_at`, ms since the epoch, if given): it is left out of answers to a client
    /// that says it has it ([`super::RequestContext::has_once`]).
    #[must_use]
    pub fn once(mut self, key: impl Into<String>, expires_at: Option<u64>) -> Self {
        let key = key.into();
        self.props_kinds.once.insert(key.clone(), (key, expires_at));
        self
    }

    /// The live topics added by [`Outcome::live`].
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// What the controller asks for.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }

    /// The extra headers, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The cookies to set or delete.
    pub fn cookies(&self) -> &[Cookie<'static>] {
        &self.cookies
    }

    /// The parts, for the response.
    #[allow(clippy::type_complexity)]
    pub(crate) fn into_parts(self) -> (Answer, Vec<(String, String)>, Vec<Cookie<'static>>, Vec<String>) {
        (self.answer, self.headers, self.cookies, self.topics)
    }

    /// The props marked by [`Outcome::defer`] and [`Outcome::merge`], taken out.
    pub(crate) fn take_prop_kinds(&mut self) -> PropKinds {
        std::mem::take(&mut self.props_kinds)
    }
}

impl From<Value> for Outcome {
    fn from(value: Value) -> Self {
        Self::new(Answer::Props(value))
    }
}

impl From<Answer> for Outcome {
    fn from(answer: Answer) -> Self {
        Self::new(answer)
    }
}

/// The client sent something a controller cannot use (`?n=abc` where a number belongs):
/// returned as a controller's error, the request gets a 400 with this message instead of
/// a 500, and the log a warning instead of an error.
///
/// # Examples
/// ```
/// # use fymo::{BadRequest, BoxError, Outcome, RequestContext};
/// async fn index(req: RequestContext) -> Result<Outcome, BoxError> {
///     let n: u32 = req.query_as("n")?.unwrap_or(10);
///     if n > 10_000 {
///         return Err(BadRequest::new("`n` is at most 10000").into());
///     }
///     Ok(Outcome::props(serde_json::json!({ "n": n }))?)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

impl BadRequest {
    /// A 400 that says `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// A controller failed. The request gets a 500; the details go to the log (and the dev
/// overlay), never into a production response.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The controller returned an error.
    #[error("controller `{controller}` failed: {source}")]
    Failed {
        /// Controller name.
        controller: String,
        /// What it returned.
        source: super::BoxError,
        /// A traceback or stack, when the controller's language gives one.
        trace: Option<String>,
    },
    /// It returned something that is not JSON-serializable.
    #[error("controller `{controller}` returned a value that is not JSON-serializable at `{path}`: {message}")]
    NotSerializable {
        /// Controller name.
        controller: String,
        /// Where in the value (`props.items[3].created`).
        path: String,
        /// Why.
        message: String,
    },
    /// It did not answer in time.
    #[error("controller `{controller}` timed out after {seconds:.1}s")]
    Timeout {
        /// Controller name.
        controller: String,
        /// The timeout.
        seconds: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_is_the_page_again_with_its_errors_and_location_leaves() {
        let outcome =
            Outcome::invalid(serde_json::json!({ "title": "required" }), serde_json::json!({ "n": 1 })).unwrap();
        let Answer::Status(status, props) = outcome.answer() else { panic!("{outcome:?}") };
        assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(*props, serde_json::json!({ "n": 1, "errors": { "title": "required" } }));
        assert!(Outcome::invalid(serde_json::json!({}), 5).is_err(), "props must be an object");
        assert!(
            matches!(Outcome::location("https://example.com/").answer(), Answer::Location(u) if u == "https://example.com/")
        );
    }

    #[test]
    fn deferred_and_merged_props_are_marked_by_key() {
        let mut outcome = Outcome::props(serde_json::json!({ "posts": [] }))
            .unwrap()
            .defer("stats", "default")
            .defer("chart", "slow")
            .merge("posts", false)
            .merge("filters", true)
            .once("plans", Some(1_000));
        let kinds = outcome.take_prop_kinds();
        assert_eq!(kinds.once["plans"], ("plans".to_owned(), Some(1_000)));
        assert_eq!(kinds.deferred["default"], ["stats"]);
        assert_eq!(kinds.deferred["slow"], ["chart"]);
        assert_eq!((kinds.merge, kinds.deep_merge), (vec!["posts".to_owned()], vec!["filters".to_owned()]));
        assert_eq!(outcome.take_prop_kinds(), PropKinds::default(), "taken");
    }

    #[test]
    fn props_are_written_as_json_text_in_their_own_order() {
        let outcome = Outcome::props(serde_json::json!({ "b": 1, "a": [1.5, "é"] })).unwrap();
        assert!(
            matches!(outcome.answer(), Answer::Json(StatusCode::OK, p) if p.as_str() == r#"{"b":1,"a":[1.5,"é"]}"#),
            "{outcome:?}"
        );
        let refused = Outcome::status(StatusCode::UNPROCESSABLE_ENTITY, serde_json::json!({})).unwrap();
        assert!(matches!(refused.answer(), Answer::Json(StatusCode::UNPROCESSABLE_ENTITY, _)));
        assert!(Outcome::props(vec![1, 2]).is_err(), "props are an object");
    }
}
