//! Where server-side session records live: files under `.fymo/sessions/` (one host: the
//! prefork workers share the folder) or Redis (every host). A record is JSON, keyed by
//! the session id the cookie carries; deleting it ends the session whatever cookie a
//! client kept.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::controller::unix_now;

/// One session on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Record {
    /// The token unsafe requests must carry.
    pub(super) csrf: String,
    /// The app's values.
    pub(super) data: Map<String, Value>,
    /// A message for the next page.
    pub(super) flash: Option<String>,
    /// When the session began (Unix seconds).
    pub(super) created: u64,
    /// When it ends unless the visitor comes back first (Unix seconds).
    pub(super) expires: u64,
}

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The session folder.
    #[error("session store {}: {source}", .dir.display())]
    Files {
        /// The folder.
        dir: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The Redis server.
    #[error("session store (Redis): {0}")]
    Redis(String),
}

/// A session store.
#[derive(Debug, Clone)]
pub(super) enum Store {
    /// `.fymo/sessions/<id>.json`.
    Files(Arc<Files>),
    /// `fymo:session:<id>` in Redis, expiring with the session.
    Redis(Arc<Redis>),
}

impl Store {
    /// The record of `id`, if there is one (expired or not).
    pub(super) async fn get(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let text = match self {
            Self::Files(files) => files.read(id).await?,
            Self::Redis(redis) => redis.get(id).await?,
        };
        // A record that does not parse (a half-written file from a crash) is no session.
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Writes the record of `id`.
    pub(super) async fn put(&self, id: &str, record: &Record) -> Result<(), StoreError> {
        let text = serde_json::to_string(record).expect("a record serializes");
        match self {
            Self::Files(files) => files.write(id, text).await,
            Self::Redis(redis) => redis.set(id, &text, record.expires.saturating_sub(unix_now()).max(1)).await,
        }
    }

    /// Ends the session `id` (nothing when it has no record).
    pub(super) async fn delete(&self, id: &str) -> Result<(), StoreError> {
        match self {
            Self::Files(files) => files.remove(id).await,
            Self::Redis(redis) => redis.del(id).await,
        }
    }
}

/// Seconds between two sweeps of expired files (by whichever process writes first).
const SWEEP_EVERY: u64 = 3600;

/// The folder of session files.
#[derive(Debug)]
pub(super) struct Files {
    dir: PathBuf,
    last_sweep: AtomicU64,
}

impl Files {
    pub(super) fn new(dir: PathBuf) -> Self {
        Self { dir, last_sweep: AtomicU64::new(0) }
    }

    fn error(&self, source: std::io::Error) -> StoreError {
        StoreError::Files { dir: self.dir.clone(), source }
    }

    /// Ids are made here (hex), so a file name is never a path of the client's choosing.
    fn path(&self, id: &str) -> Option<PathBuf> {
        let safe = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_hexdigit());
        safe.then(|| self.dir.join(format!("{id}.json")))
    }

    async fn read(&self, id: &str) -> Result<Option<String>, StoreError> {
        let Some(path) = self.path(id) else { return Ok(None) };
        match tokio::fs::read_to_string(path).await {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Written whole or not at all (a temporary file renamed over the record): a reader
    /// in another worker never sees half a record.
    async fn write(self: &Arc<Self>, id: &str, text: String) -> Result<(), StoreError> {
        let Some(path) = self.path(id) else { return Ok(()) };
        let dir = self.dir.clone();
        let written = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let mut file = tempfile::NamedTempFile::new_in(&dir)?;
            std::io::Write::write_all(&mut file, text.as_bytes())?;
            file.persist(&path).map_err(|e| e.error)?;
            Ok::<_, std::io::Error>(())
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        written.map_err(|e| self.error(e))?;
        self.sweep_when_due();
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        let Some(path) = self.path(id) else { return Ok(()) };
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Removes the records that ran out, at most once an hour, in the background.
    fn sweep_when_due(self: &Arc<Self>) {
        let now = unix_now();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now < last + SWEEP_EVERY
            || self.last_sweep.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            let removed = sweep(&dir, now);
            tracing::debug!(target: "fymo::session", removed, "swept expired session records");
        });
    }
}

/// Deletes the records under `dir` whose time is past `now`; how many.
fn sweep(dir: &std::path::Path, now: u64) -> usize {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let expired = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<Record>(&t).ok())
            .is_none_or(|r| r.expires <= now);
        if expired && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Sessions in Redis.
#[derive(Debug)]
pub(super) struct Redis {
    client: Result<redis::Client, String>,
    conn: tokio::sync::OnceCell<redis::aio::MultiplexedConnection>,
}

const KEY_PREFIX: &str = "fymo:session:";

impl Redis {
    pub(super) fn new(url: &str) -> Self {
        Self { client: redis::Client::open(url).map_err(|e| e.to_string()), conn: tokio::sync::OnceCell::new() }
    }

    async fn conn(&self) -> Result<redis::aio::MultiplexedConnection, StoreError> {
        let client = self.client.as_ref().map_err(|e| StoreError::Redis(e.clone()))?;
        let conn = self
            .conn
            .get_or_try_init(|| client.get_multiplexed_async_connection())
            .await
            .map_err(|e| StoreError::Redis(e.to_string()))?;
        Ok(conn.clone())
    }

    async fn get(&self, id: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn().await?;
        redis::cmd("GET").arg(format!("{KEY_PREFIX}{id}")).query_async(&mut conn).await.map_err(redis_error)
    }

    async fn set(&self, id: &str, text: &str, seconds: u64) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        redis::cmd("SET")
            .arg(format!("{KEY_PREFIX}{id}"))
            .arg(text)
            .arg("EX")
            .arg(seconds)
            .query_async(&mut conn)
            .await
            .map_err(redis_error)
    }

    async fn del(&self, id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        redis::cmd("DEL").arg(format!("{KEY_PREFIX}{id}")).query_async(&mut conn).await.map_err(redis_error)
    }
}

fn redis_error(e: redis::RedisError) -> StoreError {
    StoreError::Redis(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires: u64) -> Record {
        Record { csrf: "t".into(), data: Map::new(), flash: None, created: 1, expires }
    }

    #[tokio::test]
    async fn files_keep_replace_and_end_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::Files(Arc::new(Files::new(dir.path().join("sessions"))));
        let later = unix_now() + 3600;
        assert_eq!(store.get("ab").await.unwrap(), None);
        store.put("ab", &record(later)).await.unwrap();
        store.put("ab", &record(later + 1)).await.unwrap();
        assert_eq!(store.get("ab").await.unwrap(), Some(record(later + 1)));
        store.delete("ab").await.unwrap();
        assert_eq!(store.get("ab").await.unwrap(), None);
        store.delete("ab").await.unwrap();
        // An id that is not one of ours names no file.
        assert_eq!(store.get("../../etc/passwd").await.unwrap(), None);
    }

    #[test]
    fn a_sweep_removes_only_what_ran_out() {
        let dir = tempfile::tempdir().unwrap();
        for (id, expires) in [("aa", 100), ("bb", 300)] {
            std::fs::write(dir.path().join(format!("{id}.json")), serde_json::to_string(&record(expires)).unwrap())
                .unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "kept").unwrap();
        assert_eq!(sweep(dir.path(), 200), 1);
        assert!(!dir.path().join("aa.json").exists() && dir.path().join("bb.json").exists());
        assert!(dir.path().join("notes.txt").exists());
    }
}
