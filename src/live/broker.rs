//! [`Broker`]: which authority numbers a topic's messages and carries them to every
//! process — this process alone, the prefork master's relay, or Redis.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::hub::Command;
use super::Hub;

/// Where publishes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Broker {
    /// This process only.
    Memory,
    /// The prefork master's relay, on this Unix socket.
    Relay(PathBuf),
    /// A Redis server (`redis://host:port/db`), shared by every host.
    Redis(String),
}

impl std::str::FromStr for Broker {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "memory" => Ok(Self::Memory),
            _ if s.starts_with("redis://") || s.starts_with("rediss://") || s.starts_with("redis+unix://") => {
                Ok(Self::Redis(s.to_owned()))
            }
            _ => Err(format!("`{s}`: use `memory` or a redis:// URL")),
        }
    }
}

impl Broker {
    /// Connects `hub` to this broker; must run inside a tokio runtime. Returns once the
    /// first connection is up (so a page rendered after it has a position), or fails.
    ///
    /// # Errors
    /// The broker cannot be reached.
    pub(crate) async fn start(&self, hub: &Arc<Hub>) -> std::io::Result<()> {
        match self {
            Self::Memory => Ok(()),
            Self::Relay(path) => {
                let (tx, rx) = mpsc::unbounded_channel();
                super::relay::connect(path.clone(), hub.clone(), rx).await?;
                start_presence(hub, tx);
                Ok(())
            }
            Self::Redis(url) => {
                let (tx, rx) = mpsc::unbounded_channel();
                super::redis::connect(url, hub.clone(), rx).await?;
                start_presence(hub, tx);
                Ok(())
            }
        }
    }
}

/// Routes `hub`'s commands to the broker, asks the other processes for their presence,
/// and keeps this process's presence fresh: announced every heartbeat, and other
/// processes forgotten after three heartbeats without word from them (a host that died).
fn start_presence(hub: &Arc<Hub>, commands: mpsc::UnboundedSender<Command>) {
    let _ = commands.send(Command::Sync { src: hub.source() });
    hub.attach(commands);
    let hub = Arc::downgrade(hub);
    tokio::spawn(async move {
        let Some(period) = hub.upgrade().map(|h| h.config().heartbeat) else { return };
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            beat.tick().await;
            let Some(hub) = hub.upgrade() else { return };
            hub.refresh_presence(period * 3);
        }
    });
}
