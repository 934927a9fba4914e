//! [`Reloader`]: turns a burst of [`Changes`] into a rebuild, a new [`Site`] swapped in
//! whole, and an event for the browsers. Requests in flight finish on the site they
//! started with.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwapOption;

use super::{Changes, DevHub};
use crate::build::{BuildError, BuildEvent, CompileError, DevBuilder};
use crate::server::{Assets, Loaded};
use crate::site::{ErrorKind, ErrorReport, Site, SiteOptions};
use crate::App;

/// What one reload did, for the terminal.
#[derive(Debug)]
pub(super) enum Reloaded {
    /// Pages must reload.
    Full,
    /// Only stylesheets changed.
    Css,
    /// The app is broken.
    Failed(ErrorReport),
    /// Served, but a template does not compile (pages that import it answer its error).
    Partial(ErrorReport),
    /// Nothing to do (only Rust files changed).
    Nothing,
}

/// Owns the long-lived node-tools process and swaps sites.
pub(super) struct Reloader {
    app: App,
    options: SiteOptions,
    builder: DevBuilder,
    current: Arc<ArcSwapOption<Loaded>>,
    hub: Arc<DevHub>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").field("root", &self.options.root).finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader storing each new site into `current` and telling browsers through `hub`.
    pub(super) fn new(
        app: App,
        options: SiteOptions,
        builder: DevBuilder,
        current: Arc<ArcSwapOption<Loaded>>,
        hub: Arc<DevHub>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self { app, options, builder, current, hub, runtime }
    }

    /// Applies `changes`: rebuild if templates changed, reload the site, notify browsers.
    pub(super) fn apply(&mut self, changes: &Changes) -> Reloaded {
        if !changes.needs_reload() {
            return Reloaded::Nothing;
        }
        // Templates that do not compile: the rest of the app is served without them.
        let uncompiled: Vec<ErrorReport> = if changes.templates {
            match self.rebuild() {
                // Not the whole app: only the pages that import these answer with them.
                Ok(errors) => errors.iter().map(|e| ErrorReport { whole_app: false, ..compile_error(e) }).collect(),
                Err(e) => return self.fail(build_error(e)),
            }
        } else {
            self.hub.uncompiled().load().as_ref().clone()
        };
        let previous = self.current.load_full();
        let next = {
            let _context = self.runtime.enter(); // a first Python pool spawns on the runtime
            let site = previous.as_ref().map(|p| &*p.site);
            Site::load_reusing(site, &self.app, self.options.clone(), changes.python)
        };
        let site = match next {
            Ok(site) => site,
            Err(e) => return self.fail(e.report()),
        };
        let assets = match Assets::load_reusing(&site.manifest.client_dir(), previous.as_ref().map(|p| &p.assets)) {
            Ok(assets) => assets,
            Err(e) => return self.fail(ErrorReport::new(ErrorKind::Build, format!("reading the build output: {e}"))),
        };
        let css_only = !changes.routes
            && !changes.python
            && !changes.shell
            && !self.hub.is_broken()
            && previous.as_ref().is_some_and(|p| p.site.manifest.css_only_change(&site.manifest));
        let version = site.manifest.version.clone();
        let css = css_only.then(|| site.manifest.css_files());
        self.current.store(Some(Arc::new(Loaded::new(site, assets))));
        let partial = uncompiled.first().cloned();
        self.hub.partial(uncompiled);
        self.hub.succeed(version, css);
        match (partial, css_only) {
            (Some(error), _) => Reloaded::Partial(error),
            (None, true) => Reloaded::Css,
            (None, false) => Reloaded::Full,
        }
    }

    /// One build; a node-tools process that died is started again once.
    fn rebuild(&mut self) -> Result<Vec<CompileError>, BuildError> {
        match self.builder.build(log_warnings) {
            Err(BuildError::Tool { what, source }) => {
                tracing::warn!(target: "fymo::dev", %what, error = %source, "node-tools stopped: starting it again");
                self.builder = DevBuilder::start(&self.options.root)?;
                self.builder.build(log_warnings)
            }
            other => other,
        }
    }

    fn fail(&self, error: ErrorReport) -> Reloaded {
        self.hub.fail(error.clone());
        Reloaded::Failed(error)
    }
}

/// Prints a compiler warning of a rebuild (each once per file and change).
fn log_warnings(event: &BuildEvent) {
    if let BuildEvent::Warning(warning) = event {
        tracing::warn!(target: "fymo::dev", "{warning}");
    }
}

fn compile_error(e: &CompileError) -> ErrorReport {
    ErrorReport {
        file: e.file.clone(),
        line: e.line,
        column: e.column,
        frame: e.frame.clone(),
        ..ErrorReport::new(ErrorKind::Compile, e.message.clone())
    }
}

fn build_error(e: BuildError) -> ErrorReport {
    match &e {
        BuildError::Compile(errors) if !errors.is_empty() => compile_error(&errors[0]),
        _ => ErrorReport::new(ErrorKind::Build, e.to_string()),
    }
}

/// Prints one line per reload, and errors readably.
pub(super) fn report(changes: &Changes, result: &Reloaded, started: Instant) {
    let files: Vec<String> = changes.files.iter().map(|f| f.display().to_string()).collect();
    let ms = started.elapsed().as_millis();
    for rust in &changes.rust {
        tracing::warn!(
            target: "fymo::dev",
            "{} changed: Rust controllers are compiled into the binary; rebuild and restart (cargo run) to use it",
            rust.display()
        );
    }
    match result {
        Reloaded::Full if files.is_empty() => tracing::info!(target: "fymo::dev", "built in {ms} ms"),
        Reloaded::Full => tracing::info!(target: "fymo::dev", "rebuilt in {ms} ms ({}) -> reload", files.join(", ")),
        Reloaded::Css => tracing::info!(target: "fymo::dev", "rebuilt in {ms} ms ({}) -> css update", files.join(", ")),
        Reloaded::Nothing => {}
        Reloaded::Failed(e) | Reloaded::Partial(e) => {
            let place = match e.place() {
                p if p.is_empty() => p,
                p => format!("{p}: "),
            };
            let frame = e.frame.as_deref().map(|f| format!("\n{f}")).unwrap_or_default();
            tracing::error!(
                target: "fymo::dev",
                "{} error after {ms} ms ({})\n  {place}{}{frame}",
                e.kind.as_str(),
                files.join(", "),
                e.message
            );
        }
    }
}
