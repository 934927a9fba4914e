//! The build step: runs node-tools (the app's own, or the copy embedded in this binary,
//! unpacked to a cache folder) over the app's templates and reads what it wrote. Never on
//! the request path.

mod embedded;
mod manifest;
mod node_tools;

pub(crate) use embedded::svelte_version;
pub use manifest::Manifest;
pub(crate) use manifest::{Entry, ManifestError};
pub(crate) use node_tools::{build, BuildError, BuildEvent, CompileError, DevBuilder, NodeTools};

use std::path::{Path, PathBuf};

/// Where an app's build output lives.
pub(crate) fn output_dir(root: &Path) -> PathBuf {
    root.join(".fymo").join("build")
}
