//! [`Site`]: everything needed to answer requests for one app and one build.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::build::{self, Manifest, ManifestError};
use crate::config::{ConfigError, RoutesFile};
use crate::controller::python::{self, PythonConfig, PythonController, PythonPool};
use crate::controller::{Controller, Language, Registry};
use crate::document::{Document, Shell, ShellError};
use crate::engine::{Engine, EngineError, EnginePool, PoolConfig};
use crate::router::RouteTable;
use crate::App;

use super::assets::Assets;

/// Serving settings.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// The app directory.
    pub root: PathBuf,
    /// Which JavaScript engine renders.
    pub engine: Engine,
    /// Engine pool settings.
    pub pool: PoolConfig,
    /// Python worker pool settings.
    pub python: PythonConfig,
    /// Error details in responses (development).
    pub dev: bool,
    /// Include the dev client (live reload, overlay) in pages.
    pub live_reload: bool,
}

/// Why a site could not start.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// `routes.yml` is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The build output is missing or broken.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// `templates/app.html` is wrong.
    #[error(transparent)]
    Shell(#[from] ShellError),
    /// The SSR bundle does not load.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A route names a component the build lacks.
    #[error("{}:{line}: `{component}` is not in the build; run `fymo build`", .file.display())]
    NotBuilt {
        /// routes.yml.
        file: PathBuf,
        /// The route's line.
        line: usize,
        /// The component.
        component: String,
    },
    /// Reading the built client files or writing the Python worker failed.
    #[error("reading build output: {0}")]
    Io(#[from] std::io::Error),
}

/// One app, loaded and ready: routes, controllers, engine pool, manifest, document, assets.
pub struct Site {
    /// Settings it was started with.
    pub options: SiteOptions,
    /// The route table.
    pub routes: RouteTable,
    /// Rust controllers.
    pub controllers: Registry,
    /// The engine pool.
    pub pool: EnginePool,
    /// The build manifest.
    pub manifest: Arc<Manifest>,
    /// The document builder.
    pub document: Document,
    /// Client files served under `/_fymo/`.
    pub assets: Assets,
    /// Python controllers by name.
    pub python_files: BTreeMap<String, PathBuf>,
    /// The Python worker pool, when the app has Python controllers.
    pub python: Option<PythonPool>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("root", &self.options.root).finish_non_exhaustive()
    }
}

/// Reads and validates `routes.yml` under `root` against `controllers`.
///
/// # Errors
/// Any [`ConfigError`].
/// Rust controllers win over Python files of the same name.
pub fn load_routes(root: &Path, controllers: &Registry) -> Result<RouteTable, ConfigError> {
    let file = RoutesFile::load(&root.join("routes.yml"))?;
    let python_files = python::discover(root);
    RouteTable::build(&file, root, &|name| language_of(name, controllers, &python_files))
}

fn language_of(name: &str, rust: &Registry, python: &BTreeMap<String, PathBuf>) -> Option<Language> {
    if rust.rust(name).is_some() {
        Some(Language::Rust)
    } else {
        python.contains_key(name).then_some(Language::Python)
    }
}

impl Site {
    /// Loads the app at `options.root` with its current build. Starts the Python pool
    /// when there are Python controllers, so it must run inside a tokio runtime.
    ///
    /// # Errors
    /// See [`SiteError`]; nothing is served half-configured.
    pub fn load(app: &App, options: SiteOptions) -> Result<Self, SiteError> {
        Self::load_reusing(None, app, options, false)
    }

    /// Loads the app again after a change, keeping `previous`'s engine pool (reloaded
    /// with the new SSR bundle only when it changed) and Python pool (recycled when
    /// `python_changed`). Nothing of `previous` changes if this fails.
    ///
    /// # Errors
    /// As [`Site::load`].
    pub fn load_reusing(
        previous: Option<&Site>,
        app: &App,
        options: SiteOptions,
        python_changed: bool,
    ) -> Result<Self, SiteError> {
        let root = &options.root;
        let routes = load_routes(root, app.controllers())?;
        let manifest = Manifest::load(&build::output_dir(root))?;
        for route in routes.routes() {
            for component in route.page.iter().chain(route.layout.iter()) {
                if !manifest.components.contains_key(component) {
                    return Err(SiteError::NotBuilt {
                        file: root.join("routes.yml"),
                        line: route.line,
                        component: component.clone(),
                    });
                }
            }
        }
        let document = Document::new(Shell::load(root)?, options.live_reload);
        let assets = Assets::load_reusing(&manifest.client_dir(), previous.map(|p| &p.assets))?;
        let pool = match previous {
            Some(p) if p.manifest.ssr_hash == manifest.ssr_hash && !manifest.ssr_hash.is_empty() => p.pool.clone(),
            Some(p) => {
                p.pool.reload(manifest.ssr_source()?)?;
                p.pool.clone()
            }
            None => EnginePool::start(options.engine, manifest.ssr_source()?, options.pool)?,
        };
        let python_files = python::discover(root);
        let python = match previous.and_then(|p| p.python.clone()) {
            Some(pool) => {
                if python_changed {
                    pool.recycle();
                }
                Some(pool)
            }
            None if python_files.is_empty() => None,
            None => Some(PythonPool::start(root, options.python.clone())?),
        };
        Ok(Self {
            python_files,
            python,
            routes,
            controllers: app.controllers().clone(),
            pool,
            manifest: Arc::new(manifest),
            document,
            assets,
            options,
        })
    }

    /// The controller called `name`, and its language.
    pub fn controller(&self, name: &str) -> Option<(Arc<dyn Controller>, Language)> {
        if let Some(c) = self.controllers.rust(name) {
            return Some((c, Language::Rust));
        }
        let (file, pool) = (self.python_files.get(name)?, self.python.as_ref()?);
        let controller = PythonController::new(name, file.clone(), pool.clone());
        Some((Arc::new(controller), Language::Python))
    }
}
