//! [`Site`]: the loaded application — options, routes, one controller table, the engine
//! and Python pools, the build manifest and the document — and [`Site::render`], the one
//! path from a matched request to a page or JSON.
//!
//! A site is immutable once loaded; `fymo dev` loads a new one after each change and
//! swaps it in whole (see [`Site::load_reusing`]), reusing the pools it can.

mod cache;
mod controllers;
mod error;
mod inertia;
mod page;
mod page_object;
mod respond;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::build::{self, Manifest, ManifestError};
use crate::config::{AppFile, ConfigError, RoutesFile, SessionStoreKind, APP_FILE, ROUTES_FILE};
use crate::controller::python::{PythonConfig, PythonPool};
use crate::document::{Csp, Document, Shell, ShellError};
use crate::engine::{Engine, EngineError, EnginePool, PoolConfig};
use crate::live::{Broker, Hub};
use crate::router::RouteTable;
use crate::App;

pub(crate) use cache::matches as etag_matches;
pub(crate) use controllers::{ControllerNames, Controllers};
pub(crate) use error::{ErrorKind, ErrorReport};
pub(crate) use page_object::Partial;
pub(crate) use respond::{Format, Reply, ReplyBody};

/// How to load a site.
#[derive(Debug, Clone)]
pub(crate) struct SiteOptions {
    /// The app directory.
    pub(crate) root: PathBuf,
    /// Which JavaScript engine renders.
    pub(crate) engine: Engine,
    /// Engine pool settings.
    pub(crate) pool: PoolConfig,
    /// Python worker pool settings.
    pub(crate) python: PythonConfig,
    /// Pages carry the dev client (live reload, overlay): `fymo dev` only.
    pub(crate) dev_client: bool,
    /// Signs and encrypts session cookies (see [`crate::config::AppFile::secret`]).
    pub(crate) secret: String,
    /// This process's live topics and subscribers (kept across `fymo dev` reloads).
    pub(crate) live: Arc<Hub>,
    /// Where live messages go.
    pub(crate) broker: Broker,
}

/// Why a site could not load.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SiteError {
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
    /// Writing the Python worker failed.
    #[error("starting the Python pool: {0}")]
    Io(#[from] std::io::Error),
}

impl SiteError {
    /// Whether the app's configuration is at fault (exit code 2), not the machine.
    pub(crate) fn is_config(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Shell(_) | Self::NotBuilt { .. })
    }

    /// The report shown by `fymo dev`'s overlay.
    pub(crate) fn report(&self) -> ErrorReport {
        match self {
            Self::Config(ConfigError::At { file, line, message }) => ErrorReport {
                file: Some(
                    file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned()),
                ),
                line: u32::try_from(*line).ok(),
                ..ErrorReport::new(ErrorKind::Routes, message.clone())
            },
            Self::Config(other) => ErrorReport::new(ErrorKind::Routes, other.to_string()),
            Self::Engine(engine) => ErrorReport {
                stack: engine.stack().map(str::to_owned),
                ..ErrorReport::new(ErrorKind::Render, engine.to_string())
            },
            other => ErrorReport::new(ErrorKind::Build, other.to_string()),
        }
    }
}

/// One app, loaded and ready to render.
pub(crate) struct Site {
    /// Settings it was loaded with.
    pub(crate) options: SiteOptions,
    /// The route table.
    pub(crate) routes: RouteTable,
    /// Every controller, by name.
    pub(crate) controllers: Controllers,
    /// The engine pool.
    pub(crate) pool: EnginePool,
    /// The build manifest.
    pub(crate) manifest: Arc<Manifest>,
    /// The document builder.
    pub(crate) document: Document,
    /// `fymo.yml`.
    pub(crate) app: AppFile,
    /// The pages' Content-Security-Policy.
    pub(crate) csp: Csp,
    /// The Python worker pool, when the app has Python controllers.
    python: Option<PythonPool>,
    /// Pages of the routes with `cache:` (a new site starts empty).
    cache: cache::RenderCache,
}

impl Site {
    /// The Python pool's state, when the app has Python controllers.
    pub(crate) fn python_health(&self) -> Option<crate::controller::python::PythonHealth> {
        self.python.as_ref().map(PythonPool::health)
    }
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("root", &self.options.root).finish_non_exhaustive()
    }
}

/// Reads and validates `routes.yml` under `root` against `names`.
fn routes_of(root: &Path, names: &ControllerNames) -> Result<RouteTable, ConfigError> {
    let file = RoutesFile::load(&root.join(ROUTES_FILE))?;
    RouteTable::build(&file, root, &|name| names.language_of(name))
}

/// Reads and validates `routes.yml` under `root` against `app`'s controllers and the
/// Python files present, without starting anything (`fymo routes`, the prefork master).
///
/// # Errors
/// Any [`ConfigError`].
pub(crate) fn load_routes(root: &Path, app: &App) -> Result<RouteTable, ConfigError> {
    routes_of(root, &ControllerNames::discover(root, app.controllers()))
}

impl Site {
    /// Loads the app at `options.root` with its current build. Starts the Python pool
    /// when there are Python controllers, so it must run inside a tokio runtime.
    ///
    /// # Errors
    /// See [`SiteError`]; nothing is served half-configured.
    pub(crate) fn load(app: &App, options: SiteOptions) -> Result<Self, SiteError> {
        Self::load_reusing(None, app, options, false)
    }

    /// Loads the app again after a change, keeping `previous`'s engine pool (reloaded
    /// with the new SSR bundle only when it changed) and Python pool (recycled when
    /// `python_changed`). Nothing of `previous` changes if this fails.
    ///
    /// # Errors
    /// As [`Site::load`].
    pub(crate) fn load_reusing(
        previous: Option<&Site>,
        app: &App,
        options: SiteOptions,
        python_changed: bool,
    ) -> Result<Self, SiteError> {
        let root = &options.root;
        let names = ControllerNames::discover(root, app.controllers());
        let routes = routes_of(root, &names)?;
        let app_file = AppFile::load(root)?;
        if app_file.session.store == SessionStoreKind::Redis && !matches!(options.broker, Broker::Redis(_)) {
            let message = "`session.store: redis` keeps sessions in the broker's Redis, and there is none: start with `--broker redis://…`, or use `store: local`".into();
            return Err(ConfigError::File { file: root.join(APP_FILE), message }.into());
        }
        let manifest = Manifest::load(&build::output_dir(root))?;
        for route in routes.routes() {
            for component in route.page.iter().chain(route.layouts.iter().filter(|_| route.page.is_some())) {
                if !manifest.components.contains_key(component) {
                    return Err(SiteError::NotBuilt {
                        file: root.join(ROUTES_FILE),
                        line: route.line,
                        component: component.clone(),
                    });
                }
            }
        }
        let document = Document::new(Shell::load(root)?, options.dev_client);
        let pool = match previous {
            Some(p) if p.manifest.ssr_hash == manifest.ssr_hash && !manifest.ssr_hash.is_empty() => p.pool.clone(),
            Some(p) => {
                p.pool.reload(manifest.ssr_source()?)?;
                p.pool.clone()
            }
            None => EnginePool::start(options.engine, manifest.ssr_source()?, options.pool)?,
        };
        let python = match previous.and_then(|p| p.python.clone()) {
            Some(pool) => {
                if python_changed {
                    pool.recycle();
                }
                Some(pool)
            }
            None if !names.has_python() => None,
            None => Some(PythonPool::start(root, options.python.clone())?),
        };
        Ok(Self {
            controllers: Controllers::new(&names, app.controllers(), python.as_ref()),
            python,
            routes,
            pool,
            manifest: Arc::new(manifest),
            document,
            csp: Csp::new(&app_file.csp),
            app: app_file,
            options,
            cache: cache::RenderCache::default(),
        })
    }
}
