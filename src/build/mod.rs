//! The build step: runs node-tools over the app's templates and reads what it wrote.
//! Never on the request path.

mod manifest;
mod node_tools;

pub use manifest::{Entry, Manifest, ManifestError};
pub use node_tools::{build, BuildError, BuildEvent, BuildOptions, CompileError, DevBuilder, NodeTools};

use std::path::{Path, PathBuf};

/// Where an app's build output lives.
pub fn output_dir(root: &Path) -> PathBuf {
    root.join(".fymo").join("build")
}
