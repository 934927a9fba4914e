//! [`Outbox`]: one subscriber's send queue, with a limit.
//!
//! The hub pushes without waiting; the socket drains. Past the limit nothing grows:
//! a patch is merged into the patch already queued for its topic (the latest value
//! wins), and otherwise the topic's whole backlog is replaced by one `stale` notice, so
//! a slow consumer refetches its props instead of being buffered without end.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::hub::{Frame, Msg};
use super::{merge_patch, Payload};

/// One item of the queue.
#[derive(Debug, Clone)]
pub(crate) enum Out {
    /// A message, as published.
    Msg(Arc<Msg>),
    /// Patches merged while the queue was full: the merged patch, at the last one's position.
    Merged {
        /// Topic.
        topic: Arc<str>,
        /// Position of the last patch merged in.
        seq: u64,
        /// The merged patch.
        patch: serde_json::Value,
    },
    /// Who is on a topic now (replaces an older notice still queued).
    Presence {
        /// Topic.
        topic: Arc<str>,
        /// The frame (shared by every subscriber).
        frame: Frame,
    },
    /// The subscriber missed messages of `topic` up to `seq`: refetch the props.
    Stale {
        /// Topic.
        topic: Arc<str>,
        /// Its position once refetched.
        seq: u64,
    },
}

impl Out {
    fn topic(&self) -> &str {
        match self {
            Self::Msg(m) => &m.topic,
            Self::Merged { topic, .. } | Self::Stale { topic, .. } | Self::Presence { topic, .. } => topic,
        }
    }

    /// The text frame for the socket.
    pub(crate) fn frame(&self) -> Frame {
        match self {
            Self::Msg(m) => m.frame.clone(),
            Self::Presence { frame, .. } => frame.clone(),
            Self::Merged { topic, seq, patch } => {
                serde_json::json!({ "t": "ev", "topic": &**topic, "seq": seq, "patch": patch }).to_string().into()
            }
            Self::Stale { topic, seq } => {
                serde_json::json!({ "t": "stale", "topic": &**topic, "seq": seq }).to_string().into()
            }
        }
    }
}

#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Out>,
    closed: bool,
    /// Messages replaced by merges or stale notices, for the logs and tests.
    dropped: u64,
}

/// A subscriber's bounded send queue.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Mutex<Queue>,
    notify: Notify,
    limit: usize,
}

impl Outbox {
    /// An empty queue of at most `limit` items.
    pub(crate) fn new(limit: usize) -> Self {
        Self { queue: Mutex::new(Queue::default()), notify: Notify::new(), limit: limit.max(1) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `msg` (see the module docs for a full queue).
    pub(crate) fn push(&self, msg: &Arc<Msg>) {
        let mut q = self.lock();
        if q.closed {
            return;
        }
        if q.items.len() < self.limit {
            q.items.push_back(Out::Msg(msg.clone()));
        } else {
            Self::overflow(&mut q, msg);
        }
        drop(q);
        self.notify.notify_one();
    }

    /// Queues a stale notice for `topic` (replacing its backlog).
    pub(crate) fn push_stale(&self, topic: &Arc<str>, seq: u64) {
        let mut q = self.lock();
        let before = q.items.len();
        q.items.retain(|o| o.topic() != &**topic || matches!(o, Out::Presence { .. }));
        q.dropped += (before - q.items.len()) as u64;
        q.items.push_back(Out::Stale { topic: topic.clone(), seq });
        drop(q);
        self.notify.notify_one();
    }

    /// Queues a presence notice for `topic`, replacing one still queued.
    pub(crate) fn push_presence(&self, topic: &Arc<str>, frame: Frame) {
        let mut q = self.lock();
        q.items.retain(|o| !matches!(o, Out::Presence { topic: t, .. } if t == topic));
        q.items.push_back(Out::Presence { topic: topic.clone(), frame });
        drop(q);
        self.notify.notify_one();
    }

    fn overflow(q: &mut Queue, msg: &Arc<Msg>) {
        q.dropped += 1;
        let topic = &*msg.topic;
        if let Payload::Patch(patch) = &msg.payload {
            // The latest value wins: fold it into the patch already queued for the topic.
            let queued = q.items.iter_mut().rev().find(|o| o.topic() == topic && !matches!(o, Out::Presence { .. }));
            match queued {
                Some(Out::Merged { seq, patch: merged, .. }) => {
                    merge_patch(merged, patch);
                    *seq = msg.seq;
                    return;
                }
                Some(slot @ Out::Msg(_)) => {
                    if let Out::Msg(old) = &*slot {
                        if let Payload::Patch(old_patch) = &old.payload {
                            let mut merged = old_patch.clone();
                            merge_patch(&mut merged, patch);
                            *slot = Out::Merged { topic: msg.topic.clone(), seq: msg.seq, patch: merged };
                            return;
                        }
                    }
                }
                Some(Out::Stale { seq, .. }) => {
                    *seq = msg.seq;
                    return;
                }
                _ => {}
            }
        } else if let Some(Out::Stale { seq, .. }) =
            q.items.iter_mut().rev().find(|o| o.topic() == topic && !matches!(o, Out::Presence { .. }))
        {
            *seq = msg.seq;
            return;
        }
        // Events (or a patch with nothing to fold into): the topic's backlog becomes one
        // stale notice, which takes the place of what it replaces.
        let before = q.items.len();
        q.items.retain(|o| o.topic() != topic || matches!(o, Out::Presence { .. }));
        q.dropped += (before - q.items.len()) as u64;
        q.items.push_back(Out::Stale { topic: msg.topic.clone(), seq: msg.seq });
    }

    /// Everything queued, oldest first; waits while the queue is empty. `None` once closed.
    pub(crate) async fn next_batch(&self, into: &mut Vec<Out>) -> bool {
        loop {
            let notified = self.notify.notified();
            {
                let mut q = self.lock();
                if q.closed {
                    return false;
                }
                if !q.items.is_empty() {
                    into.extend(q.items.drain(..));
                    return true;
                }
            }
            notified.await;
        }
    }

    /// Ends the queue: the socket's next wait returns `false`.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_one();
    }

    /// Items waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(topic: &str, seq: u64, payload: Payload) -> Arc<Msg> {
        Arc::new(Msg::new(Arc::from(topic), seq, payload))
    }

    #[tokio::test]
    async fn a_full_queue_merges_patches_and_turns_events_into_a_stale_notice() {
        let outbox = Outbox::new(2);
        outbox.push(&msg("a", 1, Payload::Patch(json!({"x": 1}))));
        outbox.push(&msg("b", 1, Payload::Event { name: "e".into(), data: json!(1) }));
        outbox.push(&msg("a", 2, Payload::Patch(json!({"y": 2}))));
        outbox.push(&msg("a", 3, Payload::Patch(json!({"x": 3}))));
        assert_eq!(outbox.len(), 2);
        outbox.push(&msg("b", 2, Payload::Event { name: "e".into(), data: json!(2) }));
        outbox.push(&msg("b", 3, Payload::Event { name: "e".into(), data: json!(3) }));
        let mut batch = Vec::new();
        assert!(outbox.next_batch(&mut batch).await);
        let frames: Vec<serde_json::Value> = batch.iter().map(|o| serde_json::from_str(&o.frame()).unwrap()).collect();
        assert_eq!(
            frames,
            [
                json!({"t": "ev", "topic": "a", "seq": 3, "patch": {"x": 3, "y": 2}}),
                json!({"t": "stale", "topic": "b", "seq": 3}),
            ]
        );
        outbox.close();
        assert!(!outbox.next_batch(&mut batch).await);
    }
}
