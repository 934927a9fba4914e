//! node-tools as the binary carries it: its sources (`package.json`, lockfile, build
//! scripts) and the `js/` files the build reads, embedded at compile time and unpacked
//! into a per-version cache folder on first use, so an installed `fymo` builds apps
//! anywhere, with no checkout on disk.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../", $path)))),*]
    };
}

/// Every file, by its path relative to the repository root. `node-tools/` and `js/` are
/// unpacked side by side because `build.mjs` finds Fymo's JS at `../js`.
pub(super) const FILES: &[(&str, &str)] = embed!(
    "node-tools/package.json",
    "node-tools/package-lock.json",
    "node-tools/app-entries.mjs",
    "node-tools/build.mjs",
    "node-tools/dev-bundle.mjs",
    "node-tools/esbuild-options.mjs",
    "node-tools/intl.mjs",
    "node-tools/mirror.mjs",
    "node-tools/module-table.mjs",
    "node-tools/postcss.mjs",
    "node-tools/prod-bundle.mjs",
    "node-tools/ssr-entry.mjs",
    "node-tools/svelte-compiler.mjs",
    "node-tools/svelte-config.mjs",
    "node-tools/svelte-plugin.mjs",
    "js/LayoutChain.svelte",
    "js/LayoutRoot.svelte",
    "js/client.js",
    "js/live.js",
    "js/Reactive.svelte",
    "js/dev-client.js",
    "js/navigate.js",
    "js/ssr-host.js",
    "js/runtime.js",
    "js/url.js",
    "js/shims/async_hooks.js",
    "js/shims/inertia-server.js",
    "js/shims/intl-collator.js",
);

/// The Svelte version node-tools builds with (its `package.json`): what `fymo new` pins
/// an app to, so `npm install` of a library brings in this one.
pub(crate) fn svelte_version() -> String {
    let (_, text) = FILES.iter().find(|(path, _)| *path == "node-tools/package.json").expect("embedded");
    let package: serde_json::Value = serde_json::from_str(text).expect("node-tools/package.json is JSON");
    package["dependencies"]["svelte"].as_str().expect("node-tools depends on svelte").to_owned()
}

/// Marks a folder whose files and packages are complete.
const COMPLETE: &str = ".complete";

/// The cache folder for this binary's node-tools: one folder per crate version and
/// content hash under [`crate::config::cache_dir`] (two builds of the same version with
/// different scripts never share one).
pub(super) fn cache_dir() -> PathBuf {
    let base = crate::config::cache_dir();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    FILES.hash(&mut hasher);
    base.join(format!("node-tools-{}-{:012x}", env!("CARGO_PKG_VERSION"), hasher.finish() & 0xffff_ffff_ffff))
}

/// Unpacks the files into `dir` (once) and runs `install` (which installs the npm
/// packages) on the unpacked `node-tools/`, under a file lock so that processes starting
/// together (prefork workers, parallel builds) do it once.
///
/// # Errors
/// I/O errors, or `install`'s.
pub(super) fn unpack<E: From<io::Error>>(
    dir: &Path,
    install: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<PathBuf, E> {
    let tools = dir.join("node-tools");
    if dir.join(COMPLETE).is_file() {
        return Ok(tools);
    }
    std::fs::create_dir_all(dir)?;
    let lock = File::create(dir.join(".lock"))?;
    let _guard = Flock::lock(lock, FlockArg::LockExclusive).map_err(|(_, errno)| io::Error::from(errno))?;
    if dir.join(COMPLETE).is_file() {
        return Ok(tools); // another process finished while we waited
    }
    for (rel, contents) in FILES {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("embedded files live in folders"))?;
        std::fs::write(path, contents)?;
    }
    install(&tools)?;
    std::fs::write(dir.join(COMPLETE), "")?;
    Ok(tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file the build can read is embedded: nothing under `node-tools/` (but its
    /// packages) or `js/` is left out.
    #[test]
    fn embeds_every_build_file() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk = Vec::new();
        for dir in ["node-tools", "js"] {
            let mut stack = vec![repo.join(dir)];
            while let Some(current) = stack.pop() {
                for entry in std::fs::read_dir(&current).unwrap() {
                    let path = entry.unwrap().path();
                    if path.file_name().is_some_and(|n| n == "node_modules") {
                        continue;
                    }
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        on_disk.push(path.strip_prefix(repo).unwrap().to_string_lossy().into_owned());
                    }
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn unpacks_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut installs = 0;
        for _ in 0..2 {
            let tools = unpack::<io::Error>(dir.path(), |_| {
                installs += 1;
                Ok(())
            })
            .unwrap();
            assert!(tools.join("build.mjs").is_file() && dir.path().join("js/ssr-host.js").is_file());
        }
        assert_eq!(installs, 1);
    }
}
