//! [`Hub`]: this process's topics — each one's position, its last messages and its
//! local subscribers — and the admission of live connections (caps, shutdown).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::outbox::Outbox;
use super::Payload;

/// One published message, with the text frame every subscriber gets: serialized once
/// per message, its bytes shared (reference-counted) by every socket that sends it.
#[derive(Debug)]
pub(crate) struct Msg {
    pub(crate) topic: Arc<str>,
    pub(crate) seq: u64,
    pub(crate) payload: Payload,
    pub(crate) frame: Frame,
}

/// A text frame, shared without copying.
pub(crate) type Frame = axum::extract::ws::Utf8Bytes;

impl Msg {
    pub(crate) fn new(topic: Arc<str>, seq: u64, payload: Payload) -> Self {
        #[derive(serde::Serialize)]
        struct Ev<'a> {
            t: &'static str,
            topic: &'a str,
            seq: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            patch: Option<&'a serde_json::Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            event: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a serde_json::Value>,
        }
        let (patch, event, data) = match &payload {
            Payload::Patch(patch) => (Some(patch), None, None),
            Payload::Event { name, data } => (None, Some(name.as_str()), Some(data)),
        };
        let frame = serde_json::to_string(&Ev { t: "ev", topic: &topic, seq, patch, event, data }).expect("serializes");
        Self { frame: frame.into(), topic, seq, payload }
    }
}

/// Live settings.
#[derive(Debug, Clone)]
pub(crate) struct HubConfig {
    /// Messages kept per topic for subscribers that arrive late or reconnect.
    pub(crate) buffer: usize,
    /// A subscriber's send queue limit (items).
    pub(crate) queue_limit: usize,
    /// Live connections per process.
    pub(crate) max_connections: usize,
    /// Live connections per client IP address.
    pub(crate) max_per_ip: usize,
    /// How often sockets send a heartbeat.
    pub(crate) heartbeat: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            buffer: 256,
            queue_limit: 256,
            max_connections: 10_000,
            max_per_ip: 64,
            heartbeat: Duration::from_secs(20),
        }
    }
}

/// What the hub asks of a remote broker.
#[derive(Debug)]
pub(crate) enum Command {
    /// Publish `body` (see [`Payload::to_body`]) on `topic`.
    Publish { topic: String, body: String },
    /// The current position of `topic`.
    Head { topic: String, reply: oneshot::Sender<Option<u64>> },
    /// Who is on `topic` in this process (sent when it changes, and every heartbeat while
    /// anyone is): the broker carries it to every other process.
    Presence { src: u64, topic: String, members: Vec<String>, count: usize },
    /// Asks every other process to announce its presence (this one just joined).
    Sync { src: u64 },
}

/// Another process's subscribers of a topic, as it last announced them.
#[derive(Debug)]
struct Remote {
    members: Vec<String>,
    count: usize,
    heard: tokio::time::Instant,
}

#[derive(Debug)]
struct Sub {
    outbox: Arc<Outbox>,
    /// The last position this subscriber has (been sent).
    last: u64,
    /// Shown in presence (signed-in visitors by name).
    who: Option<String>,
}

#[derive(Debug, Default)]
struct Topic {
    /// The highest position known.
    head: u64,
    /// This process holds (or has delivered) every message after this position;
    /// `None` until learned from the broker.
    floor: Option<u64>,
    buffer: VecDeque<Arc<Msg>>,
    subs: HashMap<u64, Sub>,
    /// Other processes' subscribers (by their source id), for presence.
    others: HashMap<u64, Remote>,
}

/// A connection's subscription to one topic, as asked for.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    /// The topic.
    pub(crate) topic: String,
    /// The position the page was rendered at (`None`: from now on).
    pub(crate) since: Option<u64>,
}

/// This process's topics and live connections.
pub(crate) struct Hub {
    config: HubConfig,
    topics: Mutex<HashMap<Arc<str>, Topic>>,
    /// `None`: this process is the authority (memory broker).
    remote: OnceLock<mpsc::UnboundedSender<Command>>,
    connections: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    next_conn: AtomicU64,
    stopping: watch::Sender<bool>,
    published: AtomicU64,
    /// This process's id in presence announcements (random: unique across hosts).
    source: u64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A live connection admitted by [`Hub::admit`]; counted until dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    hub: Arc<Hub>,
    ip: Option<IpAddr>,
    /// This connection's id.
    pub(crate) id: u64,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.hub.connections.fetch_sub(1, Ordering::SeqCst);
        if let Some(ip) = self.ip {
            let mut per_ip = self.hub.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(n) = per_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
        self.hub.stopping.send_modify(|_| {}); // wakes `shutdown`, which counts
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    /// The process has its cap of live connections.
    #[error("this server has too many live connections")]
    Full,
    /// The client's address has its cap.
    #[error("too many live connections from this address")]
    PerIp,
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Stopping,
}

impl Hub {
    /// A hub that is its own authority until [`Hub::attach`] gives it a broker.
    pub(crate) fn new(config: HubConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            topics: Mutex::new(HashMap::new()),
            remote: OnceLock::new(),
            connections: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            stopping: watch::Sender::new(false),
            published: AtomicU64::new(0),
            source: getrandom::u64().unwrap_or_else(|_| u64::from(std::process::id())),
        })
    }

    /// The settings.
    pub(crate) fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Routes publishes and position queries to a remote broker from now on.
    pub(crate) fn attach(&self, commands: mpsc::UnboundedSender<Command>) {
        let _ = self.remote.set(commands);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Topic>> {
        self.topics.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn entry<'a>(&self, topics: &'a mut HashMap<Arc<str>, Topic>, topic: &str) -> (&'a mut Topic, Arc<str>) {
        let key: Arc<str> = match topics.get_key_value(topic) {
            Some((k, _)) => k.clone(),
            None => Arc::from(topic),
        };
        let local = self.remote.get().is_none();
        let t = topics
            .entry(key.clone())
            .or_insert_with(|| Topic { floor: if local { Some(0) } else { None }, ..Topic::default() });
        (t, key)
    }

    /// Publishes `payload` on `topic` (a valid name): delivered here at once with the
    /// memory broker, else through the broker (and back to this process from it).
    pub(crate) fn publish(&self, topic: &str, payload: &Payload) {
        self.published.fetch_add(1, Ordering::Relaxed);
        match self.remote.get() {
            Some(remote) => {
                let _ = remote.send(Command::Publish { topic: topic.to_owned(), body: payload.to_body() });
            }
            None => {
                let mut topics = self.lock();
                let (t, _) = self.entry(&mut topics, topic);
                let seq = t.head + 1;
                drop(topics);
                self.deliver(topic, seq, payload.clone());
            }
        }
    }

    /// A message at position `seq`, from the authority: buffered and queued for every
    /// subscriber here that does not have it yet. Old and repeated positions are ignored.
    pub(crate) fn deliver(&self, topic: &str, seq: u64, payload: Payload) {
        let mut topics = self.lock();
        let (t, key) = self.entry(&mut topics, topic);
        if seq <= t.head && t.floor.is_some() {
            return; // already have it
        }
        if t.floor.is_some() && seq > t.head + 1 {
            // A gap (the broker lost messages while we were cut off): what we hold no
            // longer leads up to this message.
            tracing::warn!(target: "fymo::live", topic, from = t.head, to = seq, "gap in a topic: subscribers refetch");
            t.buffer.clear();
            t.floor = Some(seq - 1);
            for sub in t.subs.values_mut().filter(|s| s.last < seq - 1) {
                sub.outbox.push_stale(&key, seq - 1);
                sub.last = seq - 1;
            }
        }
        if t.floor.is_none() {
            t.floor = Some(seq - 1);
        }
        let msg = Arc::new(Msg::new(key, seq, payload));
        t.head = seq;
        t.buffer.push_back(msg.clone());
        while t.buffer.len() > self.config.buffer {
            if let Some(old) = t.buffer.pop_front() {
                t.floor = Some(old.seq);
            }
        }
        for sub in t.subs.values_mut() {
            if sub.last < seq {
                sub.outbox.push(&msg);
                sub.last = seq;
            }
        }
    }

    /// The current position of `topic`, asking the broker when this process does not
    /// know it yet.
    pub(crate) async fn position(&self, topic: &str) -> u64 {
        {
            let mut topics = self.lock();
            // In one process a topic nobody published on is at 0: rendering a page must not
            // leave an entry behind for every topic name a URL can make.
            if self.remote.get().is_none() && !topics.contains_key(topic) {
                return 0;
            }
            let (t, _) = self.entry(&mut topics, topic);
            if t.floor.is_some() {
                return t.head;
            }
        }
        let Some(remote) = self.remote.get() else { return 0 };
        let (reply, answer) = oneshot::channel();
        let _ = remote.send(Command::Head { topic: topic.to_owned(), reply });
        let head = tokio::time::timeout(Duration::from_secs(5), answer).await.ok().and_then(Result::ok).flatten();
        let mut topics = self.lock();
        let (t, _) = self.entry(&mut topics, topic);
        match head {
            Some(head) if t.floor.is_none() => {
                t.floor = Some(head);
                t.head = t.head.max(head);
                t.head
            }
            // Unknown still (the broker is unreachable): the caller's subscribers will
            // refetch when messages come.
            _ => t.head,
        }
    }

    /// Subscribes connection `conn` (queueing into `outbox`) to `sub.topic` from
    /// `sub.since`: buffered messages after it are queued now; if the buffer does not
    /// reach back that far, a stale notice is.
    pub(crate) async fn subscribe(&self, conn: u64, sub: &Subscription, outbox: &Arc<Outbox>, who: Option<String>) {
        self.position(&sub.topic).await;
        let mut topics = self.lock();
        let (t, key) = self.entry(&mut topics, &sub.topic);
        let head = t.head;
        let last = match (sub.since, t.floor) {
            (None, _) => head,
            (Some(since), Some(floor)) if since >= floor => {
                for msg in t.buffer.iter().filter(|m| m.seq > since) {
                    outbox.push(msg);
                }
                since.max(head)
            }
            (Some(_), _) => {
                outbox.push_stale(&key, head);
                head
            }
        };
        t.subs.insert(conn, Sub { outbox: outbox.clone(), last, who });
        self.presence_changed(t, &key);
    }

    /// Ends connection `conn`'s subscription to `topic`.
    pub(crate) fn unsubscribe(&self, conn: u64, topic: &str) {
        let mut topics = self.lock();
        let Some(key) = topics.get_key_value(topic).map(|(k, _)| k.clone()) else { return };
        let t = topics.get_mut(&key).expect("found above");
        if t.subs.remove(&conn).is_some() {
            self.presence_changed(t, &key);
        }
        if t.subs.is_empty() && t.buffer.is_empty() && t.others.is_empty() && self.remote.get().is_some() {
            topics.remove(&key); // nothing to keep; its position is asked again when needed
        }
    }

    /// This process's subscribers of `key` changed: tell them (and the other processes).
    fn presence_changed(&self, t: &Topic, key: &Arc<str>) {
        self.announce(t, key);
        Self::push_presence(t, key);
    }

    /// Sends this process's subscribers of `key` to the broker (nothing with the memory
    /// broker: there is no other process).
    fn announce(&self, t: &Topic, key: &str) {
        if let Some(remote) = self.remote.get() {
            let (members, count) = local_members(t);
            let _ = remote.send(Command::Presence { src: self.source, topic: key.to_owned(), members, count });
        }
    }

    /// Gives the local subscribers of `key` the merged presence.
    fn push_presence(t: &Topic, key: &Arc<str>) {
        if t.subs.is_empty() {
            return;
        }
        let frame = presence_frame(key, t);
        for sub in t.subs.values() {
            sub.outbox.push_presence(key, frame.clone());
        }
    }

    /// Another process (`src`) announced its subscribers of `topic`.
    pub(crate) fn remote_presence(&self, src: u64, topic: &str, members: Vec<String>, count: usize) {
        if src == self.source || !super::valid_topic(topic) {
            return;
        }
        let mut topics = self.lock();
        let (t, key) = self.entry(&mut topics, topic);
        let heard = tokio::time::Instant::now();
        let changed = match t.others.get_mut(&src) {
            Some(r) if r.count == count && r.members == members => {
                r.heard = heard;
                false
            }
            _ if count == 0 => t.others.remove(&src).is_some(),
            _ => {
                t.others.insert(src, Remote { members, count, heard });
                true
            }
        };
        if changed {
            Self::push_presence(t, &key);
        }
    }

    /// Process `src` is gone (its relay connection closed): its subscribers are too.
    pub(crate) fn source_gone(&self, src: u64) {
        let mut topics = self.lock();
        for (key, t) in topics.iter_mut() {
            if t.others.remove(&src).is_some() {
                Self::push_presence(t, key);
            }
        }
    }

    /// Announces every topic this process has subscribers of (a heartbeat, or another
    /// process asked), and forgets other processes not heard from within `expiry`.
    pub(crate) fn refresh_presence(&self, expiry: Duration) {
        let now = tokio::time::Instant::now();
        let mut topics = self.lock();
        for (key, t) in topics.iter_mut() {
            if !t.subs.is_empty() {
                self.announce(t, key);
            }
            let before = t.others.len();
            t.others.retain(|_, r| now.duration_since(r.heard) < expiry);
            if t.others.len() != before {
                Self::push_presence(t, key);
            }
        }
    }

    /// This process's presence id.
    pub(crate) fn source(&self) -> u64 {
        self.source
    }

    /// Announces every topic this process has subscribers of (another process asked).
    pub(crate) fn announce_all(&self) {
        let topics = self.lock();
        for (key, t) in topics.iter() {
            if !t.subs.is_empty() {
                self.announce(t, key);
            }
        }
    }

    /// Who is on `topic` here: signed-in names (sorted, once each) and the count.
    pub(crate) fn presence(&self, topic: &str) -> Vec<String> {
        let topics = self.lock();
        topics.get(topic).map(members).unwrap_or_default().0
    }

    /// Admits a live connection from `ip`, or refuses it past the caps.
    ///
    /// # Errors
    /// See [`Refused`].
    pub(crate) fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Admission, Refused> {
        if *self.stopping.borrow() {
            return Err(Refused::Stopping);
        }
        let n = self.connections.fetch_add(1, Ordering::SeqCst);
        let admission = Admission { hub: self.clone(), ip: None, id: self.next_conn.fetch_add(1, Ordering::Relaxed) };
        if n >= self.config.max_connections {
            return Err(Refused::Full); // the drop gives the slot back
        }
        if let Some(ip) = ip {
            let mut per_ip = self.per_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = per_ip.entry(ip).or_insert(0);
            if *count >= self.config.max_per_ip {
                return Err(Refused::PerIp);
            }
            *count += 1;
        }
        let mut admission = admission;
        admission.ip = ip;
        Ok(admission)
    }

    /// Live connections open now.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Resolves when the server begins shutting down.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Tells every socket to close (clients reconnect, to another worker) and waits up
    /// to `grace` for them to go.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        self.stopping.send_replace(true);
        let mut watch = self.stopping.subscribe();
        let gone = async {
            while self.connections() > 0 {
                if watch.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(grace, gone).await;
    }

    /// Topics this process holds.
    pub(crate) fn known_topics(&self) -> Vec<String> {
        self.lock().keys().map(|k| k.to_string()).collect()
    }

    /// The broker says `topic` is at `head` (after a lost connection): if that is past
    /// what arrived here, the messages between are gone and subscribers refetch.
    pub(crate) fn resync(&self, topic: &str, head: u64) {
        let mut topics = self.lock();
        let (t, key) = self.entry(&mut topics, topic);
        if t.floor.is_some() && head > t.head {
            t.buffer.clear();
            t.floor = Some(head);
            t.head = head;
            for sub in t.subs.values_mut().filter(|s| s.last < head) {
                sub.outbox.push_stale(&key, head);
                sub.last = head;
            }
        }
    }

    /// Stats for `/_fymo/health`.
    pub(crate) fn stats(&self) -> serde_json::Value {
        let topics = self.lock();
        serde_json::json!({
            "connections": self.connections(),
            "topics": topics.len(),
            "subscriptions": topics.values().map(|t| t.subs.len()).sum::<usize>(),
            "published": self.published.load(Ordering::Relaxed),
        })
    }
}

/// This process's subscribers of a topic: signed-in names (sorted, once each), count.
fn local_members(t: &Topic) -> (Vec<String>, usize) {
    let mut names: Vec<String> = t.subs.values().filter_map(|s| s.who.clone()).collect();
    names.sort_unstable();
    names.dedup();
    (names, t.subs.len())
}

/// Every process's subscribers of a topic, merged.
fn members(t: &Topic) -> (Vec<String>, usize) {
    let (mut names, mut count) = local_members(t);
    for remote in t.others.values() {
        names.extend(remote.members.iter().cloned());
        count += remote.count;
    }
    names.sort_unstable();
    names.dedup();
    (names, count)
}

fn presence_frame(topic: &str, t: &Topic) -> Frame {
    let (names, count) = members(t);
    serde_json::json!({ "t": "presence", "topic": topic, "members": names, "count": count }).to_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn drain(outbox: &Outbox) -> Vec<serde_json::Value> {
        let mut batch = Vec::new();
        outbox.next_batch(&mut batch).await;
        batch
            .iter()
            .map(|o| serde_json::from_str(&o.frame()).unwrap())
            .filter(|v: &serde_json::Value| v["t"] != "presence")
            .collect()
    }

    #[tokio::test]
    async fn replays_from_the_rendered_position_once_and_refetches_past_the_buffer() {
        let hub = Hub::new(HubConfig { buffer: 3, ..HubConfig::default() });
        let patch = |n: i32| Payload::Patch(json!({ "n": n }));
        hub.publish("t", &patch(1));
        let rendered = hub.position("t").await;
        assert_eq!(rendered, 1);
        hub.publish("t", &patch(2)); // after the render, before the socket
        let outbox = Arc::new(Outbox::new(16));
        hub.subscribe(1, &Subscription { topic: "t".into(), since: Some(rendered) }, &outbox, None).await;
        hub.publish("t", &patch(3));
        let seqs: Vec<u64> = drain(&outbox).await.iter().map(|f| f["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [2, 3], "each message once, in order");

        for n in 4..=8 {
            hub.publish("t", &patch(n));
        }
        let late = Arc::new(Outbox::new(16));
        hub.subscribe(2, &Subscription { topic: "t".into(), since: Some(2) }, &late, None).await;
        assert_eq!(drain(&late).await, [json!({"t": "stale", "topic": "t", "seq": 8})]);
    }
}
