//! Watching the app directory: file events, debounced into one [`Changes`] per burst.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

/// How long the directory must be quiet before a burst of events is handled.
const QUIET: Duration = Duration::from_millis(30);

/// What a burst of file events touched, by kind of work needed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Changes {
    /// `templates/**` other than `app.html`: rebuild.
    pub templates: bool,
    /// `templates/app.html`: reload the shell.
    pub shell: bool,
    /// `routes.yml`: re-read routes.
    pub routes: bool,
    /// `controllers/**/*.py`: recycle Python workers.
    pub python: bool,
    /// `controllers/**/*.rs`: needs a recompile of the app's binary.
    pub rust: Vec<PathBuf>,
    /// Every relevant file, relative to the root, for the terminal line.
    pub files: BTreeSet<PathBuf>,
}

impl Changes {
    /// Everything, for the first build.
    pub(super) fn all() -> Self {
        Self { templates: true, shell: true, routes: true, python: true, ..Self::default() }
    }

    /// Whether anything needs reloading (Rust edits only print a note).
    pub(super) fn needs_reload(&self) -> bool {
        self.templates || self.shell || self.routes || self.python
    }

    fn add(&mut self, root: &Path, path: &Path) {
        let Ok(rel) = path.strip_prefix(root) else { return };
        let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
        let Some(top) = parts.next() else { return };
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Editor droppings and build output are not changes.
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") || name.ends_with(".tmp") {
            return;
        }
        let ext = rel.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        match (top.as_ref(), ext.as_str()) {
            ("routes.yml", _) => self.routes = true,
            // Compiler options for every template: rebuild (node-tools recompiles all).
            ("svelte.config.js" | "svelte.config.mjs", _) => self.templates = true,
            ("templates", _) if name == "app.html" => self.shell = true,
            ("templates", "svelte" | "js" | "ts" | "mjs" | "css" | "json") => self.templates = true,
            ("controllers", "py") => self.python = true,
            ("controllers", "rs") => self.rust.push(rel.to_owned()),
            _ => return,
        }
        self.files.insert(rel.to_owned());
    }
}

/// Watches `root`; the returned receiver yields one [`Changes`] per burst of edits.
/// Keep the watcher alive as long as events are wanted.
///
/// # Errors
/// When the OS watcher cannot be set up.
pub(super) fn watch(root: &Path) -> notify::Result<(notify::RecommendedWatcher, mpsc::Receiver<Changes>)> {
    let (raw_tx, raw_rx) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        for path in event.paths {
            let _ = raw_tx.send(path);
        }
    })?;
    for part in ["templates", "controllers"] {
        if root.join(part).is_dir() {
            watcher.watch(&root.join(part), RecursiveMode::Recursive)?;
        }
    }
    // routes.yml is watched through its directory: editors replace the file on save.
    watcher.watch(root, RecursiveMode::NonRecursive)?;

    let (tx, rx) = mpsc::channel();
    let root = root.to_owned();
    std::thread::Builder::new()
        .name("fymo-watch".into())
        .spawn(move || {
            while let Ok(first) = raw_rx.recv() {
                let mut changes = Changes::default();
                changes.add(&root, &first);
                while let Ok(path) = raw_rx.recv_timeout(QUIET) {
                    changes.add(&root, &path);
                }
                if !changes.files.is_empty() && tx.send(changes).is_err() {
                    return;
                }
            }
        })
        .expect("spawning the watcher thread");
    Ok((watcher, rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let root = Path::new("/app");
        let mut c = Changes::default();
        for p in [
            "/app/templates/a.svelte",
            "/app/templates/app.html",
            "/app/routes.yml",
            "/app/svelte.config.js",
            "/app/controllers/x/y.py",
            "/app/controllers/main.rs",
            "/app/templates/.a.svelte.swp",
            "/app/templates/sedAbC12",
            "/app/.fymo/build/ssr.js",
            "/app/README.md",
        ] {
            c.add(root, Path::new(p));
        }
        assert!(c.templates && c.shell && c.routes && c.python);
        assert_eq!(c.rust, [PathBuf::from("controllers/main.rs")]);
        assert_eq!(c.files.len(), 6, "{:?}", c.files);
        let mut config = Changes::default();
        config.add(root, Path::new("/app/svelte.config.js"));
        assert!(config.templates && !config.routes, "svelte.config.js rebuilds: {config:?}");
    }
}
