//! `fymo export DIR`: every `prerender: true` route rendered through the same server as
//! `fymo serve` into `DIR/<path>/index.html`, with the build's client files under
//! `DIR/_fymo/` and `static/` at the root, so that any static host serves the site.
//! A route with parameters lists their values from its controller (`entries()` in Python,
//! `App::builder().entries(…)` in Rust).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use crate::build;
use crate::server::{self, AppState, Assets, Loaded, Mode};
use crate::site::{Site, SiteError, SiteOptions};
use crate::App;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExportError {
    /// The app does not load.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// A route with parameters whose controller lists no values for them.
    #[error("routes.yml:{line}: `{pattern}` is prerendered but has parameters: list them with `entries()` in its controller")]
    NoEntries {
        /// The route.
        pattern: String,
        /// Its line.
        line: usize,
    },
    /// A controller failed to list its entries, or an entry lacks a parameter.
    #[error("`{pattern}`: {message}")]
    Entries {
        /// The route.
        pattern: String,
        /// What went wrong.
        message: String,
    },
    /// A page did not render (its status, and the start of its body).
    #[error("{path} answered {status}: {body}")]
    Page {
        /// The page.
        path: String,
        /// The status.
        status: StatusCode,
        /// What it said.
        body: String,
    },
    /// Reading or writing files.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ExportError {
    let what = what.into();
    move |source| ExportError::Io { what, source }
}

/// Renders every prerendered route of the app at `options.root` into `out`; returns the
/// pages written, by URL path.
///
/// # Errors
/// See [`ExportError`].
pub(crate) fn run(app: &App, options: SiteOptions, out: &Path) -> Result<Vec<String>, ExportError> {
    let root = options.root.clone();
    let runtime = tokio::runtime::Runtime::new().map_err(io("starting the runtime"))?;
    let _context = runtime.enter();
    let site = Site::load(app, options)?;
    let assets = Assets::load(&site.manifest.client_dir()).map_err(io("reading the build's client files"))?;
    let paths = runtime.block_on(paths_of(&site))?;
    let router = server::router(AppState::new(Some(Loaded::new(site, assets)), Mode::Production), None);
    std::fs::create_dir_all(out).map_err(io(format!("creating {}", out.display())))?;
    for path in &paths {
        let html = runtime.block_on(page(router.clone(), path))?;
        let file = file_for(out, path);
        std::fs::create_dir_all(file.parent().expect("under out"))
            .map_err(io(format!("creating {}", file.display())))?;
        std::fs::write(&file, html).map_err(io(format!("writing {}", file.display())))?;
    }
    copy_dir(&build::output_dir(&root).join("client"), &out.join("_fymo"))?;
    copy_dir(&root.join("static"), out)?;
    Ok(paths)
}

/// Every URL path to prerender, in route order.
async fn paths_of(site: &Site) -> Result<Vec<String>, ExportError> {
    let mut paths = Vec::new();
    for route in site.routes.routes().iter().filter(|r| r.options.prerender) {
        if !route.pattern.contains('{') {
            paths.push(route.pattern.clone());
            continue;
        }
        let entries = site
            .controllers
            .entries(&route.name)
            .await
            .map_err(|e| ExportError::Entries { pattern: route.pattern.clone(), message: e.to_string() })?;
        if entries.is_empty() {
            return Err(ExportError::NoEntries { pattern: route.pattern.clone(), line: route.line });
        }
        for entry in entries {
            paths.push(
                fill(&route.pattern, &entry)
                    .map_err(|message| ExportError::Entries { pattern: route.pattern.clone(), message })?,
            );
        }
    }
    Ok(paths)
}

/// Characters a path segment keeps as they are; everything else is percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `pattern` with its `{name}` and `{*name}` parameters taken from `entry`, each value
/// percent-encoded (a catch-all keeps its `/`).
fn fill(pattern: &str, entry: &serde_json::Value) -> Result<String, String> {
    let mut path = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|c| open + c).ok_or("unclosed `{`")?;
        let spec = &rest[open + 1..close];
        let name = spec.trim_start_matches('*');
        let value = match entry.get(name) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) if !other.is_null() => other.to_string(),
            _ => return Err(format!("an entry lacks `{name}`: {entry}")),
        };
        let segments: Vec<&str> = if spec.starts_with('*') { value.split('/').collect() } else { vec![&value] };
        if segments.iter().any(|s| s.is_empty() || *s == "." || *s == ".." || s.contains('/')) {
            return Err(format!("`{name}` = {value:?} is not a path segment"));
        }
        let encoded: Vec<String> =
            segments.iter().map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()).collect();
        path.push_str(&rest[..open]);
        path.push_str(&encoded.join("/"));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    Ok(path)
}

async fn page(router: axum::Router, path: &str) -> Result<Vec<u8>, ExportError> {
    let request = Request::get(path).header("host", "localhost").body(Body::empty()).map_err(|e| {
        ExportError::Page { path: path.to_owned(), status: StatusCode::BAD_REQUEST, body: e.to_string() }
    })?;
    let response = router.oneshot(request).await.expect("the router is infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.map_err(|e| ExportError::Page {
        path: path.to_owned(),
        status,
        body: e.to_string(),
    })?;
    if status != StatusCode::OK {
        let text = String::from_utf8_lossy(&body).chars().take(300).collect();
        return Err(ExportError::Page { path: path.to_owned(), status, body: text });
    }
    Ok(body.to_vec())
}

/// `/` -> `out/index.html`; `/docs/caf%C3%A9` -> `out/docs/café/index.html` (a static
/// host maps a URL to the file of its decoded path).
fn file_for(out: &Path, path: &str) -> PathBuf {
    let mut file = out.to_owned();
    for part in path.split('/') {
        let part = percent_encoding::percent_decode_str(part).decode_utf8_lossy();
        if !part.is_empty() && part != "." && part != ".." && !part.contains('/') {
            file.push(part.as_ref());
        }
    }
    file.join("index.html")
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), ExportError> {
    let Ok(entries) = std::fs::read_dir(from) else { return Ok(()) };
    std::fs::create_dir_all(to).map_err(io(format!("creating {}", to.display())))?;
    for entry in entries {
        let entry = entry.map_err(io(format!("reading {}", from.display())))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(io(format!("copying to {}", target.display())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_parameters_and_maps_paths_to_files() {
        let entry = serde_json::json!({ "slug": "intro", "path": "a/b", "n": 3 });
        assert_eq!(fill("/docs/{slug}", &entry).unwrap(), "/docs/intro");
        assert_eq!(fill("/f/{*path}/{n}", &entry).unwrap(), "/f/a/b/3");
        assert!(fill("/x/{missing}", &entry).is_err());
        let odd = serde_json::json!({ "slug": "café au lait?", "bad": "..", "slash": "a/b" });
        assert_eq!(fill("/d/{slug}", &odd).unwrap(), "/d/caf%C3%A9%20au%20lait%3F");
        assert!(fill("/d/{slash}", &odd).is_err(), "one parameter, one segment");
        assert!(fill("/d/{bad}", &odd).is_err());
        assert_eq!(file_for(Path::new("/o"), "/d/caf%C3%A9"), Path::new("/o/d/café/index.html"));
        assert_eq!(file_for(Path::new("/o"), "/"), Path::new("/o/index.html"));
        assert_eq!(file_for(Path::new("/o"), "/docs/../intro"), Path::new("/o/docs/intro/index.html"));
    }
}
