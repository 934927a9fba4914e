//! `manifest.json`: which files make up each component in the browser.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A DOM entry: the module, its CSS and the chunks it imports (for modulepreload).
/// Paths are relative to `client/`, served under `/_fymo/`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// The entry module.
    pub file: String,
    /// Its CSS files.
    pub css: Vec<String>,
    /// Static imports, transitively.
    pub imports: Vec<String>,
}

/// The build manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// Content hash of the whole build.
    pub version: String,
    /// The SSR bundle, relative to the build directory.
    pub ssr: String,
    /// Content hash of the SSR bundle alone (unchanged by CSS-only edits).
    #[serde(rename = "ssrHash", default)]
    pub ssr_hash: String,
    /// The browser entry is the app's own `client.js` (and the server's its `ssr.js`): an
    /// Inertia app. Then `client` is that entry, and every component maps to it.
    #[serde(default)]
    pub app: bool,
    /// Fymo's client runtime, or the app's own entry.
    pub client: Entry,
    /// Every component by name (`products/show`).
    pub components: BTreeMap<String, Entry>,
    /// The build directory this was read from.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// Why the build output could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Missing or unreadable.
    #[error("{}: cannot read build output ({source}); run `fymo build`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a manifest.
    #[error("{}: malformed manifest: {source}; run `fymo build` again", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

impl Manifest {
    /// Reads `manifest.json` from a build directory.
    ///
    /// # Errors
    /// A missing or malformed manifest.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join("manifest.json");
        let text =
            std::fs::read_to_string(&path).map_err(|source| ManifestError::Read { path: path.clone(), source })?;
        let mut manifest: Self = serde_json::from_str(&text).map_err(|source| ManifestError::Parse { path, source })?;
        manifest.dir = dir.to_owned();
        Ok(manifest)
    }

    /// Reads the SSR bundle's source.
    ///
    /// # Errors
    /// When the file is gone.
    pub fn ssr_source(&self) -> Result<String, ManifestError> {
        let path = self.dir.join(&self.ssr);
        std::fs::read_to_string(&path).map_err(|source| ManifestError::Read { path, source })
    }

    /// Whether `next` differs from `self` only in CSS (same SSR bundle, same modules):
    /// then a browser can swap stylesheets instead of reloading.
    pub fn css_only_change(&self, next: &Self) -> bool {
        fn modules(m: &Manifest) -> Vec<(&String, &String, &Vec<String>)> {
            let mut files: Vec<_> = m.components.iter().map(|(k, e)| (k, &e.file, &e.imports)).collect();
            files.push((&m.client.file, &m.client.file, &m.client.imports));
            files
        }
        self.ssr_hash == next.ssr_hash && modules(self) == modules(next) && self.version != next.version
    }

    /// Every CSS file of the build.
    pub fn css_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self.components.values().flat_map(|e| e.css.iter().cloned()).collect();
        files.sort();
        files.dedup();
        files
    }

    /// The directory served under `/_fymo/`.
    pub fn client_dir(&self) -> PathBuf {
        self.dir.join("client")
    }
}
