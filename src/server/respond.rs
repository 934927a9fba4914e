//! The page handler: match the route, check the method, read the request, hand it to
//! [`Site::render`], and turn the reply or the error into an HTTP response.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use axum::Extension;

use std::sync::Arc;

use cookie::Cookie;

use super::client::Client;
use super::error_page::{error_response, page_response};
use super::request::BodyRules;
use super::{accept, csrf, request, AppState, Loaded, Mode, RequestId};
use crate::controller::header_list;
use crate::router::{Matched, Route};
use crate::site::{ErrorKind, ErrorReport, Format, Partial, Reply, ReplyBody};

/// Answers any request that is not under `/_fymo/`.
pub(super) async fn respond(
    State(state): State<AppState>,
    Extension(RequestId(id)): Extension<RequestId>,
    mut request: Request<Body>,
) -> Response<Body> {
    let prefers_json = accept::prefers_json(request.headers());
    // In development a broken build or routes.yml answers every page with the overlay.
    if let Mode::Dev { broken, .. } = &state.mode {
        if let Some(error) = broken.load_full() {
            return vary_on_accept(error_response(&error, &id, &state.mode, prefers_json));
        }
    }
    let Some(loaded) = state.current().as_ref().map(Arc::clone) else {
        let error =
            ErrorReport::new(ErrorKind::Request, "no build is loaded yet").with_status(StatusCode::SERVICE_UNAVAILABLE);
        return vary_on_accept(error_response(&error, &id, &Mode::Production, prefers_json));
    };
    let site = &loaded.site;
    let path = request.uri().path().to_owned();
    let matched = site.routes.find(&path);
    // A path no route answers may be a file of `static/`.
    if matched.is_none() {
        if let Some(statics) = &loaded.statics {
            let (parts, body) = request.into_parts();
            let probe = Request::from_parts(parts.clone(), body);
            if let Some(file) = statics.respond(probe).await {
                return file;
            }
            request = Request::from_parts(parts, Body::empty());
        }
    }
    // A route without a template is JSON whatever the client accepts; every other
    // answer (pages, their data, 404s) is chosen by `Accept`.
    let negotiated = matched.as_ref().is_none_or(|m| m.route.page.is_some());
    let inertia = is_inertia(request.headers());
    let json = prefers_json || !negotiated || inertia;
    // Inertia: a client on an older build (or one that does not say which: Inertia's
    // clients always do) must reload the page whole. JSON routes have no build to match.
    if inertia && negotiated && request.method() == Method::GET {
        let version = request.headers().get("x-inertia-version").and_then(|v| v.to_str().ok());
        if version != Some(site.manifest.version.as_str()) {
            return stale_version(request.uri());
        }
    }
    let format = match (inertia, json) {
        (true, _) => Format::Inertia(partial_of(request.headers())),
        (false, true) => Format::Data,
        (false, false) => Format::Html,
    };
    let unsafe_method = matches!(*request.method(), Method::PUT | Method::PATCH | Method::DELETE);
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let response = match handle(&loaded, &id, matched, request, format).await {
        Ok((reply, session)) if if_none_match.as_deref().is_some_and(|tags| unchanged(&reply, tags)) => {
            not_modified(&reply, session)
        }
        Ok((reply, session)) => {
            let page_object = matches!(reply.body, ReplyBody::Page(_));
            let mut response = reply_response(reply, session);
            if inertia && page_object {
                response.headers_mut().insert("x-inertia", HeaderValue::from_static("true"));
            }
            response
        }
        Err(Refusal { error, allow, close }) => {
            let error = uncompiled_cause(&state.mode, error);
            // An Inertia client shows an error as a page, not as a page object.
            let json = prefers_json || !negotiated;
            let page = if matches!(state.mode, Mode::Production) && !json {
                site.error_page(&error, &id, &path).await
            } else {
                None
            };
            let mut response = match page {
                Some((html, csp)) => {
                    let mut response = page_response(&error, html);
                    response.headers_mut().extend(csp);
                    response
                }
                None => error_response(&error, &id, &state.mode, json),
            };
            if let Some(allow) = allow {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            if close {
                close_connection(&mut response);
            }
            response
        }
    };
    let mut response = if negotiated { vary_on_accept(response) } else { response };
    // After PUT, PATCH or DELETE a 302 would make browsers repeat the method.
    if unsafe_method && matches!(response.status(), StatusCode::FOUND | StatusCode::MOVED_PERMANENTLY) {
        *response.status_mut() = StatusCode::SEE_OTHER;
    }
    if negotiated {
        response.headers_mut().append(header::VARY, HeaderValue::from_static("x-inertia"));
    }
    response
}

/// In development, a render that failed on a template that does not compile (its module
/// throws `CompileError: file:line:column: …`) answers with that compile error itself.
fn uncompiled_cause(mode: &Mode, error: ErrorReport) -> ErrorReport {
    let Mode::Dev { uncompiled, .. } = mode else { return error };
    if error.kind != ErrorKind::Render || !error.message.contains("CompileError") {
        return error;
    }
    let cause = uncompiled
        .load()
        .iter()
        .find(|c| c.file.as_deref().is_some_and(|f| error.message.contains(&format!("{f}:"))))
        .cloned();
    cause.map_or(error, |cause| ErrorReport { status: StatusCode::INTERNAL_SERVER_ERROR, ..cause })
}

/// The request's path and query as a URL to send back (a page object's `url`, a
/// location), written so that no client can read it as another authority: the path
/// `//evil.example/x` (which a link `/.//evil.example/x` asks for) becomes
/// `/.//evil.example/x`, the same path once resolved.
fn local_url(uri: &axum::http::Uri) -> String {
    let url = uri.path_and_query().map_or_else(|| uri.path(), |p| p.as_str());
    let reads_as_authority = url.len() > 1 && url.starts_with('/') && matches!(url.as_bytes()[1], b'/' | b'\\');
    if reads_as_authority {
        format!("/.{url}")
    } else {
        url.to_owned()
    }
}

fn is_inertia(headers: &HeaderMap) -> bool {
    headers.get("x-inertia").is_some_and(|v| v == "true")
}

/// `X-Inertia-Partial-*`: the props a partial reload asks for.
fn partial_of(headers: &HeaderMap) -> Option<Partial> {
    let component = headers.get("x-inertia-partial-component").and_then(|v| v.to_str().ok())?.to_owned();
    let only = headers.contains_key("x-inertia-partial-data").then(|| header_list(headers, "x-inertia-partial-data"));
    let except = header_list(headers, "x-inertia-partial-except");
    Some(Partial { component, only, except })
}

/// 409 with `X-Inertia-Location`: the client reloads `uri` whole, getting the new build.
fn stale_version(uri: &axum::http::Uri) -> Response<Body> {
    let location = local_url(uri);
    Response::builder()
        .status(StatusCode::CONFLICT)
        .header("x-inertia-location", HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")))
        .header(header::VARY, "x-inertia")
        .body(Body::empty())
        .expect("valid 409")
}

/// Marks a response to a request whose body was not read to its end: hyper closes such a
/// connection after answering instead of reading the rest, so the response says
/// `Connection: close` (RFC 9112 §9.6) and the client does not reuse it and find it gone.
pub(super) fn close_connection(response: &mut Response<Body>) {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// A failed request: the error, and for a 405 the methods the route allows.
struct Refusal {
    error: ErrorReport,
    allow: Option<HeaderValue>,
    /// The body may be partly unread: the server closes the connection after the answer,
    /// so it says `Connection: close` rather than let the client reuse it and find it gone.
    close: bool,
}

impl From<ErrorReport> for Refusal {
    fn from(error: ErrorReport) -> Self {
        Self { error, allow: None, close: false }
    }
}

/// The reply to a routed request, and the cookies to set with it: the session's (if the
/// session changed), then `XSRF-TOKEN` (if the browser's is not this token).
async fn handle(
    loaded: &Loaded,
    id: &str,
    matched: Option<Matched<'_>>,
    request: Request<Body>,
    format: Format,
) -> Result<(Reply, Vec<Cookie<'static>>), Refusal> {
    let site = &loaded.site;
    let url = local_url(request.uri());
    let path = request.uri().path();
    // Refused before it is read, a body leaves the connection unusable.
    let unread = has_body(request.headers());
    let matched = matched.ok_or_else(|| Refusal {
        error: ErrorReport::not_found(format!("no route matches `{path}`")),
        allow: None,
        close: unread,
    })?;
    let route = matched.route;
    let method = request.method();
    let allowed = route.methods.contains(method) || (method == Method::HEAD && route.methods.contains(&Method::GET));
    if !allowed {
        let message = format!("`{}` accepts {:?}, not {method}", route.pattern, route.methods);
        let error = ErrorReport::new(ErrorKind::Request, message).with_status(StatusCode::METHOD_NOT_ALLOWED);
        return Err(Refusal { error, allow: Some(allow_header(route)), close: unread });
    }
    let opened = loaded.sessions.open(request.headers()).await.map_err(session_store_failure)?;
    let session = opened.session.clone();
    let secure = request.extensions().get::<Client>().is_some_and(|c| c.https);
    let rules = BodyRules {
        upload: &route.options.upload,
        https: secure,
        csrf: (route.options.csrf && csrf::is_unsafe(method)).then(|| session.csrf_token()),
    };
    let context = request::context(request, matched.params, rules, session.clone()).await.map_err(|e| Refusal {
        error: ErrorReport::new(ErrorKind::Request, e.to_string()).with_status(e.status()),
        allow: None,
        close: true,
    })?;
    // What the browser holds of the token for scripts, compared once the controllers ran (a
    // sign-in rotates the token).
    let xsrf_sent = context.cookies.get(csrf::XSRF_COOKIE).cloned();
    let reply = site.render(id, route, context, format, &url).await?;
    let cookie = loaded.sessions.save(&opened, secure).await.map_err(session_store_failure)?;
    let xsrf = csrf::xsrf_cookie(xsrf_sent.as_deref(), &session.csrf_token(), secure);
    Ok((reply, cookie.into_iter().chain(xsrf).collect()))
}

/// The session store did not answer: this request cannot be served as the visitor's
/// (503); others that need no store still are.
fn session_store_failure(error: super::session::StoreError) -> Refusal {
    tracing::error!(target: "fymo::session", error = %error, "session store failed");
    let message = format!("the session store is unavailable: {error}");
    let error = ErrorReport::new(ErrorKind::Request, message).with_status(StatusCode::SERVICE_UNAVAILABLE);
    // Refused before a body was read, perhaps: the connection closes after the answer.
    Refusal { error, allow: None, close: true }
}

/// Whether the request comes with a body (declared length above zero, or chunked).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().parse::<u64>().map_or(true, |n| n > 0))
}

/// `Allow` for `route`: its methods, with HEAD wherever GET is.
fn allow_header(route: &Route) -> HeaderValue {
    let mut methods: Vec<&str> = route.methods.iter().map(Method::as_str).collect();
    if route.methods.contains(&Method::GET) && !route.methods.contains(&Method::HEAD) {
        methods.push(Method::HEAD.as_str());
    }
    HeaderValue::from_str(&methods.join(", ")).expect("method names are valid header text")
}

/// Tells caches that the response was chosen by the request's `Accept`.
fn vary_on_accept(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// Whether the client's copy (`If-None-Match: tags`) is this page.
fn unchanged(reply: &Reply, tags: &str) -> bool {
    reply.status == StatusCode::OK
        && matches!(reply.body, ReplyBody::Html(_))
        && reply.headers.iter().any(|(name, value)| name == header::ETAG && crate::site::etag_matches(tags, value))
}

/// 304 for a page the client has: its ETag, and the session's cookies if they changed. No
/// Content-Security-Policy: the client keeps the copy it has, with the nonce it has, and
/// the headers of a 304 would replace the stored ones.
fn not_modified(reply: &Reply, session: Vec<Cookie<'static>>) -> Response<Body> {
    let mut builder = Response::builder().status(StatusCode::NOT_MODIFIED).header(header::CACHE_CONTROL, "no-cache");
    for (name, value) in reply.headers.iter().filter(|(name, _)| name == header::ETAG) {
        builder = builder.header(name, value);
    }
    for value in session.iter().filter_map(|c| HeaderValue::try_from(c.encoded().to_string()).ok()) {
        builder = builder.header(header::SET_COOKIE, value);
    }
    builder.body(Body::empty()).expect("valid 304")
}

fn reply_response(reply: Reply, session: Vec<Cookie<'static>>) -> Response<Body> {
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in reply.headers {
        builder = builder.header(name, value);
    }
    for cookie in reply.cookies.iter().chain(&session) {
        match HeaderValue::try_from(cookie.encoded().to_string()) {
            Ok(value) => builder = builder.header(header::SET_COOKIE, value),
            Err(_) => {
                tracing::warn!(target: "fymo::server", cookie = cookie.name(), "a cookie that is not a valid header value was dropped")
            }
        }
    }
    let response = match reply.body {
        ReplyBody::Html(html) => builder
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(Body::from(html)),
        ReplyBody::Json(json) | ReplyBody::Page(json) => {
            builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(json))
        }
        ReplyBody::Redirect(location) => builder.header(header::LOCATION, location).body(Body::empty()),
        ReplyBody::Empty => builder.body(Body::empty()),
    };
    response.expect("valid page response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_back_url_never_reads_as_another_authority() {
        let url = |s: &str| local_url(&s.parse().unwrap());
        assert_eq!(url("//evil.example/x?a=1"), "/.//evil.example/x?a=1");
        assert_eq!(url("/\\evil.example/x"), "/./\\evil.example/x");
        assert_eq!(url("/notes/5?tab=1"), "/notes/5?tab=1");
        assert_eq!(url("/"), "/");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn any_partial_reload_headers_read_without_panicking(
            component in "[ -~]{0,16}", data in "[ -~,]{0,32}", except in "[ -~,]{0,32}",
        ) {
            let mut headers = HeaderMap::new();
            for (name, value) in [("x-inertia-partial-component", &component), ("x-inertia-partial-data", &data), ("x-inertia-partial-except", &except)] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.insert(name, value);
                }
            }
            if let Some(partial) = partial_of(&headers) {
                proptest::prop_assert!(partial.only.iter().flatten().chain(&partial.except).all(|k| !k.is_empty() && !k.contains(',')));
            }
        }

        #[test]
        fn a_sent_back_url_of_any_path_stays_a_path(path in "/[ -~]{0,24}") {
            if let Ok(uri) = path.parse::<axum::http::Uri>() {
                let url = local_url(&uri);
                proptest::prop_assert!(url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\"), "{url}");
            }
        }
    }
}
