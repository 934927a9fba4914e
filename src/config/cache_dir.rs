//! Where Fymo keeps this user's caches (node-tools, V8 startup snapshots).

use std::path::PathBuf;

/// `$FYMO_CACHE_DIR`, else `$XDG_CACHE_HOME/fymo`, else `~/.cache/fymo` (the temporary
/// folder when there is no home).
pub(crate) fn cache_dir() -> PathBuf {
    std::env::var_os("FYMO_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        cache.join("fymo")
    })
}
