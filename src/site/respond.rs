//! [`Site::render`]: a matched request in, the parts of its response out — call the
//! controller, then render the page, answer JSON, or redirect. HTTP concerns (routing
//! misses, methods, reading the body, headers) stay in the server.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use cookie::Cookie;

use super::page::RenderError;
use super::{ErrorKind, ErrorReport, Site};
use crate::controller::{Answer, ControllerError, Outcome, RequestContext};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The HTML page.
    Html,
    /// The page object `{component, layout, props, url, version}` as JSON (client navigation).
    Data,
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
    /// A redirect to this location.
    Redirect(HeaderValue),
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
        request: RequestContext,
        format: Format,
    ) -> Result<Reply, ErrorReport> {
        let mut request = request;
        let path = request.path.clone();
        let shared = serde_json::json!({ "csrf": request.csrf, "flash": request.flash });
        // Positions first, then the props: an update racing the controller is sent again
        // rather than lost.
        let mut positions = serde_json::Map::new();
        if route.page.is_some() {
            for topic in route.live.iter().map(|t| resolve_topic(t, &request.params)) {
                let seq = self.options.live.position(&topic).await;
                positions.insert(topic, seq.into());
            }
        }
        request.live = Some(Live::new(self.options.live.clone()));
        let outcome = match self.controllers.get(&route.name) {
            Some(controller) => controller.call(request).await.map_err(|e| controller_failure(request_id, e))?,
            None => Outcome::props(serde_json::json!({})).expect("an object serializes"),
        };
        let (answer, headers, cookies, topics) = outcome.into_parts();
        for topic in topics {
            if !valid_topic(&topic) {
                return Err(refuse(&route.name, request_id, format!("`{topic}` is not a live topic name")));
            }
            if !positions.contains_key(&topic) {
                let seq = self.options.live.position(&topic).await;
                positions.insert(topic, seq.into());
            }
        }
        let headers = valid_headers(&route.name, request_id, headers)?;
        let reply = |status, body| Reply { status, body, headers, cookies };
        let (status, mut props) = match answer {
            Answer::Props(props) => (StatusCode::OK, props),
            Answer::Status(status, props) => (status, props),
            Answer::Redirect { location, status } => {
                let location = redirect(&route.name, request_id, &location, status)?;
                return Ok(reply(status, ReplyBody::Redirect(location)));
            }
            Answer::NotFound => {
                return Err(ErrorReport::not_found(format!("controller `{}` answered not-found", route.name)))
            }
        };
        let Some(page) = route.page.as_deref() else {
            return Ok(reply(status, ReplyBody::Json(props.to_string())));
        };
        // Every page (and its layout) gets `fymo`: the CSRF token its forms send back
        // and the flash message, as Inertia apps get shared props; a live page also its
        // topics, their positions and their signature.
        let mut shared = shared;
        if !positions.is_empty() {
            let sig = sign_topics(&self.options.secret, positions.keys().map(String::as_str));
            shared["live"] = serde_json::json!({ "topics": positions, "sig": sig });
        }
        if let Some(object) = props.as_object_mut() {
            object.entry("fymo").or_insert(shared);
        }
        if format == Format::Data {
            let data = serde_json::json!({
                "component": page,
                "layout": route.layout,
                "props": props,
                "url": path,
                "version": self.manifest.version,
            });
            return Ok(reply(status, ReplyBody::Json(data.to_string())));
        }
        let html = self
            .render_page(page, route.layout.as_deref(), props.to_string(), route.isolate)
            .await
            .map_err(|e| render_failure(request_id, page, e))?;
        Ok(reply(status, ReplyBody::Html(html)))
    }

    /// The app's own `templates/error.svelte`, when it has one, rendered with
    /// `{status, message, request_id}` inside the default layout. `None` when there is
    /// none or it fails too (then the caller serves the plain page).
    pub(crate) async fn error_page(&self, error: &ErrorReport, request_id: &str) -> Option<String> {
        const ERROR_PAGE: &str = "error";
        if !self.manifest.components.contains_key(ERROR_PAGE) {
            return None;
        }
        let props = serde_json::json!({
            "status": error.status.as_u16(),
            "message": error.status.canonical_reason().unwrap_or("Error"),
            "request_id": request_id,
        });
        match self.render_page(ERROR_PAGE, self.routes.default_layout(), props.to_string(), false).await {
            Ok(html) => Some(html),
            Err(e) => {
                tracing::error!(target: "fymo::render", request_id, error = %e, "templates/error.svelte failed; serving the plain page");
                None
            }
        }
    }
}

/// A redirect's location, refusing one that cannot be a header value (a newline from
/// user input, say) rather than panicking on it.
fn redirect(
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

fn refuse(controller: &str, request_id: &str, why: String) -> ErrorReport {
    let error = ControllerError::Failed { controller: controller.to_owned(), source: why.into(), trace: None };
    controller_failure(request_id, error)
}

fn controller_failure(request_id: &str, error: ControllerError) -> ErrorReport {
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

fn render_failure(request_id: &str, page: &str, error: RenderError) -> ErrorReport {
    let stack = match &error {
        RenderError::Engine(e) => e.stack().map(str::to_owned),
        RenderError::NotBuilt(_) => None,
    };
    tracing::error!(target: "fymo::render", request_id, page, error = %error, stack = stack.as_deref().unwrap_or(""), "render failed");
    ErrorReport { stack, ..ErrorReport::new(ErrorKind::Render, error.to_string()) }
}
