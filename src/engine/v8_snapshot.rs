//! V8 startup snapshots: the SSR bundle evaluated once, its heap saved, and every later
//! instance (pool threads, recycled instances, `isolate: true` renders, prefork workers
//! and their replacements) made from that heap in a few milliseconds instead of
//! evaluating the bundle again.
//!
//! V8 makes snapshots only in a process set up for it (deno_core: "snapshotting or
//! non-snapshotting mode, not both"), so a child — this same executable, started with
//! [`CHILD_ENV`] — evaluates the bundle and writes the snapshot. Snapshots are kept in
//! the user's cache folder (`v8-snapshots/`), named by a key over the bundle and this
//! executable, and loaded by every process that serves the same build. Any failure
//! (no child, a bundle that throws, an unreadable cache) falls back to evaluating the
//! bundle in the instance, which then reports the bundle's own error.

use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use deno_core::{JsRuntimeForSnapshot, RuntimeOptions};
use nix::fcntl::{Flock, FlockArg};

/// Set (to `<bundle path>\n<snapshot path>`) in the child that makes a snapshot.
pub(crate) const CHILD_ENV: &str = "FYMO_V8_SNAPSHOT_CHILD";

/// Header of a snapshot file: magic, key, blob length, blob hash.
const MAGIC: &[u8; 8] = b"FYMOV8S1";
const HEADER: usize = 32;

/// Snapshots this process keeps loaded (V8 needs them for its lifetime): a dev server
/// reloading all day must not keep every build it ever had.
const MAX_LOADED: usize = 4;

/// How long the child may take.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// A snapshot blob, kept for the life of the process (V8 reads it when making isolates).
type Blob = &'static [u8];

/// Snapshots by key, and keys none could be made for (a bundle that throws: one child
/// per bundle, not one per instance).
static LOADED: Mutex<Vec<(u64, Option<Blob>)>> = Mutex::new(Vec::new());

/// Set by [`child_main`] in a process whose executable answers [`CHILD_ENV`] (Fymo's
/// CLI); elsewhere (test harnesses, embedders) starting this executable again would
/// not make a snapshot.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The snapshot of `bundle`, made (once per bundle and executable, across processes) or
/// loaded; `None` when there is none to be had (see the module docs).
pub(super) fn startup_snapshot(bundle: &str) -> Option<&'static [u8]> {
    if !ENABLED.load(Ordering::Relaxed) || std::env::var_os("FYMO_V8_SNAPSHOT").is_some_and(|v| v == "0") {
        return None;
    }
    let key = key(bundle)?;
    let mut loaded = LOADED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, blob)) = loaded.iter().find(|(k, _)| *k == key) {
        return *blob;
    }
    if loaded.iter().filter(|(_, blob)| blob.is_some()).count() >= MAX_LOADED {
        return None;
    }
    let dir = crate::config::cache_dir().join("v8-snapshots");
    let blob = match load_or_make(&dir, key, bundle) {
        Ok(blob) => Some(&*Box::leak(blob.into_boxed_slice())),
        Err(e) => {
            tracing::warn!(target: "fymo::engine", error = %e, "no V8 startup snapshot: evaluating the SSR bundle in each instance");
            None
        }
    };
    loaded.push((key, blob));
    blob
}

/// A key over the bundle and everything a snapshot depends on: this executable (its
/// V8, its native functions) and Fymo's version.
fn key(bundle: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let meta = exe.metadata().ok()?;
    let mut hasher = DefaultHasher::new();
    (bundle, env!("CARGO_PKG_VERSION"), deno_core::v8::VERSION_STRING, &exe, meta.len(), meta.modified().ok())
        .hash(&mut hasher);
    Some(hasher.finish())
}

fn blob_hash(blob: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    blob.hash(&mut hasher);
    hasher.finish()
}

/// Reads the snapshot for `key` from `dir`, or has a child make it (under a lock, so
/// that workers starting together make it once).
fn load_or_make(dir: &Path, key: u64, bundle: &str) -> io::Result<Vec<u8>> {
    let path = dir.join(format!("{key:016x}.bin"));
    if let Some(blob) = read(&path, key)? {
        return Ok(blob);
    }
    std::fs::create_dir_all(dir)?;
    let lock = File::create(dir.join(".lock"))?;
    let _guard = Flock::lock(lock, FlockArg::LockExclusive).map_err(|(_, errno)| io::Error::from(errno))?;
    if let Some(blob) = read(&path, key)? {
        return Ok(blob); // another process made it while we waited
    }
    let started = Instant::now();
    let blob = make_in_child(dir, bundle)?;
    let mut file = Vec::with_capacity(HEADER + blob.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&key.to_le_bytes());
    file.extend_from_slice(&(blob.len() as u64).to_le_bytes());
    file.extend_from_slice(&blob_hash(&blob).to_le_bytes());
    file.extend_from_slice(&blob);
    let partial = dir.join(format!("{key:016x}.{}.part", std::process::id()));
    std::fs::write(&partial, &file)?;
    std::fs::rename(&partial, &path)?;
    prune(dir, &path);
    tracing::info!(target: "fymo::engine", ms = started.elapsed().as_millis() as u64, bytes = blob.len(), "made a V8 startup snapshot of the SSR bundle");
    Ok(blob)
}

/// Snapshots kept in the cache folder (each build and each Fymo executable makes its
/// own; processes that use one have read it already).
const KEEP: usize = 8;

/// Removes all but the newest [`KEEP`] snapshots (and never `made`).
fn prune(dir: &Path, made: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut snapshots: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin") && p != made)
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    snapshots.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (_, old) in snapshots.into_iter().skip(KEEP - 1) {
        let _ = std::fs::remove_file(old);
    }
}

/// The blob in `path`, if the file is there and whole and made for `key`.
fn read(path: &Path, key: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let field = |at: usize| bytes.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    let whole = bytes.len() >= HEADER
        && &bytes[..8] == MAGIC
        && field(8) == Some(key)
        && field(16) == Some((bytes.len() - HEADER) as u64)
        && field(24) == Some(blob_hash(&bytes[HEADER..]));
    if !whole {
        return Ok(None); // made over again below
    }
    bytes.drain(..HEADER);
    Ok(Some(bytes))
}

/// Starts this executable as a snapshot child and returns what it wrote.
fn make_in_child(dir: &Path, bundle: &str) -> io::Result<Vec<u8>> {
    let input = dir.join(format!("bundle.{}.js", std::process::id()));
    let output = dir.join(format!("snapshot.{}.bin", std::process::id()));
    std::fs::write(&input, bundle)?;
    let result = run_child(&input, &output).and_then(|()| std::fs::read(&output));
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    result
}

fn run_child(input: &Path, output: &Path) -> io::Result<()> {
    let child = Command::new(std::env::current_exe()?)
        .env(CHILD_ENV, format!("{}\n{}", input.display(), output.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).map_err(io::Error::other)?);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(CHILD_TIMEOUT) {
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(io::Error::other(format!(
            "the snapshot child failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            Err(io::Error::other("the snapshot child did not finish within 60 s"))
        }
    }
}

/// Turns snapshots off for this process.
pub(super) fn disable() {
    ENABLED.store(false, Ordering::Relaxed);
}

/// In the snapshot child (started with [`CHILD_ENV`]): evaluates the bundle, writes the
/// snapshot and returns the exit code. In every other process: `None`, and snapshots
/// are enabled from now on (this executable can make them).
pub(crate) fn child_main() -> Option<ExitCode> {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        ENABLED.store(true, Ordering::Relaxed);
        return None;
    };
    let (input, output) = spec.split_once('\n')?;
    Some(match make(Path::new(input), Path::new(output)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "{e}");
            ExitCode::FAILURE
        }
    })
}

fn make(input: &Path, output: &Path) -> Result<(), String> {
    let bundle = std::fs::read_to_string(input).map_err(|e| format!("reading {}: {e}", input.display()))?;
    let timers = tokio::runtime::Builder::new_current_thread().enable_time().build().map_err(|e| e.to_string())?;
    let _timers = timers.enter();
    let mut runtime = JsRuntimeForSnapshot::try_new(RuntimeOptions {
        extensions: vec![super::v8::fymo_native::init()],
        ..RuntimeOptions::default()
    })
    .map_err(|e| format!("cannot start V8: {e}"))?;
    runtime.execute_script("<fymo-native>", super::v8::NATIVE_JS).map_err(|e| e.to_string())?;
    runtime.execute_script("ssr.js", bundle).map_err(|e| e.to_string())?;
    let blob = runtime.snapshot();
    std::fs::write(PathBuf::from(output), &blob).map_err(|e| format!("writing {}: {e}", output.display()))
}
