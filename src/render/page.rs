//! [`render_page`]: one page through the engine pool and into the document.

use crate::build::Manifest;
use crate::document::Document;
use crate::engine::{EngineError, EnginePool, RenderJob};

/// Why a page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The engine failed (exception, deadline, memory, pool).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The route names a component the build does not have (rebuild needed).
    #[error("component `{0}` is not in the build manifest; run `fymo build`")]
    NotBuilt(String),
    /// Props that do not serialize (cannot happen for `serde_json::Value`, kept for
    /// controllers that hand over typed data).
    #[error("props do not serialize: {0}")]
    Props(#[from] serde_json::Error),
}

/// Renders `page` (inside `layout`, if any) with `props` and wraps it in the document.
///
/// # Errors
/// See [`RenderError`].
pub async fn render_page(
    pool: &EnginePool,
    manifest: &Manifest,
    document: &Document,
    page: &str,
    layout: Option<&str>,
    props: &serde_json::Value,
) -> Result<String, RenderError> {
    for component in std::iter::once(page).chain(layout) {
        if !manifest.components.contains_key(component) {
            return Err(RenderError::NotBuilt(component.to_owned()));
        }
    }
    let job = RenderJob {
        page: page.to_owned(),
        layout: layout.map(str::to_owned),
        props_json: serde_json::to_string(props)?,
    };
    let rendered = pool.render(job).await?;
    Ok(document.render(manifest, page, layout, &rendered, props))
}
