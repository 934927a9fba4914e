//! [`Site::render_page`]: one page through the engine pool and into the document.

use super::respond::LayoutPart;
use super::Site;
use crate::engine::{EngineError, RenderJob};

/// Why a page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    /// The engine failed (exception, deadline, memory, pool).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The route names a component the build does not have (rebuild needed).
    #[error("component `{0}` is not in the build manifest; run `fymo build`")]
    NotBuilt(String),
}

impl Site {
    /// Renders `page` inside `layouts` (outermost first) with `props_json` (the props,
    /// serialized once by the caller) and wraps it in the document, with the page object
    /// for `url`.
    ///
    /// # Errors
    /// See [`RenderError`].
    pub(crate) async fn render_page(
        &self,
        page: &str,
        layouts: &[LayoutPart<'_>],
        props_json: String,
        isolate: bool,
        url: &str,
        nonce: Option<&str>,
    ) -> Result<String, RenderError> {
        for component in std::iter::once(page).chain(layouts.iter().map(|l| l.component)) {
            if !self.manifest.components.contains_key(component) {
                return Err(RenderError::NotBuilt(component.to_owned()));
            }
        }
        let layouts_json = (!layouts.is_empty()).then(|| {
            let parts: Vec<String> = layouts
                .iter()
                .map(|l| {
                    format!("{{\"component\":{},\"props\":{}}}", serde_json::Value::from(l.component), l.props_json)
                })
                .collect();
            format!("[{}]", parts.join(","))
        });
        // The engine thread takes its own copy; the document escapes this one.
        let job = RenderJob { page: page.to_owned(), layouts_json, props_json: props_json.clone(), isolate };
        let rendered = self.pool.render(job).await?;
        let page_object = self.page_object(page, layouts, &props_json, url);
        let names: Vec<&str> = layouts.iter().map(|l| l.component).collect();
        Ok(self.document.render(&self.manifest, page, &names, &rendered, &page_object, nonce))
    }
}

impl Site {
    /// Renders a page of an app with its own entries: its `ssr.js` render function gets
    /// the page object (`page_json`) and writes the body, Inertia's way.
    ///
    /// # Errors
    /// See [`RenderError`].
    pub(crate) async fn render_app_page(
        &self,
        page: &str,
        page_json: String,
        isolate: bool,
        nonce: Option<&str>,
    ) -> Result<String, RenderError> {
        let job = RenderJob { page: page.to_owned(), layouts_json: None, props_json: page_json, isolate };
        let rendered = self.pool.render(job).await?;
        Ok(self.document.render_app(&self.manifest, &rendered, nonce))
    }
}
