//! Live pages: topics, subscriptions and the brokers that carry a publish to every
//! process that serves a subscriber.
//!
//! - A *topic* (`chat:lobby`, `user:42`) is a stream of messages, each a props patch
//!   (merged into every subscribed page's props) or a named event. Every message has a
//!   *position* (`seq`, 1, 2, 3, … per topic) given by one authority: this process
//!   ([`Broker::Memory`]), the prefork master ([`Broker::Relay`]) or Redis
//!   ([`Broker::Redis`]), so positions mean the same on every worker and host.
//! - The [`Hub`] of a process keeps, per topic, the last few messages (a bounded
//!   buffer) and the subscribers of this process. A page is rendered with the position
//!   of each of its topics; its socket subscribes from there, so whatever was published
//!   between the render and the subscription is replayed, once. When the buffer no longer
//!   reaches back that far, the subscriber is told its props are stale (it refetches
//!   them, never the whole page).
//! - Each subscriber has an [`Outbox`], a send queue with a limit: past it, a patch is
//!   merged into the one already queued for its topic (the latest value wins) and any
//!   other backlog of a topic is replaced by one "stale" notice.
//!
//! The socket endpoint is the server's (`server::live`); this module knows nothing of
//! HTTP.

mod broker;
mod hub;
mod outbox;
mod redis;
mod relay;

pub(crate) use broker::Broker;
pub(crate) use hub::{Hub, HubConfig, Subscription};
pub(crate) use outbox::Outbox;
pub(crate) use relay::{RelayServer, RELAY_ENV};

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::controller::unix_now;

/// A message's body: what the broker carries (besides topic and position).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Merged into every subscribed page's props (JSON merge patch: `null` removes a key).
    Patch(Value),
    /// A named event the page's components handle (`live.on(name, fn)`).
    Event {
        /// The event's name.
        name: String,
        /// Its data.
        data: Value,
    },
}

impl Payload {
    /// The body as the brokers carry it: `{"patch":…}` or `{"event":…,"data":…}`.
    pub(crate) fn to_body(&self) -> String {
        match self {
            Self::Patch(patch) => serde_json::json!({ "patch": patch }).to_string(),
            Self::Event { name, data } => serde_json::json!({ "event": name, "data": data }).to_string(),
        }
    }

    /// A body read back; `None` when it is not one.
    pub(crate) fn from_body(body: &str) -> Option<Self> {
        let Value::Object(mut map) = serde_json::from_str(body).ok()? else { return None };
        if let Some(patch) = map.remove("patch") {
            return Some(Self::Patch(patch));
        }
        let name = map.remove("event")?.as_str()?.to_owned();
        Some(Self::Event { name, data: map.remove("data").unwrap_or(Value::Null) })
    }
}

/// Why a publish was refused.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Not a usable topic name.
    #[error("`{0}` is not a topic name: use 1-200 characters of letters, digits and `:._-/@`")]
    BadTopic(String),
    /// This process has no live hub (a controller called outside a server).
    #[error("live updates are not available here")]
    Unavailable,
}

pub(crate) use crate::config::valid_topic;

/// A handle controllers publish through (see `RequestContext::live`). Cheap to clone.
#[derive(Clone)]
pub struct Live {
    hub: Arc<Hub>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl Live {
    pub(crate) fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }

    /// Merges `patch` into the props of every page subscribed to `topic`, on every
    /// worker and host sharing the broker.
    ///
    /// # Errors
    /// A bad topic name.
    pub fn publish_patch(&self, topic: &str, patch: Value) -> Result<(), LiveError> {
        self.publish(topic, Payload::Patch(patch))
    }

    /// Sends event `name` with `data` to every page subscribed to `topic`.
    ///
    /// # Errors
    /// A bad topic name.
    pub fn publish_event(&self, topic: &str, name: &str, data: Value) -> Result<(), LiveError> {
        self.publish(topic, Payload::Event { name: name.to_owned(), data })
    }

    /// Publishes `payload` on `topic`.
    ///
    /// # Errors
    /// A bad topic name.
    pub fn publish(&self, topic: &str, payload: Payload) -> Result<(), LiveError> {
        if !valid_topic(topic) {
            return Err(LiveError::BadTopic(topic.to_owned()));
        }
        self.hub.publish(topic, &payload);
        Ok(())
    }

    /// Who is on `topic` (the names of this cluster's subscribers, signed-in ones by name).
    pub fn presence(&self, topic: &str) -> Vec<String> {
        self.hub.presence(topic)
    }
}

/// How long a page's topic signature admits a subscription. A live connection is sent a
/// fresh one when it subscribes and before this runs out, so an open page keeps working;
/// a signature copied out of a page is worth nothing elsewhere or later.
pub(crate) const TOPIC_SIG_TTL: Duration = Duration::from_secs(6 * 3600);

/// Signs a page's topic list for one session (its id), valid until `TOPIC_SIG_TTL` from
/// now: `EXPIRES.HEX`, so that a socket of that session may subscribe to exactly those
/// topics until then.
pub(crate) fn sign_topics<'a>(secret: &str, session: &str, topics: impl IntoIterator<Item = &'a str>) -> String {
    let expires = unix_now() + TOPIC_SIG_TTL.as_secs();
    let mac = topics_mac(secret, session, expires, topics);
    let hex = crate::controller::hex(&mac.finalize().into_bytes());
    format!("{expires}.{hex}")
}

/// What checking a signature found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicSig {
    /// It signs these topics for this session and has not run out.
    Valid,
    /// It did sign them, but its time is past: the page's props hold a fresh one.
    Expired,
    /// Not a signature of these topics for this session.
    Invalid,
}

/// Checks `sig` against `topics` and `session` (the MAC in constant time).
pub(crate) fn verify_topics<'a>(
    secret: &str,
    session: &str,
    topics: impl IntoIterator<Item = &'a str>,
    sig: &str,
) -> TopicSig {
    let topics: Vec<&str> = topics.into_iter().collect();
    let Some((expires, hex)) = sig.split_once('.') else { return TopicSig::Invalid };
    let (Ok(expires), Some(bytes)) = (expires.parse::<u64>(), unhex(hex)) else { return TopicSig::Invalid };
    if !topics.iter().all(|t| valid_topic(t))
        || topics_mac(secret, session, expires, topics).verify_slice(&bytes).is_err()
    {
        return TopicSig::Invalid;
    }
    if expires <= unix_now() {
        TopicSig::Expired
    } else {
        TopicSig::Valid
    }
}

fn topics_mac<'a>(
    secret: &str,
    session: &str,
    expires: u64,
    topics: impl IntoIterator<Item = &'a str>,
) -> Hmac<Sha256> {
    let mut topics: Vec<&str> = topics.into_iter().collect();
    topics.sort_unstable();
    topics.dedup();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"fymo-live-topics\n");
    // Length-prefixed: no topic or session id, whatever bytes it holds, can read as two.
    for part in std::iter::once(session).chain(topics) {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&expires.to_be_bytes());
    mac
}

/// Lowercase or uppercase hex to bytes; `None` for anything else.
fn unhex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else
/// replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let object = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn topic_signatures() {
        let sig = sign_topics("s", "session", ["b", "a"]);
        assert_eq!(verify_topics("s", "session", ["a", "b"], &sig), TopicSig::Valid);
        assert_eq!(verify_topics("s", "session", ["a", "c"], &sig), TopicSig::Invalid);
        assert_eq!(verify_topics("t", "session", ["a", "b"], &sig), TopicSig::Invalid);
        assert_eq!(verify_topics("s", "another", ["a", "b"], &sig), TopicSig::Invalid, "bound to the session");
        assert!(valid_topic("user:42") && !valid_topic("a b") && !valid_topic(""));
        // One topic holding a newline must not sign as two.
        let one = sign_topics("s", "x", ["room:a\nuser:42"]);
        assert_ne!(one.split('.').nth(1), sign_topics("s", "x", ["room:a", "user:42"]).split('.').nth(1));
        assert_eq!(verify_topics("s", "x", ["room:a\nuser:42"], &one), TopicSig::Invalid);
    }

    #[test]
    fn topic_signatures_run_out_and_cannot_be_extended() {
        let past = unix_now() - 1;
        let hex = crate::controller::hex(&topics_mac("s", "x", past, ["a"]).finalize().into_bytes());
        assert_eq!(verify_topics("s", "x", ["a"], &format!("{past}.{hex}")), TopicSig::Expired);
        // The expiry is signed: moving it forward breaks the signature.
        assert_eq!(verify_topics("s", "x", ["a"], &format!("{}.{hex}", past + 3600)), TopicSig::Invalid);
        assert_eq!(verify_topics("s", "x", ["a"], "garbage"), TopicSig::Invalid);
    }

    #[test]
    fn merge_patches() {
        let mut v = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut v, &json!({"a": null, "b": {"c": 5}, "e": [1]}));
        assert_eq!(v, json!({"b": {"c": 5, "d": 3}, "e": [1]}));
        let p = Payload::Event { name: "m".into(), data: json!({"x": 1}) };
        assert_eq!(Payload::from_body(&p.to_body()), Some(p));
    }
}
