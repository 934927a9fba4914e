//! [`RouteTable`]: validated routes and the path matcher.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::Method;

use crate::config::{valid_topic, ConfigError, LayoutChoice, RouteOptions, RoutesFile};
use crate::controller::Language;

/// One validated route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// Path pattern (`/products/{id}`).
    pub pattern: String,
    /// Allowed methods (HEAD is implied by GET).
    pub methods: Vec<Method>,
    /// Controller name (`products.show`).
    pub name: String,
    /// The language of the controller of that name, if one exists (otherwise the
    /// template gets empty props).
    pub controller: Option<Language>,
    /// Page component (`products/show`); `None` makes the route a JSON endpoint.
    pub page: Option<String>,
    /// Layout components wrapping the page, outermost first: the app's (`layout:`), then
    /// each `_layout.svelte` of the page's folders, from the top down.
    pub layouts: Vec<String>,
    /// Its options from routes.yml (defaults for a route `resources:` or `root:` made).
    pub options: RouteOptions,
    /// Line in routes.yml.
    pub line: usize,
}

/// A route matched against a path, with its decoded parameters.
#[derive(Debug)]
pub(crate) struct Matched<'a> {
    /// The route.
    pub route: &'a Route,
    /// Path parameters, percent-decoded.
    pub params: BTreeMap<String, String>,
}

/// All routes of an app, ready to match.
#[derive(Debug, Clone)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
    matcher: matchit::Router<usize>,
    default_layout: Option<String>,
}

/// `a.b` -> `a/b` (the component and template name).
fn component_of(name: &str) -> String {
    name.replace('.', "/")
}

/// `layouts/main.svelte` -> `layouts/main`.
fn component_of_template(template: &str) -> String {
    template.trim_start_matches('/').trim_end_matches(".svelte").to_owned()
}

struct Resolver<'a> {
    file: &'a Path,
    templates: PathBuf,
    controller_of: &'a dyn Fn(&str) -> Option<Language>,
}

impl Resolver<'_> {
    fn template_exists(&self, component: &str) -> bool {
        self.templates.join(format!("{component}.svelte")).is_file()
    }

    fn layout(
        &self,
        choice: &LayoutChoice,
        default: &Option<String>,
        line: usize,
    ) -> Result<Option<String>, ConfigError> {
        match choice {
            LayoutChoice::Inherit => Ok(default.clone()),
            LayoutChoice::Disabled => Ok(None),
            LayoutChoice::Template(t) => {
                let component = component_of_template(t);
                if self.template_exists(&component) {
                    Ok(Some(component))
                } else {
                    Err(ConfigError::at(
                        self.file,
                        line,
                        format!("layout `{t}` not found (looked for {})", self.templates.join(t).display()),
                    ))
                }
            }
        }
    }

    /// `app` (the app's layout, if any), then the `_layout.svelte` of every folder of
    /// `page`, outermost first.
    fn chain(&self, app: Option<String>, page: Option<&str>) -> Vec<String> {
        let mut chain: Vec<String> = app.into_iter().collect();
        let Some(page) = page else { return chain };
        let folders: Vec<&str> = page.split('/').collect();
        for depth in 1..folders.len() {
            let layout = format!("{}/_layout", folders[..depth].join("/"));
            if self.template_exists(&layout) && !chain.contains(&layout) {
                chain.push(layout);
            }
        }
        chain
    }

    fn route(&self, pattern: &str, name: &str, template: Option<&str>, line: usize) -> Result<Route, ConfigError> {
        let controller = (self.controller_of)(name);
        let page = match template {
            Some(t) => {
                let component = component_of_template(t);
                if !self.template_exists(&component) {
                    return Err(ConfigError::at(
                        self.file,
                        line,
                        format!("template `{t}` not found (looked for {})", self.templates.join(t).display()),
                    ));
                }
                Some(component)
            }
            None => Some(component_of(name)).filter(|c| self.template_exists(c)),
        };
        if page.is_none() && controller.is_none() {
            return Err(ConfigError::at(
                self.file,
                line,
                format!(
                    "`{name}` has neither a controller nor a template (looked for {})",
                    self.templates.join(format!("{}.svelte", component_of(name))).display()
                ),
            ));
        }
        Ok(Route {
            pattern: pattern.to_owned(),
            methods: vec![Method::GET],
            name: name.to_owned(),
            controller,
            page,
            layouts: Vec::new(),
            options: RouteOptions::default(),
            line,
        })
    }
}

impl RouteTable {
    /// Validates `file` against the app at `root`.
    ///
    /// # Errors
    /// Duplicate or malformed paths, unknown methods, missing templates or layouts, and
    /// names with neither controller nor template, each naming its line.
    pub(crate) fn build(
        file: &RoutesFile,
        root: &Path,
        controller_of: &dyn Fn(&str) -> Option<Language>,
    ) -> Result<Self, ConfigError> {
        let resolver = Resolver { file: &file.file, templates: root.join("templates"), controller_of };
        let default_layout = resolver.layout(&file.layout, &None, 1)?;
        let mut routes = Vec::new();
        let with_layout = |mut r: Route| {
            r.layouts = resolver.chain(default_layout.clone(), r.page.as_deref());
            r
        };
        if let Some((name, line)) = &file.root {
            routes.push(with_layout(resolver.route("/", name, None, *line)?));
        }
        for (resource, line) in &file.resources {
            routes.push(with_layout(resolver.route(
                &format!("/{resource}"),
                &format!("{resource}.index"),
                None,
                *line,
            )?));
            routes.push(with_layout(resolver.route(
                &format!("/{resource}/{{id}}"),
                &format!("{resource}.show"),
                None,
                *line,
            )?));
        }
        for entry in &file.routes {
            let mut route =
                resolver.route(&entry.path, &entry.spec.controller, entry.spec.template.as_deref(), entry.line)?;
            let app_layout = resolver.layout(&entry.spec.layout, &default_layout, entry.line)?;
            route.layouts = match entry.spec.layout {
                LayoutChoice::Disabled => Vec::new(), // `layout: null`: no layout at all
                _ => resolver.chain(app_layout, route.page.as_deref()),
            };
            route.options = entry.spec.options.clone();
            if !entry.spec.methods.is_empty() {
                route.methods = entry
                    .spec
                    .methods
                    .iter()
                    .map(|m| {
                        parse_method(m)
                            .ok_or_else(|| ConfigError::at(&file.file, entry.line, format!("unknown method `{m}`")))
                    })
                    .collect::<Result<_, _>>()?;
            }
            routes.push(route);
        }
        let mut table = Self::from_routes(&file.file, routes)?;
        table.default_layout = default_layout;
        Ok(table)
    }

    fn from_routes(file: &Path, routes: Vec<Route>) -> Result<Self, ConfigError> {
        let mut matcher = matchit::Router::new();
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::with_capacity(routes.len());
        for (index, route) in routes.iter().enumerate() {
            check_pattern(route).map_err(|message| ConfigError::at(file, route.line, message))?;
            if let Some(earlier) = seen.insert(route.pattern.as_str(), route.line) {
                return Err(ConfigError::at(
                    file,
                    route.line,
                    format!("duplicate path `{}` (already defined on line {earlier})", route.pattern),
                ));
            }
            matcher
                .insert(route.pattern.as_str(), index)
                .map_err(|e| ConfigError::at(file, route.line, format!("bad path pattern `{}`: {e}", route.pattern)))?;
        }
        Ok(Self { routes, matcher, default_layout: None })
    }

    /// The route for `path`, if any, with decoded params.
    pub(crate) fn find(&self, path: &str) -> Option<Matched<'_>> {
        let found = self.matcher.at(path).ok()?;
        let params = found
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
            .collect();
        Some(Matched { route: &self.routes[*found.value], params })
    }

    /// The file's default layout (used for the app's error page too).
    pub(crate) fn default_layout(&self) -> Option<&str> {
        self.default_layout.as_deref()
    }

    /// All routes in declaration order.
    pub(crate) fn routes(&self) -> &[Route] {
        &self.routes
    }
}

/// What matchit does not check of a route's pattern, and its live topics against it.
fn check_pattern(route: &Route) -> Result<(), String> {
    let pattern = &route.pattern;
    if !pattern.starts_with('/') {
        return Err(format!("path `{pattern}` must start with `/`"));
    }
    if let Some(c) = pattern.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("path {pattern:?} holds {c:?}, which a URL path cannot (percent-encode it)"));
    }
    let params = params_of(pattern);
    for (i, name) in params.iter().enumerate() {
        if params[..i].contains(name) {
            return Err(format!("path `{pattern}` names the parameter `{name}` twice"));
        }
    }
    for topic in &route.options.live {
        let mut filled = topic.clone();
        for name in params_of(topic) {
            if !params.contains(&name) {
                return Err(format!("live topic `{topic}`: `{{{name}}}` is not a parameter of `{pattern}`"));
            }
            filled = filled.replace(&format!("{{{name}}}"), "x");
        }
        if !valid_topic(&filled) {
            return Err(format!(
                "live topic `{topic}` is not a valid topic name (1 to 200 characters of letters, digits and `:._-/@`)"
            ));
        }
    }
    Ok(())
}

/// The `{name}` and `{*name}` parameters of a pattern, in order.
fn params_of(pattern: &str) -> Vec<&str> {
    pattern
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}'))
        .map(|(name, _)| name.trim_start_matches('*'))
        .collect()
}

fn parse_method(m: &str) -> Option<Method> {
    let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok()?;
    [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(&method).then_some(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let path = dir.path().join("templates").join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "<p>x</p>").unwrap();
        }
        dir
    }

    fn table(dir: &tempfile::TempDir, yaml: &str, controllers: &[&str]) -> Result<RouteTable, ConfigError> {
        let file = RoutesFile::parse(&dir.path().join("routes.yml"), yaml)?;
        RouteTable::build(&file, dir.path(), &|n| controllers.contains(&n).then_some(Language::Rust))
    }

    #[test]
    fn folder_layouts_nest_inside_the_app_layout() {
        let dir = app(&[
            "layouts/main.svelte",
            "docs/_layout.svelte",
            "docs/guide/_layout.svelte",
            "docs/guide/intro.svelte",
            "docs/index.svelte",
            "docs/bare.svelte",
        ]);
        let yaml = "routes:\n  /docs: docs.index\n  /docs/intro: docs.guide.intro\n  /bare:\n    controller: docs.bare\n    layout: null\nlayout: layouts/main.svelte\n";
        let t = table(&dir, yaml, &[]).unwrap();
        assert_eq!(t.find("/docs").unwrap().route.layouts, ["layouts/main", "docs/_layout"]);
        assert_eq!(
            t.find("/docs/intro").unwrap().route.layouts,
            ["layouts/main", "docs/_layout", "docs/guide/_layout"]
        );
        assert!(t.find("/bare").unwrap().route.layouts.is_empty(), "layout: null opts out of every layout");
    }

    #[test]
    fn resolves_root_resources_and_explicit_routes() {
        let dir =
            app(&["home.svelte", "posts/index.svelte", "posts/show.svelte", "layouts/main.svelte", "docs/page.svelte"]);
        let t = table(
            &dir,
            "root: home\nresources: [posts]\nroutes:\n  /docs/{*path}: docs.page\n  /api/ping:\n    controller: api.ping\n    methods: [get, post]\n    layout: null\nlayout: layouts/main.svelte\n",
            &["api.ping"],
        )
        .unwrap();
        let m = t.find("/posts/4%202").unwrap();
        assert_eq!(m.route.name, "posts.show");
        assert_eq!(m.params["id"], "4 2");
        assert_eq!(m.route.layouts, ["layouts/main"]);
        let docs = t.find("/docs/a/b/c").unwrap();
        assert_eq!(docs.params["path"], "a/b/c");
        let api = t.find("/api/ping").unwrap().route;
        assert_eq!(api.page, None, "no template: a JSON endpoint");
        assert_eq!(api.methods, [Method::GET, Method::POST]);
        assert!(api.layouts.is_empty());
        assert!(t.find("/nope").is_none());
    }

    #[test]
    fn duplicate_path_across_forms_names_line() {
        let dir = app(&["posts/index.svelte", "posts/show.svelte", "x.svelte"]);
        let err = table(&dir, "resources: [posts]\nroutes:\n  /posts: x\n", &[]).unwrap_err();
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(err.to_string().contains("duplicate path `/posts`"), "{err}");
    }

    #[test]
    fn missing_template_and_controller_is_refused() {
        let dir = app(&[]);
        let err = table(&dir, "routes:\n  /a: nothing.here\n", &[]).unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert!(err.to_string().contains("neither a controller nor a template"), "{err}");
    }

    #[test]
    fn explicit_missing_template_is_refused() {
        let dir = app(&[]);
        let err = table(&dir, "routes:\n  /a:\n    controller: a\n    template: gone.svelte\n", &["a"]).unwrap_err();
        assert!(err.to_string().contains("template `gone.svelte` not found"), "{err}");
    }

    #[test]
    fn bad_pattern_and_method_are_refused() {
        let dir = app(&["a.svelte"]);
        let err = table(&dir, "routes:\n  /x/{id:\n    controller: a\n", &[]).unwrap_err();
        assert!(err.to_string().contains("bad path pattern"), "{err}");
        let err = table(&dir, "routes:\n  /x:\n    controller: a\n    methods: [FETCH]\n", &[]).unwrap_err();
        assert!(err.to_string().contains("unknown method `FETCH`"), "{err}");
        let err = table(&dir, "routes:\n  x: a\n", &[]).unwrap_err();
        assert!(err.to_string().contains("must start with `/`"), "{err}");
    }

    #[test]
    fn repeated_params_control_characters_and_bad_topics_are_refused_with_their_line() {
        let dir = app(&["a.svelte"]);
        let err = table(&dir, "routes:\n  /ok: a\n  /x/{a}/{a}: a\n", &[]).unwrap_err();
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(err.to_string().contains("names the parameter `a` twice"), "{err}");
        let err = table(&dir, "routes:\n  \"/x\\ty\": a\n", &[]).unwrap_err();
        assert!(err.to_string().contains("which a URL path cannot"), "{err}");
        let err = table(&dir, "routes:\n  /u/{id}:\n    controller: a\n    live: [\"user:{uid}\"]\n", &[]).unwrap_err();
        assert!(err.to_string().contains("`{uid}` is not a parameter of `/u/{id}`"), "{err}");
        let err = table(&dir, "routes:\n  /u/{id}:\n    controller: a\n    live: [\"a b\"]\n", &[]).unwrap_err();
        assert!(err.to_string().contains("is not a valid topic name"), "{err}");
        let ok = table(&dir, "routes:\n  /u/{id}:\n    controller: a\n    live: [\"user:{id}\", lobby]\n", &[]);
        assert!(ok.is_ok(), "{:?}", ok.err());
    }

    #[test]
    fn a_byte_order_mark_is_not_a_second_document() {
        let dir = app(&["a.svelte"]);
        assert!(table(&dir, "\u{feff}routes:\n  /a: a\n", &[]).is_ok());
    }

    #[test]
    fn fifty_thousand_routes_load_and_a_late_duplicate_names_both_lines() {
        let dir = app(&[]);
        let mut yaml = String::from("routes:\n");
        for i in 0..50_000 {
            yaml.push_str(&format!("  /r{i}/{{id}}: api.r{i}\n"));
        }
        // Every name is a controller here (JSON endpoints): only the table is exercised.
        let build = |yaml: &str| {
            let file = RoutesFile::parse(&dir.path().join("routes.yml"), yaml)?;
            RouteTable::build(&file, dir.path(), &|_| Some(Language::Rust))
        };
        let t = build(&yaml).unwrap();
        assert_eq!(t.routes().len(), 50_000);
        assert_eq!(t.find("/r49999/7").unwrap().route.line, 50_001);
        // The same path through `resources:` and as a key.
        let err = build(&format!("resources: [r49999]\n{yaml}")).unwrap_err();
        assert_eq!(err.line(), Some(50_002), "{err}");
        assert!(err.to_string().contains("duplicate path `/r49999/{id}` (already defined on line 1)"), "{err}");
        // A key written twice: YAML's own refusal, at the second one.
        yaml.push_str("  /r7/{id}: api.again\n");
        let err = build(&yaml).unwrap_err();
        assert_eq!(err.line(), Some(50_002), "{err}");
    }

    /// routes.yml texts made of the lines and values the format has (and some it has not):
    /// loading one either works or is an error that names a line of the file.
    fn routes_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let path = prop_oneof![
            Just("/".to_owned()),
            Just("/a/{id}".to_owned()),
            Just("/a/{id}/{id}".to_owned()),
            Just("/d/{*rest}".to_owned()),
            Just("/x{".to_owned()),
            Just("\"/t\\tab\"".to_owned()),
            "/[a-z{}*:.]{0,8}",
        ];
        let line = prop_oneof![
            Just("routes:".to_owned()),
            Just("root: a".to_owned()),
            Just("resources: [a, b]".to_owned()),
            Just("layout: a.svelte".to_owned()),
            Just("layout: null".to_owned()),
            path.clone().prop_map(|p| format!("  {p}: a")),
            path.prop_map(|p| format!("  {p}:\n    controller: a\n    live: [\"t:{{id}}\", \"a b\"]")),
            Just("    methods: [GET, FETCH]".to_owned()),
            Just("    upload:\n      max_size: 5 GiB".to_owned()),
            Just("    cache:\n      ttl: soon".to_owned()),
            Just("\u{feff}".to_owned()),
            "[ -~]{0,20}",
        ];
        proptest::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn any_routes_file_loads_or_names_a_line(text in routes_text()) {
            let dir = app(&["a.svelte"]);
            let lines = text.lines().count().max(1);
            match table(&dir, &text, &["a"]) {
                Ok(_) => {}
                Err(e) => proptest::prop_assert!(e.line().is_none_or(|l| (1..=lines + 1).contains(&l)), "{e}"),
            }
        }
    }
}
