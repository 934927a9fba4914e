//! Running node-tools: install its packages once, run the compiler, read its events.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::embedded;

/// A Svelte compile error with its place in the template.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct CompileError {
    /// What the compiler said.
    pub message: String,
    /// Svelte's error code (`expected_token`), if any.
    pub code: Option<String>,
    /// The template file.
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column.
    pub column: Option<u32>,
    /// Svelte's code frame around the error.
    pub frame: Option<String>,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line, self.column) {
            (Some(file), Some(line), Some(col)) => write!(f, "{file}:{line}:{col}: ")?,
            (Some(file), _, _) => write!(f, "{file}: ")?,
            _ => {}
        }
        f.write_str(&self.message)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(frame) = &self.frame {
            write!(f, "\n{frame}")?;
        }
        Ok(())
    }
}

/// One line of node-tools' progress output.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub(crate) enum BuildEvent {
    /// Templates found.
    Templates {
        /// How many.
        count: usize,
    },
    /// The Svelte the app is built with (compiler and runtime, one copy).
    Svelte {
        /// Its version.
        version: String,
        /// `app` (the app's node_modules) or `fymo` (node-tools' own).
        owner: String,
    },
    /// The SSR bundle is written.
    Ssr {
        /// Milliseconds.
        ms: u64,
    },
    /// The browser bundles are written.
    Client {
        /// DOM entries.
        entries: usize,
        /// Milliseconds.
        ms: u64,
    },
    /// All done.
    Done {
        /// Total milliseconds.
        ms: u64,
    },
    /// A long-lived build failed (its errors came before).
    Failed,
    /// A compile error (the build fails).
    Error(CompileError),
    /// A compiler warning (a11y included) about a file of the app: printed, nothing fails.
    Warning(CompileError),
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildError {
    /// A template does not compile.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n\n"))]
    Compile(Vec<CompileError>),
    /// Node or npm could not be run.
    #[error("{what}: {source}")]
    Tool {
        /// What was being run.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The node-tools in use lacks part of Fymo (its `js/`).
    #[error("{0}")]
    Incomplete(String),
    /// Node or npm exited with an error and no compile error to show.
    #[error("{what} failed ({status})")]
    Failed {
        /// What was being run.
        what: String,
        /// Exit status.
        status: std::process::ExitStatus,
    },
}

/// The node-tools that builds an app: its directory (`package.json`, `build.mjs`), and
/// whether it is the copy embedded in this binary (unpacked on first use).
#[derive(Debug, Clone)]
pub(crate) struct NodeTools {
    dir: PathBuf,
    /// The cache folder the embedded copy unpacks into.
    embedded: Option<PathBuf>,
}

impl NodeTools {
    /// node-tools for the app at `root`: `$FYMO_NODE_TOOLS`, else the app's own
    /// `node-tools/`, else the copy embedded in this binary (see [`super::embedded`]).
    pub(crate) fn locate(root: &Path) -> Self {
        if let Some(dir) = std::env::var_os("FYMO_NODE_TOOLS") {
            return Self { dir: PathBuf::from(dir), embedded: None };
        }
        let own = root.join("node-tools");
        if own.join("build.mjs").is_file() {
            return Self { dir: own, embedded: None };
        }
        let cache = embedded::cache_dir();
        Self { dir: cache.join("node-tools"), embedded: Some(cache) }
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether its npm packages are installed.
    pub(crate) fn is_installed(&self) -> bool {
        ["svelte", "esbuild"].iter().all(|p| self.dir.join("node_modules").join(p).join("package.json").is_file())
    }

    /// Unpacks the embedded copy if that is the one in use, and installs node-tools'
    /// packages from the lockfile (`npm ci`) when they are missing.
    ///
    /// # Errors
    /// When the cache folder cannot be written, or npm cannot run or fails.
    pub(crate) fn ensure_installed(&self) -> Result<(), BuildError> {
        // build.mjs reads Fymo's own JS from `../js`: a node-tools/ copied without it builds
        // apps that cannot render (say so now, not as a missing module at the first page).
        let js = self.dir.join("../js/ssr-host.js");
        if self.embedded.is_none() && !js.is_file() {
            return Err(BuildError::Incomplete(format!(
                "{} has no js/ folder beside it ({} is missing): copy js/ from the same Fymo checkout next to it, \
                 or remove node-tools/ (and unset FYMO_NODE_TOOLS) to use the copy built into fymo",
                self.dir.display(),
                js.display()
            )));
        }
        match &self.embedded {
            Some(cache) => embedded::unpack(cache, npm_ci).map(drop),
            None if self.is_installed() => Ok(()),
            None => npm_ci(&self.dir),
        }
    }
}

impl From<std::io::Error> for BuildError {
    fn from(source: std::io::Error) -> Self {
        Self::Tool { what: "unpacking node-tools into the cache folder".into(), source }
    }
}

/// Logs every line `stream` (a child's output) carries, on a thread of its own, so that
/// the child's words are log lines like ours (`--log-format json` covers them).
fn log_lines(stream: impl std::io::Read + Send + 'static, from: &'static str) {
    let forward = move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            tracing::info!(target: "fymo::build", from, "{line}");
        }
    };
    if let Err(error) = std::thread::Builder::new().name("fymo-child-log".into()).spawn(forward) {
        tracing::warn!(target: "fymo::build", from, %error, "cannot forward the output of a child process");
    }
}

fn npm_ci(dir: &Path) -> Result<(), BuildError> {
    tracing::info!(target: "fymo::build", "installing node-tools packages (npm ci in {})", dir.display());
    let what = "npm ci".to_owned();
    let mut child = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| BuildError::Tool { what: what.clone(), source })?;
    log_lines(child.stdout.take().expect("piped stdout"), "npm");
    log_lines(child.stderr.take().expect("piped stderr"), "npm");
    let status = child.wait().map_err(|source| BuildError::Tool { what: what.clone(), source })?;
    if !status.success() {
        return Err(BuildError::Failed { what, status });
    }
    Ok(())
}

fn node_command(root: &Path, tools: &NodeTools) -> Command {
    let mut command = Command::new("node");
    command.arg(tools.dir.join("build.mjs")).arg("--root").arg(root).arg("--out").arg(super::output_dir(root));
    // A fymo.yml that does not parse is reported where the app's settings are read.
    let locales = crate::config::AppFile::load(root).map(|app| app.intl.locales).unwrap_or_default();
    if !locales.is_empty() {
        command.arg("--intl-locales").arg(locales.join(","));
    }
    command
}

/// Compiles the app at `root` into `.fymo/build/`, reporting each event to `progress`.
///
/// # Errors
/// Compile errors (with file:line:column and a code frame), or Node/npm failures.
pub(crate) fn build(root: &Path, mut progress: impl FnMut(&BuildEvent)) -> Result<(), BuildError> {
    let tools = &NodeTools::locate(root);
    tools.ensure_installed()?;
    let what = format!("node {}", tools.dir.join("build.mjs").display());
    let mut child = node_command(root, tools)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| BuildError::Tool { what: what.clone(), source })?;
    log_lines(child.stderr.take().expect("piped stderr"), "node-tools");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut errors = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|source| BuildError::Tool { what: what.clone(), source })?;
        match serde_json::from_str::<BuildEvent>(&line) {
            Ok(BuildEvent::Error(e)) => errors.push(e),
            Ok(event) => progress(&event),
            // Anything else a plugin printed: pass it through.
            Err(_) => tracing::info!(target: "fymo::build", from = "node-tools", "{line}"),
        }
    }
    let status = child.wait().map_err(|source| BuildError::Tool { what: what.clone(), source })?;
    if !errors.is_empty() {
        return Err(BuildError::Compile(errors));
    }
    if !status.success() {
        return Err(BuildError::Failed { what, status });
    }
    Ok(())
}

/// A long-lived node-tools process for `fymo dev`: esbuild contexts and Svelte compile
/// results stay warm between builds, so a rebuild after one edit is incremental.
pub(crate) struct DevBuilder {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    events: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl std::fmt::Debug for DevBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevBuilder").field("pid", &self.child.id()).finish()
    }
}

impl DevBuilder {
    /// Starts node-tools in `--serve-stdin` mode for the app at `root`.
    ///
    /// # Errors
    /// When npm or node cannot run.
    pub(crate) fn start(root: &Path) -> Result<Self, BuildError> {
        let tools = NodeTools::locate(root);
        tools.ensure_installed()?;
        let mut child = node_command(root, &tools)
            .arg("--serve-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| BuildError::Tool { what: "node build.mjs --serve-stdin".into(), source })?;
        log_lines(child.stderr.take().expect("piped stderr"), "node-tools");
        Ok(Self {
            stdin: child.stdin.take().expect("piped stdin"),
            events: BufReader::new(child.stdout.take().expect("piped stdout")).lines(),
            child,
        })
    }

    /// Runs one build and waits for its end, reporting events to `progress`.
    ///
    /// # Errors
    /// Compile errors, or the node process gone.
    /// The templates that did not compile come back as `Ok`: the build went on without
    /// them (each is a module that throws its error when a page imports it).
    pub(crate) fn build(&mut self, mut progress: impl FnMut(&BuildEvent)) -> Result<Vec<CompileError>, BuildError> {
        use std::io::Write;
        let gone = |source| BuildError::Tool { what: "node-tools (dev)".into(), source };
        self.stdin.write_all(b"build\n").and_then(|()| self.stdin.flush()).map_err(gone)?;
        let mut errors = Vec::new();
        loop {
            let Some(line) = self.events.next() else {
                return Err(gone(std::io::Error::other("node-tools exited")));
            };
            let line = line.map_err(gone)?;
            match serde_json::from_str::<BuildEvent>(&line) {
                Ok(BuildEvent::Error(e)) => errors.push(e),
                Ok(BuildEvent::Failed) => return Err(BuildError::Compile(errors)),
                Ok(event @ BuildEvent::Done { .. }) => {
                    progress(&event);
                    return Ok(errors);
                }
                Ok(event) => progress(&event),
                Err(_) => tracing::info!(target: "fymo::build", from = "node-tools", "{line}"),
            }
        }
    }
}

impl Drop for DevBuilder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
