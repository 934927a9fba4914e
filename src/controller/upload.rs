//! [`UploadedFile`]: one file of a `multipart/form-data` request, already streamed to a
//! temporary file by the server (never held whole in memory) and removed after the
//! request.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

/// An uploaded file. Python controllers get the same fields as a dict, with `path`.
#[derive(Debug, Clone, Serialize)]
pub struct UploadedFile {
    /// The form field it came in (`file`).
    pub field: String,
    /// The file name the browser gave (untrusted: never use it as a path).
    pub name: String,
    /// The type the browser declared (`image/png`).
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    path: PathBuf,
    /// Deletes the file when the last handle goes, after the request.
    #[serde(skip)]
    _temp: Arc<tempfile::TempPath>,
}

impl UploadedFile {
    /// A file received into `temp`.
    pub(crate) fn new(field: String, name: String, content_type: String, size: u64, temp: tempfile::TempPath) -> Self {
        Self { field, name, content_type, size, path: temp.to_path_buf(), _temp: Arc::new(temp) }
    }

    /// Where the contents are, until the request ends.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the contents for reading.
    ///
    /// # Errors
    /// I/O errors.
    pub fn open(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::open(&self.path)
    }
}
