//! Session cookies: the [`Session`] a controller sees, loaded from and stored in one
//! cookie that the `cookie` crate's private jar encrypts and authenticates (AES-256-GCM,
//! key derived from the app secret). A cookie that was tampered with, made with another
//! secret, or has expired is an empty session, never an error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{Deserialize, Serialize};

use crate::config::SessionSettings;
use crate::controller::{random_token_pair, Session, SessionState};

/// Shortest secret accepted: the key is derived from it.
pub(crate) const MIN_SECRET_LEN: usize = 32;

/// Loads and stores the sessions of one app.
#[derive(Clone)]
pub(crate) struct Sessions {
    key: Key,
    settings: SessionSettings,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("cookie", &self.settings.cookie).finish_non_exhaustive()
    }
}

/// The cookie's payload: the session and when it expires.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    state: SessionState,
    /// Unix seconds.
    exp: u64,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Sessions {
    /// Sessions keyed by `secret` (at least [`MIN_SECRET_LEN`] characters; checked where
    /// the secret is chosen).
    pub(crate) fn new(secret: &str, settings: SessionSettings) -> Self {
        Self { key: Key::derive_from(secret.as_bytes()), settings }
    }

    /// The session the request's cookie carries, or a new one. The message a previous
    /// request flashed moves to `flashed` (shown once: the cookie is rewritten without it).
    pub(crate) fn load(&self, headers: &HeaderMap) -> Session {
        let mut state = self.read(headers).unwrap_or_else(|| {
            let (id, csrf) = random_token_pair();
            SessionState { id, csrf, changed: true, ..SessionState::default() }
        });
        if let Some(message) = state.flash.take() {
            state.flashed = Some(message);
            state.changed = true;
        }
        Session::from_state(state)
    }

    fn read(&self, headers: &HeaderMap) -> Option<SessionState> {
        let mut jar = CookieJar::new();
        for value in headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            for cookie in Cookie::split_parse_encoded(value.to_owned()).flatten() {
                if cookie.name() == self.settings.cookie {
                    jar.add_original(cookie.into_owned());
                }
            }
        }
        let cookie = jar.private(&self.key).get(&self.settings.cookie)?;
        let stored: Stored = serde_json::from_str(cookie.value()).ok()?;
        (stored.exp > now()).then_some(stored.state)
    }

    /// The `Set-Cookie` for `session` when it changed (`secure` when the request came
    /// over HTTPS).
    pub(crate) fn store(&self, session: &Session, secure: bool) -> Option<Cookie<'static>> {
        let state = session.lock();
        if !state.changed {
            return None;
        }
        let max_age = Duration::from_secs(self.settings.max_age_secs);
        let stored = Stored { state: state.clone(), exp: now() + max_age.as_secs() };
        let payload = serde_json::to_string(&stored).expect("a session serializes");
        let mut jar = CookieJar::new();
        let cookie = Cookie::build((self.settings.cookie.clone(), payload))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX)));
        jar.private_mut(&self.key).add(cookie);
        jar.get(&self.settings.cookie).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn sessions(secret: &str, max_age_secs: u64) -> Sessions {
        let settings = SessionSettings { max_age_secs, ..SessionSettings::default() };
        Sessions::new(secret, settings)
    }

    fn headers_with(cookie: &Cookie<'_>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie.stripped().encoded().to_string()).unwrap());
        headers
    }

    #[test]
    fn round_trips_and_refuses_tampered_foreign_or_expired_cookies() {
        let a = sessions(&"a".repeat(32), 3600);
        let session = a.load(&HeaderMap::new());
        // Long enough that the ciphertext's base64 never holds it by chance ("ada" did).
        session.insert("user", "ada-lovelace-1815");
        let cookie = a.store(&session, false).expect("a new session is stored");
        assert!(cookie.http_only() == Some(true) && cookie.same_site() == Some(SameSite::Lax));
        assert!(!cookie.value().contains("lovelace"), "encrypted");
        let again = a.load(&headers_with(&cookie));
        assert_eq!(again.get::<String>("user").as_deref(), Some("ada-lovelace-1815"));
        assert_eq!(again.csrf_token(), session.csrf_token());
        assert!(a.store(&again, false).is_none(), "unchanged: no Set-Cookie");

        let mut tampered = cookie.clone();
        let mut value = tampered.value().to_owned();
        value.replace_range(10..11, if &value[10..11] == "A" { "B" } else { "A" });
        tampered.set_value(value);
        assert_eq!(a.load(&headers_with(&tampered)).get::<String>("user"), None);
        let b = sessions(&"b".repeat(32), 3600);
        assert_eq!(b.load(&headers_with(&cookie)).get::<String>("user"), None, "another secret");
        let expired = sessions(&"a".repeat(32), 0);
        let cookie = expired.store(&session, false).unwrap();
        assert_eq!(expired.load(&headers_with(&cookie)).get::<String>("user"), None);
    }

    #[test]
    fn flash_shows_once() {
        let s = sessions(&"a".repeat(32), 3600);
        let first = s.load(&HeaderMap::new());
        first.flash("Welcome back");
        let cookie = s.store(&first, false).unwrap();
        let second = s.load(&headers_with(&cookie));
        assert_eq!(second.flashed().as_deref(), Some("Welcome back"));
        let cookie = s.store(&second, false).expect("rewritten without the flash");
        assert_eq!(s.load(&headers_with(&cookie)).flashed(), None);
    }
}
