//! `fymo dev`: build, serve, watch, rebuild, live reload, error overlay.
//! Never on the production request path: the server only reads the [`DevHub`].

mod hub;
mod overlay;
mod reload;
mod watch;

pub(crate) use hub::events;
pub use hub::{DevError, DevEvent, DevHub};
pub use overlay::{page as overlay_page, CLIENT_JS, CLIENT_PATH};
pub use reload::{report, Reloaded, Reloader};
pub use watch::{watch, Changes};
