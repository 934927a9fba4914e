//! [`Site::render`]: a matched request in, the parts of its response out — call the
//! controller, then render the page, answer JSON, or redirect. HTTP concerns (routing
//! misses, methods, reading the body, headers) stay in the server.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use cookie::Cookie;
use serde_json::Value;

use super::cache::{self, Marks, RenderCache};
use super::inertia::{Answered, InertiaRequest};
use super::page::RenderError;
use super::page_object::Partial;
use super::{ErrorKind, ErrorReport, Site};
use crate::controller::{Answer, ControllerError, JsonProps, Outcome, PropKinds, RequestContext};
use crate::live::{sign_topics, valid_topic, Live};
use crate::router::Route;

/// A topic of `routes.yml` with its `{param}` placeholders filled from the path.
fn resolve_topic(topic: &str, params: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = topic.to_owned();
    for (name, value) in params {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// What the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Format {
    /// The HTML page.
    Html,
    /// The page's data as JSON (`Accept: application/json`).
    Data,
    /// Inertia's page object as JSON (`X-Inertia: true`), maybe a partial reload.
    Inertia(Option<Partial>),
}

/// The response, as plain data.
#[derive(Debug)]
pub(crate) struct Reply {
    /// Status code.
    pub(crate) status: StatusCode,
    /// Body (or redirect target).
    pub(crate) body: ReplyBody,
    /// Headers the controller set (validated).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Cookies the controller set or deleted.
    pub(crate) cookies: Vec<Cookie<'static>>,
}

/// What a [`Reply`] carries.
#[derive(Debug)]
pub(crate) enum ReplyBody {
    /// A full HTML document.
    Html(String),
    /// A JSON document.
    Json(String),
    /// A page object as JSON (client navigation).
    Page(String),
    /// A redirect to this location.
    Redirect(HeaderValue),
    /// Nothing: the status and headers say it all.
    Empty,
}

impl Site {
    /// Answers `route` for `request`: the controller's props rendered into the page (or
    /// as JSON when the route has no template or `format` asks for data).
    ///
    /// # Errors
    /// An [`ErrorReport`] for the controller or render failure, already logged with
    /// `request_id`.
    pub(crate) async fn render(
        &self,
        request_id: &str,
        route: &Route,
        mut request: RequestContext,
        format: Format,
        url: &str,
    ) -> Result<Reply, ErrorReport> {
        // The render cache: a GET of a page on a route with `cache:`, without a flash
        // message (which is this visitor's alone).
        let cached = route
            .options
            .cache
            .as_ref()
            .filter(|_| format == Format::Html && route.page.is_some() && request.flash.is_none())
            .filter(|_| request.method == axum::http::Method::GET || request.method == axum::http::Method::HEAD)
            .map(|rule| (rule, RenderCache::key(&route.pattern, url, rule, &request)));
        if let Some((_, key)) = &cached {
            if let Some(entry) = self.cache.get(key) {
                let nonce = self.csp.nonce();
                let html =
                    entry.html_for(nonce.as_deref(), &request.csrf, |topics| self.sign_live(&request.session, topics));
                let mut headers = entry.headers.clone();
                headers.push((axum::http::header::ETAG, cache::etag(&html, nonce.as_deref())));
                headers.extend(self.csp_header(nonce.as_deref()));
                return Ok(Reply { status: StatusCode::OK, body: ReplyBody::Html(html), headers, cookies: Vec::new() });
            }
        }
        // A page for the cache is rendered with placeholders for the visitor's token and
        // the nonce, and stored only when no controller did anything for this visitor.
        let marks = cached.as_ref().map(|_| Marks::new());
        if let Some(marks) = &marks {
            request.csrf.clone_from(&marks.csrf);
        }
        // The token is read once the controllers ran: one that signed in or out rotated it.
        let (session, flash) = (request.session.clone(), request.flash.clone());
        // An Inertia app: read what its client sent before any controller sees the session.
        let inertia = self.manifest.app.then(|| InertiaRequest::read(&request, &format));
        let session_before = marks.as_ref().map(|_| session_snapshot(&session));
        // Live positions first, then the props: an update racing the controllers is sent
        // again rather than lost.
        let mut positions = serde_json::Map::new();
        if route.page.is_some() {
            for topic in route.options.live.iter().map(|t| resolve_topic(t, &request.params)) {
                // A parameter that cannot be part of a topic name names no page.
                if !valid_topic(&topic) {
                    return Err(ErrorReport::not_found(format!("`{topic}` is not a live topic name")));
                }
                let seq = self.options.live.position(&topic).await;
                positions.insert(topic, seq.into());
            }
        }
        request.live = Some(Live::new(self.options.live.clone()));
        let mut extra = Extra { inertia: matches!(format, Format::Inertia(_)), ..Extra::default() };
        // Layout controllers first, outermost first: one may answer for the whole page (a
        // layout that requires a signed-in visitor redirects).
        let mut layouts = Vec::new();
        if route.page.is_some() {
            for layout in &route.layouts {
                let name = layout.replace('/', ".");
                let props = match self.controllers.get(&name) {
                    Some(controller) => {
                        let outcome =
                            controller.call(request.clone()).await.map_err(|e| controller_failure(request_id, e))?;
                        match extra.take(&name, request_id, outcome)? {
                            Taken::Props(_, props) => props,
                            Taken::Done(status, body) => return Ok(extra.reply(status, body)),
                        }
                    }
                    None => Props::Value(serde_json::json!({})),
                };
                layouts.push((layout.as_str(), props));
            }
        }
        let outcome = match self.controllers.get(&route.name) {
            Some(controller) => controller.call(request).await.map_err(|e| controller_failure(request_id, e))?,
            None => Outcome::props(serde_json::json!({})).expect("an object serializes"),
        };
        let taken = extra.take(&route.name, request_id, outcome)?;
        for topic in std::mem::take(&mut extra.topics) {
            if !valid_topic(&topic) {
                return Err(refuse(&route.name, request_id, format!("`{topic}` is not a live topic name")));
            }
            if !positions.contains_key(&topic) {
                let seq = self.options.live.position(&topic).await;
                positions.insert(topic, seq.into());
            }
        }
        let (status, props) = match taken {
            Taken::Props(status, props) => (status, props),
            Taken::Done(status, body) => return Ok(extra.reply(status, body)),
        };
        let Some(page) = route.page.as_deref() else {
            return Ok(extra.reply(status, ReplyBody::Json(props.into_json())));
        };
        if let Some(inertia) = inertia {
            let answered = Answered { status, props, layouts, extra };
            return self.answer_inertia(route, request_id, url, &format, inertia, answered).await;
        }
        // Every page and layout gets `fymo`: the token its forms send back (a placeholder
        // in a page rendered for the cache), the flash, and a live page's topics, their
        // positions and their signature.
        let token = marks.as_ref().map_or_else(|| session.csrf_token(), |m| m.csrf.clone());
        let mut shared = serde_json::json!({ "csrf": token, "flash": flash });
        if !positions.is_empty() {
            let sig = marks.as_ref().map_or_else(
                || sign_topics(&self.options.secret, &session.id(), positions.keys().map(String::as_str)),
                |m| m.live.clone(),
            );
            shared["live"] = serde_json::json!({ "topics": positions, "sig": sig });
        }
        let topics: Vec<String> = positions.keys().cloned().collect();
        let parts: Vec<LayoutPart<'_>> = layouts
            .into_iter()
            .map(|(component, props)| LayoutPart { component, props_json: props.into_json_with_shared(&shared) })
            .collect();
        let props_json = match &format {
            Format::Inertia(Some(partial)) => match props.into_value() {
                Ok(mut props) => {
                    add_shared(&mut props, &shared);
                    partial.filter(page, &mut props);
                    json_text(&props)
                }
                // Too deep to filter: all of them, which a client merges the same.
                Err(props) => props.into_json_with_shared(&shared),
            },
            _ => props.into_json_with_shared(&shared),
        };
        match format {
            Format::Data | Format::Inertia(_) => {
                let data = self.page_object(page, &parts, &props_json, url);
                Ok(extra.reply(status, ReplyBody::Page(data)))
            }
            Format::Html => {
                let nonce = self.csp.nonce();
                let rendering_nonce = match (&marks, &nonce) {
                    (Some(marks), Some(_)) => Some(marks.nonce.as_str()),
                    _ => nonce.as_deref(),
                };
                let html = self
                    .render_page(page, &parts, props_json, route.options.isolate, url, rendering_nonce)
                    .await
                    .map_err(|e| render_failure(request_id, page, e))?;
                let html = match (cached, marks) {
                    (Some((rule, key)), Some(marks)) => {
                        let shareable = status == StatusCode::OK
                            && extra.cookies.is_empty()
                            && session_before.is_some_and(|before| before == session_snapshot(&session));
                        let entry = if shareable {
                            self.cache.put(key, rule, html, marks, topics, extra.headers.clone())
                        } else {
                            std::sync::Arc::new(cache::Entry::unshared(html, marks, topics))
                        };
                        entry.html_for(nonce.as_deref(), &session.csrf_token(), |topics| {
                            self.sign_live(&session, topics)
                        })
                    }
                    _ => html,
                };
                let etag = cache::etag(&html, nonce.as_deref());
                let mut reply = extra.reply(status, ReplyBody::Html(html));
                reply.headers.push((axum::http::header::ETAG, etag));
                reply.headers.extend(self.csp_header(nonce.as_deref()));
                Ok(reply)
            }
        }
    }

    /// The signature of a live page's `topics` for `session`.
    fn sign_live(&self, session: &crate::controller::Session, topics: &[String]) -> String {
        sign_topics(&self.options.secret, &session.id(), topics.iter().map(String::as_str))
    }

    /// The error page for a request to `path`: the nearest `_error.svelte` of its folders
    /// (inside those folders' layouts), else the app's `templates/error.svelte` (inside
    /// the app's layout), rendered with `{status, message, request_id}`. `None` when there
    /// is none or it fails too (then the caller serves the plain page).
    pub(crate) async fn error_page(
        &self,
        error: &ErrorReport,
        request_id: &str,
        path: &str,
    ) -> Option<(String, Option<(HeaderName, HeaderValue)>)> {
        let (page, layouts) = self.error_component(path)?;
        let props = serde_json::json!({
            "status": error.status.as_u16(),
            "message": error.status.canonical_reason().unwrap_or("Error"),
            "request_id": request_id,
        });
        let parts: Vec<LayoutPart<'_>> =
            layouts.iter().map(|component| LayoutPart { component, props_json: "{}".into() }).collect();
        let nonce = self.csp.nonce();
        match self.render_page(&page, &parts, props.to_string(), false, path, nonce.as_deref()).await {
            Ok(html) => Some((html, self.csp_header(nonce.as_deref()))),
            Err(e) => {
                tracing::error!(target: "fymo::render", request_id, page, error = %e, "the error page failed; serving the plain page");
                None
            }
        }
    }

    /// Which error page serves `path`, and its layouts.
    fn error_component(&self, path: &str) -> Option<(String, Vec<String>)> {
        let app_layout: Vec<String> = self.routes.default_layout().map(str::to_owned).into_iter().collect();
        let folders: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        for depth in (1..=folders.len()).rev() {
            let folder = folders[..depth].join("/");
            let page = format!("{folder}/_error");
            if self.manifest.components.contains_key(&page) {
                let mut layouts = app_layout.clone();
                for d in 1..=depth {
                    let layout = format!("{}/_layout", folders[..d].join("/"));
                    if self.manifest.components.contains_key(&layout) {
                        layouts.push(layout);
                    }
                }
                return Some((page, layouts));
            }
        }
        self.manifest.components.contains_key("error").then(|| ("error".to_owned(), app_layout))
    }
}

/// `value` as JSON text: serde_json's writer, not `Value`'s `Display` (which goes through
/// the formatting machinery for every token, markedly slower on large props).
pub(super) fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value serializes")
}

/// What of a session a controller may change: a page rendered while it did is not shared.
fn session_snapshot(session: &crate::controller::Session) -> (String, serde_json::Map<String, Value>, Option<String>) {
    let state = session.lock();
    (state.id.clone(), state.data.clone(), state.flash.clone())
}

/// One layout of a page: its component and its props, serialized.
#[derive(Debug)]
pub(crate) struct LayoutPart<'a> {
    /// The component (`docs/_layout`).
    pub(crate) component: &'a str,
    /// Its props as JSON.
    pub(crate) props_json: String,
}

/// The prop every page and layout gets (CSRF token, flash, live topics), as Inertia apps
/// get shared props; a controller's own prop of that name wins.
pub(crate) const SHARED: &str = "fymo";

/// Adds the shared prop to `props`, unless the controller set its own.
fn add_shared(props: &mut Value, shared: &Value) {
    if let Some(object) = props.as_object_mut() {
        object.entry(SHARED).or_insert_with(|| shared.clone());
    }
}

/// A controller's props as it gave them: built in Rust, or JSON text that is passed
/// through without being parsed.
pub(super) enum Props {
    Value(Value),
    Json(JsonProps),
}

impl Props {
    pub(super) fn into_json(self) -> String {
        match self {
            Self::Value(value) => json_text(&value),
            Self::Json(json) => json.into_string(),
        }
    }

    /// As JSON, with the shared prop.
    fn into_json_with_shared(self, shared: &Value) -> String {
        match self {
            Self::Value(mut value) => {
                add_shared(&mut value, shared);
                json_text(&value)
            }
            Self::Json(json) => json.into_json_with(SHARED, shared),
        }
    }

    /// Parsed; the props as they were when they nest too deep to parse.
    pub(super) fn into_value(self) -> Result<Value, Self> {
        match self {
            Self::Value(value) => Ok(value),
            Self::Json(json) => json.to_value().map_err(|_| Self::Json(json)),
        }
    }
}

/// What one controller's outcome leaves for the page.
enum Taken {
    /// Render with this status and these props.
    Props(StatusCode, Props),
    /// The answer is this, whatever the other controllers say.
    Done(StatusCode, ReplyBody),
}

/// Headers and cookies gathered from every controller of a page (layouts' and page's).
#[derive(Default)]
pub(super) struct Extra {
    /// The request came from Inertia's client (`X-Inertia`): leaving is a 409.
    inertia: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
    cookies: Vec<Cookie<'static>>,
    /// Live topics a controller asked the page to follow.
    topics: Vec<String>,
    /// Props the controllers marked deferred or merged (Inertia apps).
    pub(super) kinds: PropKinds,
}

impl Extra {
    /// Keeps `outcome`'s headers and cookies, and says what it asks for.
    fn take(&mut self, controller: &str, request_id: &str, mut outcome: Outcome) -> Result<Taken, ErrorReport> {
        self.kinds.extend(outcome.take_prop_kinds());
        let (answer, headers, cookies, topics) = outcome.into_parts();
        self.headers.extend(valid_headers(controller, request_id, headers)?);
        self.cookies.extend(cookies);
        self.topics.extend(topics);
        Ok(match answer {
            Answer::Props(props) => Taken::Props(StatusCode::OK, Props::Value(props)),
            Answer::Status(status, props) => Taken::Props(status, Props::Value(props)),
            Answer::Json(status, props) => Taken::Props(status, Props::Json(props)),
            Answer::Redirect { location, status } => {
                Taken::Done(status, ReplyBody::Redirect(redirect(controller, request_id, &location, status)?))
            }
            Answer::Location(url) => {
                let value = redirect(controller, request_id, &url, StatusCode::SEE_OTHER)?;
                if self.inertia {
                    self.headers.push((HeaderName::from_static("x-inertia-location"), value));
                    Taken::Done(StatusCode::CONFLICT, ReplyBody::Empty)
                } else {
                    Taken::Done(StatusCode::SEE_OTHER, ReplyBody::Redirect(value))
                }
            }
            Answer::NotFound => {
                return Err(ErrorReport::not_found(format!("controller `{controller}` answered not-found")))
            }
        })
    }

    pub(super) fn reply(self, status: StatusCode, body: ReplyBody) -> Reply {
        Reply { status, body, headers: self.headers, cookies: self.cookies }
    }
}

impl Site {
    /// The `Content-Security-Policy` header for a page whose inline tags carry `nonce`.
    pub(super) fn csp_header(&self, nonce: Option<&str>) -> Option<(HeaderName, HeaderValue)> {
        let value = self.csp.header(nonce?)?;
        Some((axum::http::header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&value).ok()?))
    }
}

/// A redirect's location, refusing one that cannot be a header value (a newline from
/// user input, say) rather than panicking on it.
pub(super) fn redirect(
    controller: &str,
    request_id: &str,
    location: &str,
    status: StatusCode,
) -> Result<HeaderValue, ErrorReport> {
    let Ok(value) = HeaderValue::from_str(location) else {
        return Err(refuse(
            controller,
            request_id,
            format!("redirect location {location:?} is not a valid header value"),
        ));
    };
    if !status.is_redirection() {
        return Err(refuse(controller, request_id, format!("redirect status {status} is not a 3xx status")));
    }
    Ok(value)
}

/// The controller's headers as header values; one that is not valid is its error.
fn valid_headers(
    controller: &str,
    request_id: &str,
    headers: Vec<(String, String)>,
) -> Result<Vec<(HeaderName, HeaderValue)>, ErrorReport> {
    headers
        .into_iter()
        .map(|(name, value)| match (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
            (Ok(name), Ok(value)) => Ok((name, value)),
            _ => Err(refuse(controller, request_id, format!("response header {name:?}: {value:?} is not valid"))),
        })
        .collect()
}

pub(super) fn refuse(controller: &str, request_id: &str, why: String) -> ErrorReport {
    let error = ControllerError::Failed { controller: controller.to_owned(), source: why.into(), trace: None };
    controller_failure(request_id, error)
}

fn controller_failure(request_id: &str, error: ControllerError) -> ErrorReport {
    if let ControllerError::Failed { source, controller, .. } = &error {
        if let Some(bad) = source.downcast_ref::<crate::controller::BadRequest>() {
            tracing::warn!(target: "fymo::controller", request_id, controller = %controller, "bad request: {bad}");
            return ErrorReport::new(ErrorKind::Request, bad.to_string()).with_status(StatusCode::BAD_REQUEST);
        }
    }
    let trace = match &error {
        ControllerError::Failed { trace, .. } => trace.clone(),
        _ => None,
    };
    tracing::error!(target: "fymo::controller", request_id, error = %error, trace = trace.as_deref().unwrap_or(""), "controller failed");
    let status = match error {
        ControllerError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ErrorReport { stack: trace, ..ErrorReport::new(ErrorKind::Controller, error.to_string()).with_status(status) }
}

pub(super) fn render_failure(request_id: &str, page: &str, error: RenderError) -> ErrorReport {
    let stack = match &error {
        RenderError::Engine(e) => e.stack().map(str::to_owned),
        RenderError::NotBuilt(_) => None,
    };
    tracing::error!(target: "fymo::render", request_id, page, error = %error, stack = stack.as_deref().unwrap_or(""), "render failed");
    ErrorReport { stack, ..ErrorReport::new(ErrorKind::Render, error.to_string()) }
}
