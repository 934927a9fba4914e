//! [`Reloader`]: turns a burst of [`Changes`] into a rebuild, a new [`Site`] swapped in
//! whole, and an event for the browsers. Requests in flight finish on the site they
//! started with.

use std::sync::Arc;
use std::time::Instant;

use super::{Changes, DevError, DevHub};
use crate::build::{BuildError, BuildOptions, CompileError, DevBuilder};
use crate::config::ConfigError;
use crate::server::{AppState, Site, SiteError, SiteOptions};
use crate::App;

/// What one reload did, for the terminal.
#[derive(Debug)]
pub enum Reloaded {
    /// Pages must reload.
    Full,
    /// Only stylesheets changed.
    Css,
    /// The app is broken.
    Failed(DevError),
    /// Nothing to do (only Rust files changed).
    Nothing,
}

/// Owns the long-lived node-tools process and swaps sites.
pub struct Reloader {
    app: App,
    options: SiteOptions,
    builder: DevBuilder,
    state: AppState,
    hub: Arc<DevHub>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").field("root", &self.options.root).finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader serving into `state`.
    pub fn new(
        app: App,
        options: SiteOptions,
        builder: DevBuilder,
        state: AppState,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        let hub = state.dev.clone().expect("dev state has a hub");
        Self { app, options, builder, state, hub, runtime }
    }

    /// Applies `changes`: rebuild if templates changed, reload the site, notify browsers.
    pub fn apply(&mut self, changes: &Changes) -> Reloaded {
        if !changes.needs_reload() {
            return Reloaded::Nothing;
        }
        if changes.templates {
            if let Err(e) = self.rebuild() {
                return self.fail(build_error(e));
            }
        }
        let previous = self.state.site.load_full();
        let next = {
            let _context = self.runtime.enter(); // a first Python pool spawns on the runtime
            Site::load_reusing(previous.as_deref(), &self.app, self.options.clone(), changes.python)
        };
        let site = match next {
            Ok(site) => site,
            Err(e) => return self.fail(site_error(e)),
        };
        let css_only = !changes.routes
            && !changes.python
            && !changes.shell
            && self.hub.error().is_none()
            && previous.as_ref().is_some_and(|p| p.manifest.css_only_change(&site.manifest));
        let version = site.manifest.version.clone();
        let css = css_only.then(|| site.manifest.css_files());
        self.state.site.store(Some(Arc::new(site)));
        self.hub.succeed(version, css);
        if css_only {
            Reloaded::Css
        } else {
            Reloaded::Full
        }
    }

    /// One build; a node-tools process that died is started again once.
    fn rebuild(&mut self) -> Result<(), BuildError> {
        match self.builder.build(|_| {}) {
            Err(BuildError::Tool { what, source }) => {
                tracing::warn!(target: "fymo::dev", %what, error = %source, "node-tools stopped: starting it again");
                self.builder = DevBuilder::start(&self.options.root, &BuildOptions::default())?;
                self.builder.build(|_| {})
            }
            other => other,
        }
    }

    fn fail(&self, error: DevError) -> Reloaded {
        self.hub.fail(error.clone());
        Reloaded::Failed(error)
    }
}

fn compile_error(e: &CompileError) -> DevError {
    DevError {
        kind: "compile".into(),
        message: e.message.clone(),
        file: e.file.clone(),
        line: e.line,
        column: e.column,
        frame: e.frame.clone(),
        stack: None,
    }
}

fn build_error(e: BuildError) -> DevError {
    match &e {
        BuildError::Compile(errors) if !errors.is_empty() => compile_error(&errors[0]),
        _ => DevError::new("build", e.to_string()),
    }
}

fn site_error(e: SiteError) -> DevError {
    match e {
        SiteError::Config(ConfigError::At { file, line, message }) => DevError {
            file: Some(
                file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned()),
            ),
            line: u32::try_from(line).ok(),
            ..DevError::new("routes", message)
        },
        SiteError::Config(other) => DevError::new("routes", other.to_string()),
        SiteError::Engine(engine) => {
            let stack = engine.stack().map(str::to_owned);
            DevError { stack, ..DevError::new("render", engine.to_string()) }
        }
        other => DevError::new("build", other.to_string()),
    }
}

/// Prints one line per reload, and errors readably.
pub fn report(changes: &Changes, result: &Reloaded, started: Instant) {
    let files: Vec<String> = changes.files.iter().map(|f| f.display().to_string()).collect();
    let ms = started.elapsed().as_millis();
    for rust in &changes.rust {
        eprintln!(
            "fymo: {} changed: Rust controllers are compiled into the binary; rebuild and restart (cargo run) to use it",
            rust.display()
        );
    }
    match result {
        Reloaded::Full if files.is_empty() => eprintln!("fymo: built in {ms} ms"),
        Reloaded::Full => eprintln!("fymo: rebuilt in {ms} ms ({}) -> reload", files.join(", ")),
        Reloaded::Css => eprintln!("fymo: rebuilt in {ms} ms ({}) -> css update", files.join(", ")),
        Reloaded::Nothing => {}
        Reloaded::Failed(e) => {
            let place = match e.place() {
                p if p.is_empty() => p,
                p => format!("{p}: "),
            };
            eprintln!("fymo: {} error after {ms} ms ({})\n  {place}{}", e.kind, files.join(", "), e.message);
            if let Some(frame) = &e.frame {
                eprintln!("{frame}");
            }
        }
    }
}
