//! Client files under `/_fymo/`: content-hashed, so cached forever.
//!
//! Every file of the build's `client/` directory is read at start-up into a table keyed by
//! its relative path. A request can only name a key of that table, so no path can reach
//! outside the build directory, whatever it contains (`..`, encoded slashes, symlinks).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use bytes::Bytes;

/// One file, ready to send.
#[derive(Debug, Clone)]
struct Asset {
    bytes: Bytes,
    content_type: HeaderValue,
    etag: HeaderValue,
}

/// The table of client files.
#[derive(Debug, Clone, Default)]
pub(crate) struct Assets {
    files: HashMap<String, Asset>,
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl Assets {
    /// Reads every file under `dir`.
    ///
    /// # Errors
    /// I/O errors while walking or reading.
    pub(crate) fn load(dir: &Path) -> std::io::Result<Self> {
        Self::load_reusing(dir, None)
    }

    /// As [`Assets::load`], taking files of the same name from `previous` instead of
    /// reading them again: names carry content hashes, so the same name is the same file.
    ///
    /// # Errors
    /// I/O errors while walking or reading.
    pub(crate) fn load_reusing(dir: &Path, previous: Option<&Assets>) -> std::io::Result<Self> {
        let mut files = HashMap::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(current) = stack.pop() {
            for entry in std::fs::read_dir(&current)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    stack.push(path);
                    continue;
                }
                let key = path
                    .strip_prefix(dir)
                    .expect("walked under dir")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let asset = match previous.and_then(|p| p.files.get(&key)) {
                    Some(known) => known.clone(),
                    None => Asset::read(&path)?,
                };
                files.insert(key, asset);
            }
        }
        Ok(Self { files })
    }

    /// The response for `path` (relative to `/_fymo/`), honouring `If-None-Match`.
    pub(crate) fn respond(&self, path: &str, request_headers: &HeaderMap) -> Option<Response<Body>> {
        let asset = self.files.get(path)?;
        let fresh = request_headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes().split(|b| *b == b',').any(|t| t.trim_ascii() == asset.etag.as_bytes()));
        let builder =
            Response::builder().header(header::ETAG, asset.etag.clone()).header(header::CACHE_CONTROL, IMMUTABLE);
        let response = if fresh {
            builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
        } else {
            builder.header(header::CONTENT_TYPE, asset.content_type.clone()).body(Body::from(asset.bytes.clone()))
        };
        Some(response.expect("valid static response"))
    }
}

impl Asset {
    fn read(path: &Path) -> std::io::Result<Self> {
        let bytes = Bytes::from(std::fs::read(path)?);
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let content_type = match mime.type_() {
            mime_guess::mime::TEXT | mime_guess::mime::APPLICATION
                if mime.get_param("charset").is_none() && is_text(&mime) =>
            {
                format!("{mime}; charset=utf-8")
            }
            _ => mime.to_string(),
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        Ok(Self {
            content_type: HeaderValue::from_str(&content_type).expect("mime is a valid header"),
            etag: HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish())).expect("hex is a valid header"),
            bytes,
        })
    }
}

fn is_text(mime: &mime_guess::Mime) -> bool {
    mime.type_() == mime_guess::mime::TEXT || matches!(mime.subtype().as_str(), "javascript" | "json")
}
