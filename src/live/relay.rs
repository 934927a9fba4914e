//! The prefork relay: `fymo serve --workers N` fans live messages out across its
//! workers with no extra service. The master listens on a Unix socket; each worker
//! connects, sends its publishes there, and gets every message back numbered by the
//! master (the authority for positions, so they survive worker restarts and reloads).
//!
//! One JSON object per line each way:
//! worker → master `{"op":"pub","topic","body"}`, `{"op":"head","id","topic"}`;
//! master → worker `{"op":"msg","topic","seq","body"}`, `{"op":"head","id","seq"}`.
//!
//! Presence: a worker sends `{"op":"presence","src","topic","members","count"}` when its
//! subscribers of a topic change (and every heartbeat), `{"op":"sync","src"}` once
//! connected; the master passes both to every worker, and `{"op":"gone","src"}` when a
//! worker's connection closes, so each worker merges the others' subscribers with its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::hub::Command;
use super::{Hub, Payload};

/// The environment variable that tells a worker where the relay listens.
pub(crate) const RELAY_ENV: &str = "FYMO_LIVE_RELAY";

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Line {
    Pub {
        topic: String,
        body: String,
    },
    Head {
        id: u64,
        #[serde(default)]
        topic: String,
        #[serde(default)]
        seq: u64,
    },
    Msg {
        topic: String,
        seq: u64,
        body: String,
    },
    Presence {
        src: u64,
        topic: String,
        members: Vec<String>,
        count: usize,
    },
    Sync {
        src: u64,
    },
    Gone {
        src: u64,
    },
}

#[derive(Default)]
struct State {
    counters: HashMap<String, u64>,
    workers: Vec<mpsc::UnboundedSender<String>>,
}

/// The master's side: a thread serving the relay socket for as long as it lives.
#[derive(Debug)]
pub(crate) struct RelayServer {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl RelayServer {
    /// Listens on a fresh socket in a private temporary folder.
    ///
    /// # Errors
    /// The folder, socket or thread cannot be made.
    pub(crate) fn start() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("fymo-live-").tempdir()?;
        let path = dir.path().join("relay.sock");
        let std_listener = std::os::unix::net::UnixListener::bind(&path)?;
        std_listener.set_nonblocking(true)?;
        std::thread::Builder::new().name("fymo-live-relay".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let listener = UnixListener::from_std(std_listener).expect("adopting the relay socket");
                let state = Arc::new(Mutex::new(State::default()));
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            tokio::spawn(serve_worker(stream, state.clone()));
                        }
                        Err(e) => tracing::warn!(target: "fymo::live", error = %e, "relay accept failed"),
                    }
                }
            });
        })?;
        Ok(Self { path, _dir: dir })
    }

    /// Where workers connect.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

async fn serve_worker(stream: UnixStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).workers.push(tx.clone());
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if write.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut lines = BufReader::new(read).lines();
    let mut sources = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(parsed) = serde_json::from_str::<Line>(&line) else { continue };
        let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match parsed {
            Line::Presence { src, .. } | Line::Sync { src } => {
                if !sources.contains(&src) {
                    sources.push(src);
                }
                s.workers.retain(|w| w.send(line.clone() + "\n").is_ok());
            }
            Line::Gone { .. } => {}
            Line::Pub { topic, body } => {
                let seq = s.counters.entry(topic.clone()).or_insert(0);
                *seq += 1;
                let out = Line::Msg { topic, seq: *seq, body };
                let text = serde_json::to_string(&out).expect("serializes") + "\n";
                // Every worker, this one included, in the order numbered (under the lock).
                s.workers.retain(|w| w.send(text.clone()).is_ok());
            }
            Line::Head { id, topic, .. } => {
                let seq = s.counters.get(&topic).copied().unwrap_or(0);
                let text =
                    serde_json::to_string(&Line::Head { id, topic: String::new(), seq }).expect("serializes") + "\n";
                let _ = tx.send(text);
            }
            Line::Msg { .. } => {}
        }
    }
    // This worker is gone, and with it its subscribers.
    let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for src in sources {
        let text = serde_json::to_string(&Line::Gone { src }).expect("serializes") + "\n";
        s.workers.retain(|w| w.send(text.clone()).is_ok());
    }
}

/// A worker's side: connects to the relay at `path` and serves `hub`'s commands.
pub(super) async fn connect(
    path: PathBuf,
    hub: Arc<Hub>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) -> std::io::Result<()> {
    let stream = UnixStream::connect(&path).await?;
    let (read, mut write) = stream.into_split();
    let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Option<u64>>>>> = Arc::default();
    let waiting = pending.clone();
    tokio::spawn(async move {
        let mut next = 0u64;
        while let Some(command) = commands.recv().await {
            let line = match command {
                Command::Publish { topic, body } => Line::Pub { topic, body },
                Command::Head { topic, reply } => {
                    next += 1;
                    waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(next, reply);
                    Line::Head { id: next, topic, seq: 0 }
                }
                Command::Presence { src, topic, members, count } => Line::Presence { src, topic, members, count },
                Command::Sync { src } => Line::Sync { src },
            };
            let text = serde_json::to_string(&line).expect("serializes") + "\n";
            if let Err(e) = write.write_all(text.as_bytes()).await {
                tracing::error!(target: "fymo::live", error = %e, "lost the prefork relay");
                return;
            }
        }
    });
    tokio::spawn(async move {
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Msg { topic, seq, body }) => match Payload::from_body(&body) {
                    Some(payload) => hub.deliver(&topic, seq, payload),
                    None => tracing::warn!(target: "fymo::live", topic, "ignoring a malformed relay message"),
                },
                Ok(Line::Head { id, seq, .. }) => {
                    if let Some(reply) = pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id) {
                        let _ = reply.send(Some(seq));
                    }
                }
                Ok(Line::Presence { src, topic, members, count }) => hub.remote_presence(src, &topic, members, count),
                Ok(Line::Sync { src }) if src != hub.source() => hub.announce_all(),
                Ok(Line::Gone { src }) => hub.source_gone(src),
                _ => {}
            }
        }
        tracing::error!(target: "fymo::live", "the prefork relay closed");
    });
    Ok(())
}
