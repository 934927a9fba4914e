//! [`Session`]: the visitor's session as a controller sees it — a map of JSON values
//! that lives in an encrypted cookie, with a CSRF token, sign-in rotation and a flash
//! message that shows once. The server loads it before the controller and writes the
//! cookie back after, only when something changed.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The session of one request; clones share it, so a change made by the controller is
/// seen by the server that answers.
#[derive(Debug, Clone, Default)]
pub struct Session {
    state: Arc<Mutex<SessionState>>,
}

/// What the cookie carries (besides its expiry, which the server adds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SessionState {
    /// Identifies this session; a new one on sign-in and sign-out.
    pub(crate) id: String,
    /// The token unsafe requests must carry.
    pub(crate) csrf: String,
    /// The app's values.
    pub(crate) data: Map<String, Value>,
    /// A message for the next page (set now, shown once there).
    pub(crate) flash: Option<String>,
    /// The message the previous request left, taken out when this one began.
    #[serde(skip)]
    pub(crate) flashed: Option<String>,
    /// When it began (Unix seconds): a session lives at most the absolute lifetime from
    /// here; signing in starts it again.
    #[serde(default)]
    pub(crate) created: u64,
    /// Something changed: the cookie must be written.
    #[serde(skip)]
    pub(crate) changed: bool,
}

impl Session {
    /// Wraps a loaded (or new) state.
    pub(crate) fn from_state(state: SessionState) -> Self {
        Self { state: Arc::new(Mutex::new(state)) }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value under `key`, if it is there and reads as a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.lock().data.get(key).and_then(|v| T::deserialize(v).ok())
    }

    /// Stores `value` under `key`.
    ///
    /// # Panics
    /// When `value` does not serialize to JSON (a map with non-string keys).
    pub fn insert(&self, key: impl Into<String>, value: impl Serialize) {
        let value = serde_json::to_value(value).expect("session values serialize to JSON");
        let mut state = self.lock();
        state.data.insert(key.into(), value);
        state.changed = true;
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut state = self.lock();
        let old = state.data.remove(key);
        state.changed |= old.is_some();
        old
    }

    /// Every value, as a JSON object.
    pub fn data(&self) -> Map<String, Value> {
        self.lock().data.clone()
    }

    /// Replaces every value (what a Python controller left in `request["session"]`).
    pub(crate) fn replace_data(&self, data: Map<String, Value>) {
        let mut state = self.lock();
        if state.data != data {
            state.data = data;
            state.changed = true;
        }
    }

    /// The session's id (what live signatures are bound to); a new one on sign-in and
    /// sign-out.
    pub(crate) fn id(&self) -> String {
        self.lock().id.clone()
    }

    /// Signing in: a new session id and CSRF token, keeping the values, so that a token
    /// or id learned before sign-in is worth nothing after.
    pub fn rotate(&self) {
        let mut state = self.lock();
        state.id = random_token();
        state.csrf = random_token();
        state.created = unix_now();
        state.changed = true;
    }

    /// Signing out: drops every value and rotates.
    pub fn clear(&self) {
        self.lock().data.clear();
        self.rotate();
    }

    /// Leaves `message` for the next page the visitor sees (after a redirect), once.
    pub fn flash(&self, message: impl Into<String>) {
        let mut state = self.lock();
        state.flash = Some(message.into());
        state.changed = true;
    }

    /// The message the previous request left with [`Session::flash`], if any.
    pub fn flashed(&self) -> Option<String> {
        self.lock().flashed.clone()
    }

    /// An independent copy (changes to one are not seen by the other).
    pub(crate) fn detached(&self) -> Self {
        Self::from_state(self.lock().clone())
    }

    /// Whether what the cookie would carry differs from `other`'s (values, flash, id,
    /// token), ignoring what only bookkeeping changed.
    pub(crate) fn differs_from(&self, other: &Self) -> bool {
        let (a, b) = (self.lock().clone(), other.lock());
        a.id != b.id || a.csrf != b.csrf || a.data != b.data || a.flash != b.flash
    }

    /// The CSRF token forms must send back (`_csrf` field or `X-CSRF-Token` header).
    pub fn csrf_token(&self) -> String {
        self.lock().csrf.clone()
    }
}

/// 32 random bytes as hex: session ids and CSRF tokens.
/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator");
    hex(&bytes)
}

/// Two independent [`random_token`]s from one call to the OS generator (a new session's
/// id and CSRF token).
pub(crate) fn random_token_pair() -> (String, String) {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).expect("the OS random number generator");
    (hex(&bytes[..32]), hex(&bytes[32..]))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_flash_and_rotation() {
        let session = Session::from_state(SessionState { csrf: "t".into(), ..SessionState::default() });
        assert_eq!(session.get::<String>("user"), None);
        session.insert("user", "ada");
        assert_eq!(session.get::<String>("user").as_deref(), Some("ada"));
        session.rotate();
        assert_ne!(session.csrf_token(), "t");
        assert_eq!(session.csrf_token().len(), 64);
        assert_eq!(hex(&[0, 9, 10, 255]), "00090aff");
        let (id, csrf) = random_token_pair();
        assert!(id.len() == 64 && csrf.len() == 64 && id != csrf);
        session.flash("hi");
        assert_eq!(session.lock().flash.as_deref(), Some("hi"));
        session.clear();
        assert_eq!(session.get::<String>("user"), None);
        assert!(session.lock().changed);
    }
}
