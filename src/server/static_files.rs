//! The app's `static/` folder, served at the site root (`static/robots.txt` at
//! `/robots.txt`) by tower-http's `ServeDir` — types, `Last-Modified`/`304`, `Range` —
//! plus a weak ETag and `Cache-Control: no-cache`: these are public, stable URLs whose
//! contents may change, so browsers revalidate (cheaply, 304).
//! A route of the same path wins: this only answers paths no route matches.
//!
//! No way out of the folder: `ServeDir` refuses `..`, and a file is served only when its
//! real path (symlinks followed) is inside the folder's, so `static/up -> ..` serves
//! nothing while a link from one file of the folder to another still works.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The folder's name in the app directory.
pub(crate) const STATIC_DIR: &str = "static";

/// `static/` of one app.
#[derive(Debug, Clone)]
pub(crate) struct StaticFiles {
    serve: ServeDir,
    /// The folder, as given (URL paths join onto it).
    dir: PathBuf,
    /// Its real path: what every served file's real path must start with.
    real: PathBuf,
}

impl StaticFiles {
    /// The app's `static/` folder, if it has one.
    pub(crate) fn of(root: &Path) -> Option<Self> {
        let dir = root.join(STATIC_DIR);
        let real = dir.canonicalize().ok().filter(|real| real.is_dir())?;
        Some(Self { serve: ServeDir::new(&dir).append_index_html_on_directories(false), dir, real })
    }

    /// Whether the file a URL path names (decoded and joined as `ServeDir` does) is, once
    /// every symlink is followed, inside the folder.
    async fn inside(&self, url_path: &str) -> bool {
        let Ok(decoded) = percent_encoding::percent_decode_str(url_path).decode_utf8() else { return false };
        let mut file = self.dir.clone();
        for component in Path::new(decoded.trim_start_matches('/')).components() {
            match component {
                Component::Normal(part) => file.push(part),
                Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => return false,
            }
        }
        tokio::fs::canonicalize(&file).await.is_ok_and(|real| real.starts_with(&self.real))
    }

    /// The file for `request`, or `None` when there is none (the caller answers 404).
    pub(crate) async fn respond(&self, request: Request<Body>) -> Option<Response<Body>> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return None;
        }
        if !self.inside(request.uri().path()).await {
            return None;
        }
        let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
        let response = self.serve.clone().oneshot(request).await.ok()?;
        if response.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            return Some(response.map(Body::new)); // the file exists; the range does not
        }
        if !(response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED) {
            return None;
        }
        let (mut parts, body) = response.into_parts();
        let etag = etag_of(&parts.headers);
        parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache"));
        if let Some(etag) = etag {
            let fresh = if_none_match
                .is_some_and(|v| v.as_bytes().split(|b| *b == b',').any(|t| t.trim_ascii() == etag.as_bytes()));
            parts.headers.insert(header::ETAG, etag);
            if fresh {
                parts.status = StatusCode::NOT_MODIFIED;
                parts.headers.remove(header::CONTENT_LENGTH);
                return Some(Response::from_parts(parts, Body::empty()));
            }
        }
        Some(Response::from_parts(parts, Body::new(body)))
    }

    /// Every served file's URL path (`/robots.txt`), for reporting routes that shadow
    /// them. Symlinks are followed as when serving; a loop is walked once, not for ever.
    pub(crate) fn paths(root: &Path) -> Vec<String> {
        let dir = root.join(STATIC_DIR);
        let Ok(real) = dir.canonicalize() else { return Vec::new() };
        let mut found: Vec<String> = walkdir::WalkDir::new(&dir)
            .follow_links(true)
            .into_iter()
            // Nothing outside is entered (`up -> ..` would walk the whole app).
            .filter_entry(|entry| entry.path().canonicalize().is_ok_and(|p| p.starts_with(&real)))
            .filter_map(Result::ok) // a loop is an error entry, and its subtree is skipped
            .filter(|entry| entry.file_type().is_file())
            .filter_map(|entry| {
                let rel = entry.path().strip_prefix(&dir).ok()?;
                let parts: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
                Some(format!("/{}", parts.join("/")))
            })
            .collect();
        found.sort();
        found
    }
}

/// A weak ETag from what identifies this version of the file: its modification time and
/// full size (a `Range` answer gives it after the slash of `Content-Range`).
fn etag_of(headers: &axum::http::HeaderMap) -> Option<HeaderValue> {
    let modified = headers.get(header::LAST_MODIFIED)?.to_str().ok()?;
    let size = match headers.get(header::CONTENT_RANGE) {
        Some(range) => range.to_str().ok()?.rsplit('/').next()?.to_owned(),
        None => headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.to_owned(),
    };
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a: stable across processes and restarts
    for byte in modified.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    HeaderValue::from_str(&format!("W/\"{size}-{hash:x}\"")).ok()
}
