//! Pages of an app with its own client, an Inertia app (`manifest.app`): what Inertia's
//! client sent besides the page it asks for (the error bag, props to reset, form errors a
//! post left), and the answer it expects — Inertia's page object, with the layouts'
//! controllers' props joined to the page's, deferred and merged props marked, a form with
//! errors sent back to its page, and for a visit the document that the app's ssr.js renders.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::respond::{json_text, redirect, refuse, render_failure, Extra, Format, Props, Reply, ReplyBody};
use super::{cache, ErrorReport, Site};
use crate::controller::{header_list, RequestContext, Session};
use crate::router::Route;

/// What an Inertia app's request carries for the answer, read before any controller runs.
pub(super) struct InertiaRequest {
    session: Session,
    flash: Option<String>,
    /// The form errors a post left for this page, taken out of the session.
    kept_errors: Option<Value>,
    /// A form post (or put, patch, delete) from Inertia's client.
    post: bool,
    /// `X-Inertia-Error-Bag`.
    error_bag: Option<String>,
    /// `X-Inertia-Reset`: props to replace, not merge.
    reset: Vec<String>,
    /// `X-Inertia-Except-Once-Props`: once props the client has.
    has_once: Vec<String>,
}

impl InertiaRequest {
    pub(super) fn read(request: &RequestContext, format: &Format) -> Self {
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        Self {
            session: request.session.clone(),
            flash: request.flash.clone(),
            kept_errors: request.session.remove(KEPT_ERRORS),
            post: matches!(format, Format::Inertia(_)) && !matches!(request.method, Method::GET | Method::HEAD),
            error_bag: header("x-inertia-error-bag").map(str::to_owned),
            reset: header_list(&request.headers, "x-inertia-reset"),
            has_once: header_list(&request.headers, "x-inertia-except-once-props"),
        }
    }
}

/// What the controllers of a page answered.
pub(super) struct Answered<'a> {
    pub(super) status: StatusCode,
    pub(super) props: Props,
    /// Each layout's component and its controller's props.
    pub(super) layouts: Vec<(&'a str, Props)>,
    pub(super) extra: Extra,
}

impl Site {
    /// The answer to Inertia's client or a visit of an Inertia app's page.
    pub(super) async fn answer_inertia(
        &self,
        route: &Route,
        request_id: &str,
        url: &str,
        format: &Format,
        inertia: InertiaRequest,
        answered: Answered<'_>,
    ) -> Result<Reply, ErrorReport> {
        let Answered { status, props, layouts, mut extra } = answered;
        let page = route.page.as_deref().expect("a page route");
        // A form with errors, posted by Inertia's client: as Laravel answers it, the errors
        // wait in the session and the client is sent back to the page (the request's URL:
        // the route serves the form), which gets them as `errors`.
        if inertia.post && status == StatusCode::UNPROCESSABLE_ENTITY {
            if let Some(errors) = errors_of(props, inertia.error_bag.as_deref()) {
                inertia.session.insert(KEPT_ERRORS, errors);
                let back = redirect(&route.name, request_id, url, StatusCode::SEE_OTHER)?;
                return Ok(extra.reply(StatusCode::SEE_OTHER, ReplyBody::Redirect(back)));
            }
            return Err(refuse(&route.name, request_id, "a 422 answer without an `errors` object".into()));
        }
        let mut kinds = std::mem::take(&mut extra.kinds);
        // Left out: deferred props (unless a partial reload asks for them), once props the
        // client has (it keeps its copy).
        let deferred: Vec<String> = kinds.deferred.values().flatten().cloned().collect();
        let had: Vec<String> = kinds.once.keys().filter(|k| inertia.has_once.contains(k)).cloned().collect();
        let props = app_props(layouts, props, page, format, inertia.kept_errors, &deferred, &had);
        // Deferred props are announced on a visit; the partial reloads that load them
        // announce nothing again. A prop the client resets is replaced, not merged.
        if matches!(format, Format::Inertia(Some(_))) {
            kinds.deferred.clear();
        }
        kinds.merge.retain(|k| !inertia.reset.contains(k));
        kinds.deep_merge.retain(|k| !inertia.reset.contains(k));
        let page_json = self.inertia_page_object(page, &props, url, inertia.flash.as_deref(), &kinds);
        if *format != Format::Html {
            return Ok(extra.reply(status, ReplyBody::Page(page_json)));
        }
        let nonce = self.csp.nonce();
        let html = self
            .render_app_page(page, page_json, route.options.isolate, nonce.as_deref())
            .await
            .map_err(|e| render_failure(request_id, page, e))?;
        let etag = cache::etag(&html, nonce.as_deref());
        let mut reply = extra.reply(status, ReplyBody::Html(html));
        reply.headers.push((axum::http::header::ETAG, etag));
        reply.headers.extend(self.csp_header(nonce.as_deref()));
        Ok(reply)
    }
}

/// Where an Inertia app's form errors wait for the next page (session key).
const KEPT_ERRORS: &str = "_fymo.errors";

/// The `errors` of a 422 answer's props, under `bag` when Inertia's client named one
/// (`X-Inertia-Error-Bag`).
fn errors_of(props: Props, bag: Option<&str>) -> Option<Value> {
    let errors = props.into_value().ok()?.get_mut("errors").map(Value::take).filter(Value::is_object)?;
    Some(match bag.filter(|b| !b.is_empty()) {
        Some(bag) => serde_json::json!({ bag: errors }),
        None => errors,
    })
}

/// The props of a page of an app with its own client (Inertia's): its layouts' controllers'
/// props under the page's own (the page's win, as over Inertia's shared props), the form
/// errors a post left (`kept_errors`), without the `deferred` ones unless a partial reload
/// asks for them and without the once props the client `had`, filtered for a partial
/// reload, as JSON.
fn app_props(
    layouts: Vec<(&str, Props)>,
    props: Props,
    page: &str,
    format: &Format,
    kept_errors: Option<Value>,
    deferred: &[String],
    had: &[String],
) -> String {
    let partial = match format {
        Format::Inertia(Some(partial)) => Some(partial),
        _ => None,
    };
    if layouts.is_empty() && partial.is_none() && kept_errors.is_none() && deferred.is_empty() && had.is_empty() {
        return props.into_json();
    }
    let mut merged = match props.into_value() {
        Ok(value) => value,
        // Too deep to merge or filter: the page's own, all of them.
        Err(props) => return props.into_json(),
    };
    if let Some(object) = merged.as_object_mut() {
        if let Some(errors) = kept_errors {
            object.entry("errors").or_insert(errors);
        }
        let asked = |key: &str| {
            partial.is_some_and(|p| p.component == page && p.only.as_ref().is_some_and(|o| o.iter().any(|k| k == key)))
        };
        object.retain(|key, _| (!deferred.contains(key) || asked(key)) && !had.contains(key));
        for (_, layout) in layouts {
            if let Ok(Value::Object(shared)) = layout.into_value() {
                for (key, value) in shared {
                    object.entry(key).or_insert(value);
                }
            }
        }
    }
    if let Some(partial) = partial {
        partial.filter(page, &mut merged);
    }
    json_text(&merged)
}
