//! `routes.yml` as written, before validation.
//!
//! ```yaml
//! root: posts.index
//! resources: [posts]
//! routes:
//!   /about: pages.about
//!   /users/{id}:
//!     controller: users.show
//!     template: users/profile.svelte
//!     methods: [GET, POST]
//!     layout: null
//! layout: layouts/main.svelte
//! ```
//!
//! serde_yaml reports syntax and type errors with a location; entries keep the line of
//! their key so that semantic errors found later (duplicate paths, missing templates)
//! can name it too.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use super::ConfigError;

/// The file's name in the app directory.
pub(crate) const ROUTES_FILE: &str = "routes.yml";

/// Whether `topic` is a usable live topic name: 1 to 200 characters of letters, digits
/// and `:._-/@` (`routes.yml`'s `live:` is checked against it, `{param}`s filled in).
pub(crate) fn valid_topic(topic: &str) -> bool {
    (1..=200).contains(&topic.len()) && topic.bytes().all(|b| b.is_ascii_alphanumeric() || b":._-/@".contains(&b))
}

/// A layout setting: absent (inherit), `null` (none), or a template path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum LayoutChoice {
    /// Not set: use the file's default layout.
    #[default]
    Inherit,
    /// `layout: null`: no layout.
    Disabled,
    /// A template path relative to `templates/`.
    Template(String),
}

/// One route as written: its path and either a name or the long form.
#[derive(Debug, Clone)]
pub(crate) struct RouteEntry {
    /// The path pattern (`/users/{id}`).
    pub path: String,
    /// What the route does.
    pub spec: RouteSpec,
    /// 1-based line of the path key.
    pub line: usize,
}

/// The value of a route entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteSpec {
    /// Controller name (`users.show`).
    pub controller: String,
    /// Explicit template path, relative to `templates/`.
    pub template: Option<String>,
    /// Allowed methods; empty means `GET`.
    pub methods: Vec<String>,
    /// Per-route layout.
    pub layout: LayoutChoice,
    /// Its options.
    pub options: RouteOptions,
}

/// A route's options beyond what it renders: how it is rendered and guarded, what it
/// accepts, where else it goes. The router's [`crate::router::Route`] carries them as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteOptions {
    /// Render in a fresh engine instance of its own (`isolate: true`).
    pub isolate: bool,
    /// Check unsafe methods for CSRF (`csrf: false` turns it off for a JSON API).
    pub csrf: bool,
    /// Limits for `multipart/form-data` bodies (`upload:`).
    pub upload: UploadLimits,
    /// Rendered to static files by `fymo export` (`prerender: true`).
    pub prerender: bool,
    /// Live topics the page follows (`live: [chat:lobby, user:{id}]`; `{param}` is
    /// replaced by the path parameter).
    pub live: Vec<String>,
    /// The render cache (`cache:`), off when absent.
    pub cache: Option<CacheRule>,
}

impl Default for RouteOptions {
    fn default() -> Self {
        Self {
            isolate: false,
            csrf: true,
            upload: UploadLimits::default(),
            prerender: false,
            live: Vec::new(),
            cache: None,
        }
    }
}

/// `cache:` of a route: its rendered pages are kept for `ttl` and shared by every request
/// with the same URL and the same values of what it varies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheRule {
    /// How long an entry serves.
    pub ttl: std::time::Duration,
    /// What else the page depends on (`vary: [cookie:theme, accept-language]`).
    pub vary: Vec<Vary>,
}

/// One `vary:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Vary {
    /// `cookie:NAME`: the value of a cookie.
    Cookie(String),
    /// `NAME` or `header:NAME`: the value of a request header (lowercase).
    Header(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    ttl: Value,
    #[serde(default)]
    vary: Vec<String>,
}

/// `10s`, `500ms`, `5m`, `1h` or a number of seconds.
fn duration_of(value: &Value) -> Option<std::time::Duration> {
    if let Some(n) = value.as_u64() {
        return Some(std::time::Duration::from_secs(n));
    }
    let text = value.as_str()?.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let number: f64 = text[..split].trim().parse().ok()?;
    let seconds = match text[split..].trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    std::time::Duration::try_from_secs_f64(seconds).ok()
}

fn cache_rule(raw: Option<RawCache>, file: &Path, line: usize) -> Result<Option<CacheRule>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let ttl = duration_of(&raw.ttl).filter(|d| !d.is_zero()).ok_or_else(|| {
        ConfigError::at(file, line, format!("cache ttl: `{:?}` is not a duration (e.g. 10s, 500ms, 5m)", raw.ttl))
    })?;
    let vary = raw
        .vary
        .into_iter()
        .map(|v| match v.split_once(':') {
            Some(("cookie", name)) if !name.trim().is_empty() => Ok(Vary::Cookie(name.trim().to_owned())),
            Some(("header", name)) => axum::http::HeaderName::try_from(name.trim())
                .map(|h| Vary::Header(h.as_str().to_owned()))
                .map_err(|_| v.clone()),
            None => axum::http::HeaderName::try_from(v.trim())
                .map(|h| Vary::Header(h.as_str().to_owned()))
                .map_err(|_| v.clone()),
            _ => Err(v.clone()),
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|v| {
            ConfigError::at(file, line, format!("cache vary: `{v}` is neither `cookie:NAME` nor a header name"))
        })?;
    Ok(Some(CacheRule { ttl, vary }))
}

/// `upload:` of a route: what a `multipart/form-data` body may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadLimits {
    /// The whole body, in bytes.
    pub max_size: u64,
    /// One file, in bytes.
    pub max_file_size: u64,
    /// Number of files.
    pub max_files: usize,
    /// Accepted MIME types (`image/png`, `image/*`); empty accepts any.
    pub types: Vec<String>,
}

impl Default for UploadLimits {
    /// Without `upload:`, a route takes small multipart forms only (2 MiB, 10 files).
    fn default() -> Self {
        Self { max_size: 2 * 1024 * 1024, max_file_size: 2 * 1024 * 1024, max_files: 10, types: Vec::new() }
    }
}

impl UploadLimits {
    /// Whether a file declared as `content_type` may be uploaded.
    pub(crate) fn accepts(&self, content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        self.types.is_empty()
            || self.types.iter().any(|t| match t.strip_suffix("/*") {
                Some(top) => essence.split('/').next() == Some(top),
                None => *t == essence,
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpload {
    max_size: Option<Value>,
    max_file_size: Option<Value>,
    max_files: Option<usize>,
    #[serde(default)]
    types: Vec<String>,
}

/// `5242880`, `5 MiB`, `5MB`, `512 KiB`: a size in bytes.
fn size_of(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let text = value.as_str()?.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = (text[..split].trim().parse::<f64>().ok()?, text[split..].trim());
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "kib" | "k" => 1024.0,
        "mb" => 1e6,
        "mib" | "m" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * scale) as u64)
}

fn upload_limits(raw: Option<RawUpload>, file: &Path, line: usize) -> Result<UploadLimits, ConfigError> {
    let Some(raw) = raw else { return Ok(UploadLimits::default()) };
    let size = |value: Option<Value>, what: &str| match value {
        None => Ok(None),
        Some(v) => size_of(&v).map(Some).ok_or_else(|| {
            ConfigError::at(file, line, format!("upload {what}: `{v:?}` is not a size (e.g. 5242880 or \"5 MiB\")"))
        }),
    };
    let max_size = size(raw.max_size, "max_size")?.unwrap_or(UploadLimits::default().max_size);
    let max_file_size = size(raw.max_file_size, "max_file_size")?.unwrap_or(max_size);
    Ok(UploadLimits {
        max_size,
        max_file_size,
        max_files: raw.max_files.unwrap_or(UploadLimits::default().max_files),
        types: raw.types.into_iter().map(|t| t.to_ascii_lowercase()).collect(),
    })
}

/// `routes.yml` as parsed.
#[derive(Debug, Clone)]
pub(crate) struct RoutesFile {
    /// Where it was read from.
    pub file: PathBuf,
    /// `root:` controller name, with its line.
    pub root: Option<(String, usize)>,
    /// `resources:` names, with their lines.
    pub resources: Vec<(String, usize)>,
    /// Explicit routes in file order.
    pub routes: Vec<RouteEntry>,
    /// Default layout.
    pub layout: LayoutChoice,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    root: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    routes: Option<Mapping>,
    #[serde(default, deserialize_with = "present")]
    layout: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLong {
    controller: String,
    template: Option<String>,
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default, deserialize_with = "present")]
    layout: Option<Value>,
    #[serde(default)]
    isolate: bool,
    csrf: Option<bool>,
    upload: Option<RawUpload>,
    #[serde(default)]
    prerender: bool,
    #[serde(default)]
    live: Vec<String>,
    cache: Option<RawCache>,
}

/// Keeps an explicit `null` as `Some(Value::Null)` (serde would make it `None`), so
/// `layout: null` can mean "no layout" while an absent key means "inherit".
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl RoutesFile {
    /// Reads and parses `path`.
    ///
    /// # Errors
    /// A missing file, a YAML error, an unknown key or a value of the wrong shape, as a
    /// [`ConfigError`] naming the file and line.
    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { file: path.to_owned(), source })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the contents of `file`.
    ///
    /// # Errors
    /// As [`RoutesFile::load`].
    pub(crate) fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        // A byte-order mark (Windows editors write one) is not a second document.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines = Lines(text.lines().collect());
        let yaml_error = |e: serde_yaml::Error| {
            let mut line = e.location().map_or(1, |l| l.line());
            // serde_yaml names the mapping of a key written twice: name the second key.
            if let Some(key) =
                e.to_string().split("duplicate entry with key \"").nth(1).and_then(|k| k.split('"').next())
            {
                line = lines.of_key(key, lines.of_key(key, line) + 1);
            }
            ConfigError::at(file, line, e.to_string())
        };
        let raw: Raw = if text.trim().is_empty() {
            return Err(ConfigError::File {
                file: file.to_owned(),
                message: "the file is empty; declare at least `root:` or `routes:`".into(),
            });
        } else {
            serde_yaml::from_str(text).map_err(yaml_error)?
        };
        let layout = layout_choice(raw.layout, file, lines.of_key("layout", 0))?;
        let mut routes = Vec::new();
        let mut search_from = lines.of_key("routes", 0);
        for (key, value) in raw.routes.unwrap_or_default() {
            let line = match &key {
                Value::String(path) => lines.of_key(path, search_from),
                _ => search_from,
            };
            search_from = line;
            let Value::String(path) = key else {
                return Err(ConfigError::at(file, line, "a route's key must be a path string like `/about`"));
            };
            let spec = route_spec(value, file, line, &path)?;
            routes.push(RouteEntry { path, spec, line });
        }
        let resources_line = lines.of_key("resources", 0);
        Ok(Self {
            file: file.to_owned(),
            root: raw.root.map(|r| (r, lines.of_key("root", 0))),
            resources: raw
                .resources
                .into_iter()
                .map(|r| {
                    let line = lines.of_item(&r, resources_line);
                    (r, line)
                })
                .collect(),
            routes,
            layout,
        })
    }
}

fn route_spec(value: Value, file: &Path, line: usize, path: &str) -> Result<RouteSpec, ConfigError> {
    match value {
        Value::String(controller) => Ok(RouteSpec {
            controller,
            template: None,
            methods: Vec::new(),
            layout: LayoutChoice::Inherit,
            options: RouteOptions::default(),
        }),
        Value::Mapping(_) => {
            let long: RawLong = serde_yaml::from_value(value)
                .map_err(|e| ConfigError::at(file, line, format!("route `{path}`: {e}")))?;
            Ok(RouteSpec {
                controller: long.controller,
                template: long.template,
                methods: long.methods,
                layout: layout_choice(long.layout, file, line)?,
                options: RouteOptions {
                    isolate: long.isolate,
                    csrf: long.csrf.unwrap_or(true),
                    upload: upload_limits(long.upload, file, line)?,
                    prerender: long.prerender,
                    live: long.live,
                    cache: cache_rule(long.cache, file, line)?,
                },
            })
        }
        other => Err(ConfigError::at(
            file,
            line,
            format!(
                "route `{path}`: expected a controller name or a mapping with `controller:`, found {}",
                kind(&other)
            ),
        )),
    }
}

fn layout_choice(value: Option<Value>, file: &Path, line: usize) -> Result<LayoutChoice, ConfigError> {
    match value {
        None => Ok(LayoutChoice::Inherit),
        Some(Value::Null) => Ok(LayoutChoice::Disabled),
        Some(Value::String(s)) => Ok(LayoutChoice::Template(s)),
        Some(other) => Err(ConfigError::at(
            file,
            line,
            format!("`layout` must be a template path or null, found {}", kind(&other)),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Finds the line of a key in the source text. serde_yaml keeps no spans for values, so
/// semantic errors locate their entry by its key, searching from a known earlier line
/// (the lines split once: each search starts where it starts, not from the top).
struct Lines<'a>(Vec<&'a str>);

impl Lines<'_> {
    /// 1-based line of `key:` (plain or quoted) at or after line `from`; `from.max(1)` if absent.
    fn of_key(&self, key: &str, from: usize) -> usize {
        let candidates = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")];
        self.find(from, |t| candidates.iter().any(|c| t.starts_with(c.as_str())))
    }

    /// 1-based line of a list item or inline list containing `item`.
    fn of_item(&self, item: &str, from: usize) -> usize {
        self.find(from, |t| t.contains(item))
    }

    fn find(&self, from: usize, matches: impl Fn(&str) -> bool) -> usize {
        let start = from.saturating_sub(1).min(self.0.len());
        self.0[start..]
            .iter()
            .position(|l| matches(l.trim_start().trim_start_matches("- ")))
            .map_or(from.max(1), |i| start + i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_limits_and_sizes() {
        let text = "routes:\n  /up:\n    controller: up\n    csrf: false\n    upload:\n      max_size: 5 MiB\n      max_files: 1\n      types: [image/*, application/pdf]\n";
        let file = RoutesFile::parse(Path::new("routes.yml"), text).unwrap();
        let spec = &file.routes[0].spec;
        assert!(!spec.options.csrf);
        assert_eq!(spec.options.upload.max_size, 5 * 1024 * 1024);
        assert_eq!(spec.options.upload.max_file_size, 5 * 1024 * 1024);
        assert!(spec.options.upload.accepts("image/png") && spec.options.upload.accepts("application/pdf; x=y"));
        assert!(!spec.options.upload.accepts("text/html"));
        let bad = "routes:\n  /up:\n    controller: up\n    upload:\n      max_size: lots\n";
        let err = RoutesFile::parse(Path::new("routes.yml"), bad).unwrap_err().to_string();
        assert!(err.starts_with("routes.yml:2:") && err.contains("not a size"), "{err}");
    }

    fn parse(text: &str) -> Result<RoutesFile, ConfigError> {
        RoutesFile::parse(Path::new("routes.yml"), text)
    }

    #[test]
    fn cache_rules() {
        let text = "routes:\n  /p:\n    controller: p\n    cache:\n      ttl: 10s\n      vary: [cookie:theme, Accept-Language, header:x-tenant]\n  /q:\n    controller: q\n    cache: {ttl: 500ms}\n";
        let file = parse(text).unwrap();
        let rule = file.routes[0].spec.options.cache.clone().unwrap();
        assert_eq!(rule.ttl, std::time::Duration::from_secs(10));
        assert_eq!(
            rule.vary,
            [Vary::Cookie("theme".into()), Vary::Header("accept-language".into()), Vary::Header("x-tenant".into())]
        );
        assert_eq!(file.routes[1].spec.options.cache.as_ref().unwrap().ttl, std::time::Duration::from_millis(500));
        for bad in ["ttl: soon", "ttl: 0", "ttl: 1s\n      vary: [\"bad header\"]", "ttl: 1s\n      size: 3"] {
            let err = parse(&format!("routes:\n  /p:\n    controller: p\n    cache:\n      {bad}\n")).unwrap_err();
            assert!(err.to_string().starts_with("routes.yml:2:"), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_every_form_with_lines() {
        let file = parse(
            "root: home\nresources: [posts]\nroutes:\n  /about: pages.about\n  /users/{id}:\n    controller: users.show\n    methods: [GET, POST]\n    layout: null\nlayout: layouts/main.svelte\n",
        )
        .unwrap();
        assert_eq!(file.root, Some(("home".into(), 1)));
        assert_eq!(file.resources, vec![("posts".into(), 2)]);
        assert_eq!(file.routes[0].path, "/about");
        assert_eq!(file.routes[0].line, 4);
        assert_eq!(file.routes[1].line, 5);
        assert_eq!(file.routes[1].spec.methods, ["GET", "POST"]);
        assert_eq!(file.routes[1].spec.layout, LayoutChoice::Disabled);
        assert_eq!(file.layout, LayoutChoice::Template("layouts/main.svelte".into()));
    }

    #[test]
    fn unknown_top_level_key_names_its_line() {
        let err = parse("root: home\nroutez:\n  /a: b\n").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.to_string().contains("routez"), "{err}");
    }

    #[test]
    fn unknown_route_key_names_the_route_line() {
        let err = parse("routes:\n  /a: a\n  /b:\n    contoller: b\n").unwrap_err();
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(err.to_string().contains("contoller"), "{err}");
    }

    #[test]
    fn yaml_syntax_error_names_its_line() {
        let err = parse("root: home\nroutes:\n  /a: [unclosed\n").unwrap_err();
        assert!(err.line().is_some(), "{err}");
        assert!(err.to_string().starts_with("routes.yml:"), "{err}");
    }

    #[test]
    fn duplicate_path_is_refused() {
        let err = parse("routes:\n  /a: a\n  /a: b\n").unwrap_err();
        assert!(err.to_string().contains("duplicate"), "{err}");
        assert!(err.line().is_some(), "{err}");
    }
}
