//! The Redis broker: a topic's positions come from one Redis counter, and a Lua script
//! numbers and publishes a message in one atomic step, so every host sees a topic's
//! messages in position order. Each process listens with one `PSUBSCRIBE`.
//!
//! Keys: `fymo:seq:<topic>` (the position), channel `fymo:live:<topic>` carrying
//! `<seq> <body>`. An outside process publishes by running the same script (see
//! [`PUBLISH_SCRIPT`]) or through `POST /_fymo/live/publish`.
//!
//! Presence goes over channel `fymo:presence`: each process publishes
//! `{"src","topic","members","count"}` when its subscribers of a topic change and again
//! every heartbeat (so a host that dies is forgotten after three), and `{"sync":src}`
//! when it (re)connects, which makes every other process announce what it has.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use super::hub::Command;
use super::{Hub, Payload};

/// Numbers and publishes one message: KEYS = [counter, channel], ARGV = [body].
pub(crate) const PUBLISH_SCRIPT: &str = "local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], seq .. ' ' .. ARGV[1])
return seq";

const CHANNEL_PREFIX: &str = "fymo:live:";
const COUNTER_PREFIX: &str = "fymo:seq:";
const PRESENCE_CHANNEL: &str = "fymo:presence";

/// A presence announcement on [`PRESENCE_CHANNEL`].
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Presence {
    Members { src: u64, topic: String, members: Vec<String>, count: usize },
    Sync { sync: u64 },
}

fn io(e: redis::RedisError) -> std::io::Error {
    std::io::Error::other(format!("redis: {e}"))
}

/// Connects `hub` to Redis at `url`: a listener task and a command task. Returns once
/// both connections are up.
pub(super) async fn connect(
    url: &str,
    hub: Arc<Hub>,
    commands: mpsc::UnboundedReceiver<Command>,
) -> std::io::Result<()> {
    let client = redis::Client::open(url).map_err(io)?;
    let conn = client.get_multiplexed_async_connection().await.map_err(io)?;
    let pubsub = subscribe(&client).await.map_err(io)?;
    tokio::spawn(listen(client, pubsub, hub, conn.clone()));
    tokio::spawn(run_commands(conn, commands));
    Ok(())
}

async fn subscribe(client: &redis::Client) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(format!("{CHANNEL_PREFIX}*")).await?;
    pubsub.subscribe(PRESENCE_CHANNEL).await?;
    Ok(pubsub)
}

/// Delivers what Redis publishes; reconnects (with back-off) when the connection drops,
/// then asks for the position of every topic held here so a gap becomes a refetch.
async fn listen(client: redis::Client, mut pubsub: redis::aio::PubSub, hub: Arc<Hub>, mut conn: MultiplexedConnection) {
    loop {
        {
            let mut messages = pubsub.into_on_message();
            while let Some(msg) = messages.next().await {
                let channel = msg.get_channel_name();
                if channel == PRESENCE_CHANNEL {
                    match msg.get_payload::<String>().ok().and_then(|t| serde_json::from_str(&t).ok()) {
                        Some(Presence::Members { src, topic, members, count }) => {
                            hub.remote_presence(src, &topic, members, count);
                        }
                        Some(Presence::Sync { sync }) if sync != hub.source() => hub.announce_all(),
                        _ => {}
                    }
                    continue;
                }
                let Some(topic) = channel.strip_prefix(CHANNEL_PREFIX) else { continue };
                let Ok(text) = msg.get_payload::<String>() else { continue };
                let parsed = text
                    .split_once(' ')
                    .and_then(|(seq, body)| Some((seq.parse::<u64>().ok()?, Payload::from_body(body)?)));
                match parsed {
                    Some((seq, payload)) => hub.deliver(topic, seq, payload),
                    None => tracing::warn!(target: "fymo::live", topic, "ignoring a malformed message from redis"),
                }
            }
        }
        tracing::warn!(target: "fymo::live", "redis subscription lost: reconnecting");
        let mut delay = Duration::from_millis(100);
        pubsub = loop {
            tokio::time::sleep(delay).await;
            match subscribe(&client).await {
                Ok(p) => break p,
                Err(e) => {
                    tracing::warn!(target: "fymo::live", error = %e, "redis: still unreachable");
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        };
        for topic in hub.known_topics() {
            if let Ok(Some(head)) = head(&mut conn, &topic).await {
                hub.resync(&topic, head);
            }
        }
        // Presence announced while cut off was missed both ways.
        hub.announce_all();
        let _ = announce(&mut conn, &Presence::Sync { sync: hub.source() }).await;
    }
}

async fn head(conn: &mut MultiplexedConnection, topic: &str) -> redis::RedisResult<Option<u64>> {
    redis::cmd("GET")
        .arg(format!("{COUNTER_PREFIX}{topic}"))
        .query_async::<Option<u64>>(conn)
        .await
        .map(|h| Some(h.unwrap_or(0)))
}

async fn announce(conn: &mut MultiplexedConnection, presence: &Presence) -> redis::RedisResult<()> {
    let text = serde_json::to_string(presence).expect("serializes");
    redis::cmd("PUBLISH").arg(PRESENCE_CHANNEL).arg(text).query_async::<()>(conn).await
}

/// Publishes in order (one at a time, so this process's messages keep their order).
async fn run_commands(mut conn: MultiplexedConnection, mut commands: mpsc::UnboundedReceiver<Command>) {
    let script = redis::Script::new(PUBLISH_SCRIPT);
    while let Some(command) = commands.recv().await {
        match command {
            Command::Publish { topic, body } => {
                let result = script
                    .key(format!("{COUNTER_PREFIX}{topic}"))
                    .key(format!("{CHANNEL_PREFIX}{topic}"))
                    .arg(body)
                    .invoke_async::<u64>(&mut conn)
                    .await;
                if let Err(e) = result {
                    tracing::error!(target: "fymo::live", topic, error = %e, "redis publish failed");
                }
            }
            Command::Head { topic, reply } => {
                let _ = reply.send(head(&mut conn, &topic).await.ok().flatten());
            }
            Command::Presence { src, topic, members, count } => {
                let _ = announce(&mut conn, &Presence::Members { src, topic, members, count }).await;
            }
            Command::Sync { src } => {
                let _ = announce(&mut conn, &Presence::Sync { sync: src }).await;
            }
        }
    }
}
