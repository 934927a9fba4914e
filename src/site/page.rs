//! [`Site::render_page`]: one page through the engine pool and into the document.

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
    /// Renders `page` (inside `layout`, if any) with `props_json` (the props, serialized
    /// once by the caller) and wraps it in the document, with the page object for `url`.
    ///
    /// # Errors
    /// See [`RenderError`].
    pub(crate) async fn render_page(
        &self,
        page: &str,
        layout: Option<&str>,
        props_json: String,
        isolate: bool,
        url: &str,
        nonce: Option<&str>,
    ) -> Result<String, RenderError> {
        for component in std::iter::once(page).chain(layout) {
            if !self.manifest.components.contains_key(component) {
                return Err(RenderError::NotBuilt(component.to_owned()));
            }
        }
        // The engine thread takes its own copy; the document escapes this one.
        let job = RenderJob {
            page: page.to_owned(),
            layout: layout.map(str::to_owned),
            props_json: props_json.clone(),
            isolate,
        };
        let rendered = self.pool.render(job).await?;
        let layouts: Vec<&str> = layout.into_iter().collect();
        let page_object = self.page_object(page, &layouts, &props_json, url);
        Ok(self.document.render(&self.manifest, page, layout, &rendered, &page_object, nonce))
    }
}
