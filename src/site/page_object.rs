//! Inertia's page object: `{component, props, url, version}` — in the first HTML
//! response (`data-page` on the app element) and as the JSON answer to a request with
//! `X-Inertia: true` — plus what Fymo's own client needs to swap pages: the layouts that
//! wrap the page and the modules and stylesheets of each. Inertia's own adapters ignore
//! the extra keys.

use serde_json::{Map, Value};

use super::respond::{LayoutPart, SHARED};
use super::Site;
use crate::controller::PropKinds;
use crate::document::ASSET_PREFIX;

/// A partial reload: only some props of the current page (`X-Inertia-Partial-*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Partial {
    /// The page the client has; other pages get all their props.
    pub(crate) component: String,
    /// `X-Inertia-Partial-Data`: only these props.
    pub(crate) only: Option<Vec<String>>,
    /// `X-Inertia-Partial-Except`: all props but these.
    pub(crate) except: Vec<String>,
}

impl Partial {
    /// Keeps the props the client asked for, when it asked about this `component`.
    pub(crate) fn filter(&self, component: &str, props: &mut Value) {
        let Some(object) = props.as_object_mut().filter(|_| self.component == component) else { return };
        object.retain(|key, _| {
            key == SHARED // a partial reload always gets the CSRF token and flash
                || (self.only.as_ref().is_none_or(|only| only.iter().any(|k| k == key))
                    && !self.except.iter().any(|k| k == key))
        });
    }
}

impl Site {
    /// The page object as JSON, with `props_json` (serialized once, by the caller)
    /// embedded as it is.
    pub(crate) fn page_object(&self, page: &str, layouts: &[LayoutPart<'_>], props_json: &str, url: &str) -> String {
        let mut assets = Map::new();
        for component in layouts.iter().map(|l| l.component).chain(std::iter::once(page)) {
            if let Some(entry) = self.manifest.components.get(component) {
                let css: Vec<String> = entry.css.iter().map(|c| format!("{ASSET_PREFIX}{c}")).collect();
                let js = format!("{ASSET_PREFIX}{}", entry.file);
                assets.insert(component.to_owned(), serde_json::json!({ "js": js, "css": css }));
            }
        }
        let text = |v: &str| Value::from(v).to_string();
        let names: Vec<&str> = layouts.iter().map(|l| l.component).collect();
        let layout_props: Vec<&str> = layouts.iter().map(|l| l.props_json.as_str()).collect();
        format!(
            "{{\"component\":{},\"props\":{props_json},\"url\":{},\"version\":{},\"layouts\":{},\"layoutProps\":[{}],\"assets\":{}}}",
            text(page),
            text(url),
            text(&self.manifest.version),
            Value::from(names),
            layout_props.join(","),
            Value::Object(assets),
        )
    }
}

impl Site {
    /// The page object of an app with its own client (an Inertia app): Inertia's fields only,
    /// with `props_json` embedded as it is, the flash message at the top level, and the
    /// props the controllers marked deferred or merged.
    pub(crate) fn inertia_page_object(
        &self,
        page: &str,
        props_json: &str,
        url: &str,
        flash: Option<&str>,
        kinds: &PropKinds,
    ) -> String {
        use std::fmt::Write as _;
        let text = |v: &str| Value::from(v).to_string();
        let flash =
            flash.map_or_else(|| "{}".to_owned(), |message| serde_json::json!({ "message": message }).to_string());
        let mut marked = String::new();
        if !kinds.deferred.is_empty() {
            let _ = write!(marked, ",\"deferredProps\":{}", serde_json::json!(kinds.deferred));
        }
        if !kinds.merge.is_empty() {
            let _ = write!(marked, ",\"mergeProps\":{}", serde_json::json!(kinds.merge));
        }
        if !kinds.once.is_empty() {
            let once: serde_json::Map<String, Value> = kinds
                .once
                .iter()
                .map(|(key, (prop, expires))| (key.clone(), serde_json::json!({ "prop": prop, "expiresAt": expires })))
                .collect();
            let _ = write!(marked, ",\"onceProps\":{}", Value::Object(once));
        }
        if !kinds.deep_merge.is_empty() {
            let _ = write!(marked, ",\"deepMergeProps\":{}", serde_json::json!(kinds.deep_merge));
        }
        format!(
            "{{\"component\":{},\"props\":{props_json},\"url\":{},\"version\":{},\"encryptHistory\":false,\"clearHistory\":false,\"flash\":{flash}{marked}}}",
            text(page),
            text(url),
            text(&self.manifest.version),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_reloads_keep_only_the_asked_props_of_the_same_page() {
        let props = serde_json::json!({ "a": 1, "b": 2, "c": 3, "fymo": { "csrf": "t" } });
        let only = Partial { component: "p".into(), only: Some(vec!["a".into()]), except: vec![] };
        let mut v = props.clone();
        only.filter("p", &mut v);
        assert_eq!(v, serde_json::json!({ "a": 1, "fymo": { "csrf": "t" } }));
        let except = Partial { component: "p".into(), only: None, except: vec!["b".into()] };
        let mut v = props.clone();
        except.filter("p", &mut v);
        assert_eq!(v, serde_json::json!({ "a": 1, "c": 3, "fymo": { "csrf": "t" } }));
        let mut v = props.clone();
        only.filter("other", &mut v);
        assert_eq!(v, props, "another page gets everything");
    }
}
