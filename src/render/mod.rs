//! Rendering a page: props in, the HTML document out, through the engine pool.

mod page;

pub use page::{render_page, RenderError};
