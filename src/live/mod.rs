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

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

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

/// Signs a page's topic list so that its socket may subscribe to exactly those topics.
pub(crate) fn sign_topics<'a>(secret: &str, topics: impl IntoIterator<Item = &'a str>) -> String {
    let mut topics: Vec<&str> = topics.into_iter().collect();
    topics.sort_unstable();
    topics.dedup();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"fymo-live-topics\n");
    // Length-prefixed: no topic, whatever bytes it holds, can read as two.
    for topic in topics {
        mac.update(&(topic.len() as u64).to_be_bytes());
        mac.update(topic.as_bytes());
    }
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `sig` signs `topics` (constant time).
pub(crate) fn verify_topics<'a>(secret: &str, topics: impl IntoIterator<Item = &'a str>, sig: &str) -> bool {
    let topics: Vec<&str> = topics.into_iter().collect();
    if !topics.iter().all(|t| valid_topic(t)) {
        return false;
    }
    let want = sign_topics(secret, topics);
    want.len() == sig.len() && want.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
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
        let sig = sign_topics("s", ["b", "a"]);
        assert!(verify_topics("s", ["a", "b"], &sig));
        assert!(!verify_topics("s", ["a", "c"], &sig));
        assert!(!verify_topics("t", ["a", "b"], &sig));
        assert!(valid_topic("user:42") && !valid_topic("a b") && !valid_topic(""));
        // One topic holding a newline must not sign as two.
        assert_ne!(sign_topics("s", ["room:a\nuser:42"]), sign_topics("s", ["room:a", "user:42"]));
        assert!(!verify_topics("s", ["room:a\nuser:42"], &sign_topics("s", ["room:a\nuser:42"])));
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
