//! The page handler: match the route, call the controller, render, answer.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, Request, Response, StatusCode};
use axum::Extension;

use super::error_page::{error_response, Failure};
use super::{request, AppState, RequestId, Site};
use crate::controller::{ControllerError, Outcome};
use crate::dev::{self, DevError};
use crate::render::{render_page, RenderError};

/// Answers any request that is not under `/_fymo/`.
pub(crate) async fn respond(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
    request: Request<Body>,
) -> Response<Body> {
    let wants_json = accepts_json(&request);
    // In development a broken build or routes.yml answers every page with the overlay.
    if let Some(error) = state.dev.as_ref().and_then(|hub| hub.error()) {
        return overlay_response(&error, &id);
    }
    let Some(site) = state.site.load_full() else {
        let failure = Failure {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "request",
            detail: "no build is loaded yet".into(),
            trace: None,
        };
        return error_response(&failure, &id, false, wants_json);
    };
    match handle(&site, &id, request, wants_json).await {
        Ok(response) => response,
        Err(failure) if state.dev.is_some() && !wants_json && failure.status.is_server_error() => {
            let mut error = DevError::new(failure.kind, failure.detail);
            error.stack = failure.trace;
            let mut response = overlay_response(&error, &id);
            *response.status_mut() = failure.status;
            response
        }
        Err(failure) if !wants_json && !site.options.dev => match app_error_page(&site, &failure, &id).await {
            Some(page) => page,
            None => error_response(&failure, &id, false, false),
        },
        Err(failure) => error_response(&failure, &id, site.options.dev, wants_json),
    }
}

/// The app's own `templates/error.svelte`, when it has one, rendered with
/// `{status, message, request_id}`. Falls back to the plain page if that fails too.
async fn app_error_page(site: &Site, failure: &Failure, id: &str) -> Option<Response<Body>> {
    const ERROR_PAGE: &str = "error";
    if !site.manifest.components.contains_key(ERROR_PAGE) {
        return None;
    }
    let props = serde_json::json!({
        "status": failure.status.as_u16(),
        "message": failure.status.canonical_reason().unwrap_or("Error"),
        "request_id": id,
    });
    let layout = site.routes.default_layout();
    match render_page(&site.pool, &site.manifest, &site.document, ERROR_PAGE, layout, &props).await {
        Ok(html) => Some(
            Response::builder()
                .status(failure.status)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::from(html))
                .expect("valid error page"),
        ),
        Err(e) => {
            tracing::error!(target: "fymo::render", request_id = id, error = %e, "templates/error.svelte failed; serving the plain page");
            None
        }
    }
}

fn overlay_response(error: &DevError, id: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(dev::overlay_page(error, id)))
        .expect("valid overlay response")
}

fn accepts_json(request: &Request<Body>) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn not_found(what: &str) -> Failure {
    Failure { status: StatusCode::NOT_FOUND, kind: "not found", detail: what.to_owned(), trace: None }
}

async fn handle(site: &Site, id: &str, request: Request<Body>, wants_json: bool) -> Result<Response<Body>, Failure> {
    let path = request.uri().path().to_owned();
    let matched = site.routes.find(&path).ok_or_else(|| not_found(&format!("no route matches `{path}`")))?;
    let route = matched.route.clone();
    let method = request.method().clone();
    let allowed = route.methods.contains(&method) || (method == Method::HEAD && route.methods.contains(&Method::GET));
    if !allowed {
        return Err(Failure {
            status: StatusCode::METHOD_NOT_ALLOWED,
            kind: "request",
            detail: format!("`{}` accepts {:?}, not {method}", route.pattern, route.methods),
            trace: None,
        });
    }
    let ctx = request::context(request, matched.params).await.map_err(|e| Failure {
        status: StatusCode::BAD_REQUEST,
        kind: "request",
        detail: e.to_string(),
        trace: None,
    })?;
    let outcome = match site.controller(&route.name) {
        Some((controller, _)) => controller.call(ctx).await.map_err(|e| controller_failure(id, e))?,
        None => Outcome::Props(serde_json::json!({})),
    };
    let (status, props) = match outcome {
        Outcome::Props(props) => (StatusCode::OK, props),
        Outcome::Status(status, props) => (status, props),
        Outcome::Redirect { location, status } => return redirect(&route.name, id, &location, status),
        Outcome::NotFound => return Err(not_found(&format!("controller `{}` answered not-found", route.name))),
    };
    let Some(page) = route.page.as_deref() else {
        return Ok(json_response(status, props.to_string()));
    };
    if wants_json {
        // Client-side navigation data.
        let data = serde_json::json!({ "component": page, "layout": route.layout, "props": props, "url": path, "version": site.manifest.version });
        return Ok(json_response(status, data.to_string()));
    }
    let html = render_page(&site.pool, &site.manifest, &site.document, page, route.layout.as_deref(), &props)
        .await
        .map_err(|e| render_failure(id, page, e))?;
    Ok(Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(html))
        .expect("valid page response"))
}

/// A redirect, refusing a location that cannot be a header value (a newline from user
/// input, say) rather than panicking on it.
fn redirect(controller: &str, id: &str, location: &str, status: StatusCode) -> Result<Response<Body>, Failure> {
    let Ok(value) = header::HeaderValue::from_str(location) else {
        let error = ControllerError::Failed {
            controller: controller.to_owned(),
            source: format!("redirect location {location:?} is not a valid header value").into(),
            trace: None,
        };
        return Err(controller_failure(id, error));
    };
    if !status.is_redirection() {
        let error = ControllerError::Failed {
            controller: controller.to_owned(),
            source: format!("redirect status {status} is not a 3xx status").into(),
            trace: None,
        };
        return Err(controller_failure(id, error));
    }
    Ok(Response::builder().status(status).header(header::LOCATION, value).body(Body::empty()).expect("valid redirect"))
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("valid json response")
}

fn controller_failure(id: &str, error: ControllerError) -> Failure {
    let trace = match &error {
        ControllerError::Failed { trace, .. } => trace.clone(),
        _ => None,
    };
    tracing::error!(target: "fymo::controller", request_id = id, error = %error, trace = trace.as_deref().unwrap_or(""), "controller failed");
    let status = match error {
        ControllerError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Failure { status, kind: "controller", detail: error.to_string(), trace }
}

fn render_failure(id: &str, page: &str, error: RenderError) -> Failure {
    let trace = match &error {
        RenderError::Engine(e) => e.stack().map(str::to_owned),
        _ => None,
    };
    tracing::error!(target: "fymo::render", request_id = id, page, error = %error, stack = trace.as_deref().unwrap_or(""), "render failed");
    Failure { status: StatusCode::INTERNAL_SERVER_ERROR, kind: "render", detail: error.to_string(), trace }
}
