//! The page handler: match the route, check the method, read the request, hand it to
//! [`Site::render`], and turn the reply or the error into an HTTP response.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, Request, Response, StatusCode};
use axum::Extension;

use super::error_page::{error_response, page_response};
use super::{request, AppState, Mode, RequestId};
use crate::site::{ErrorKind, ErrorReport, Format, Reply, ReplyBody, Site};

/// Answers any request that is not under `/_fymo/`.
pub(super) async fn respond(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
    request: Request<Body>,
) -> Response<Body> {
    let wants_json = accepts_json(&request);
    // In development a broken build or routes.yml answers every page with the overlay.
    if let Mode::Dev { broken } = &state.mode {
        if let Some(error) = broken.load_full() {
            return error_response(&error, &id, &state.mode, wants_json);
        }
    }
    let Some(site) = state.current().as_ref().map(|l| l.site.clone()) else {
        let error =
            ErrorReport::new(ErrorKind::Request, "no build is loaded yet").with_status(StatusCode::SERVICE_UNAVAILABLE);
        return error_response(&error, &id, &Mode::Production, wants_json);
    };
    let format = if wants_json { Format::Data } else { Format::Html };
    let error = match handle(&site, &id, request, format).await {
        Ok(reply) => return reply_response(reply),
        Err(error) => error,
    };
    if matches!(state.mode, Mode::Production) && !wants_json {
        if let Some(html) = site.error_page(&error, &id).await {
            return page_response(&error, html);
        }
    }
    error_response(&error, &id, &state.mode, wants_json)
}

async fn handle(site: &Site, id: &str, request: Request<Body>, format: Format) -> Result<Reply, ErrorReport> {
    let path = request.uri().path().to_owned();
    let matched =
        site.routes.find(&path).ok_or_else(|| ErrorReport::not_found(format!("no route matches `{path}`")))?;
    let route = matched.route;
    let method = request.method();
    let allowed = route.methods.contains(method) || (method == Method::HEAD && route.methods.contains(&Method::GET));
    if !allowed {
        let message = format!("`{}` accepts {:?}, not {method}", route.pattern, route.methods);
        return Err(ErrorReport::new(ErrorKind::Request, message).with_status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let context = request::context(request, matched.params)
        .await
        .map_err(|e| ErrorReport::new(ErrorKind::Request, e.to_string()).with_status(StatusCode::BAD_REQUEST))?;
    site.render(id, route, context, format).await
}

fn reply_response(reply: Reply) -> Response<Body> {
    let builder = Response::builder().status(reply.status);
    let response = match reply.body {
        ReplyBody::Html(html) => builder
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(Body::from(html)),
        ReplyBody::Json(json) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(json)),
        ReplyBody::Redirect(location) => builder.header(header::LOCATION, location).body(Body::empty()),
    };
    response.expect("valid page response")
}

fn accepts_json(request: &Request<Body>) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
