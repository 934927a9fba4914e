//! Sessions: the [`Session`] a controller sees, opened from the request's cookie and saved
//! after the response is made.
//!
//! By default the cookie carries only the session's id (in the `cookie` crate's private
//! jar: encrypted and authenticated, key derived from the app secret), and the record
//! lives on the server ([`store`]): files shared by one host's workers, or Redis when the
//! app has a Redis broker. Deleting the record ends the session, so signing out or in
//! ends it for every copy of the old cookie. A session ends after `max_age_secs` without
//! a request and, however active, `absolute_max_age_secs` after it began.
//!
//! A visitor whose session holds nothing (no values, no flash) has no record: the id is
//! enough, and its CSRF token is derived from it. So a crawler costs no write.
//!
//! `store: cookie` keeps the whole session in the cookie, as before: nothing on the
//! server, at the price that a saved cookie stays valid until it expires.
//!
//! A cookie that was tampered with, made with another secret, or whose session ended is
//! an empty session, never an error.

mod store;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use cookie::{Cookie, CookieJar, Key, SameSite};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::{SessionSettings, SessionStoreKind};
use crate::controller::{hex, random_token, unix_now, Session, SessionState};
use crate::live::Broker;
pub(crate) use store::StoreError;
use store::{Files, Record, Redis, Store};

/// Shortest secret accepted: the key is derived from it.
pub(crate) const MIN_SECRET_LEN: usize = 32;

/// Where sessions live, as resolved from the settings and the broker.
#[derive(Debug, Clone)]
enum Backend {
    /// The whole session in the cookie.
    Cookie,
    /// The id in the cookie, the record here.
    Server(Store),
}

/// Opens and saves the sessions of one app.
#[derive(Clone)]
pub(crate) struct Sessions {
    key: Key,
    /// Derives the CSRF token of a session without a record from its id.
    csrf_key: Arc<[u8]>,
    settings: SessionSettings,
    backend: Backend,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("cookie", &self.settings.cookie).field("backend", &self.backend).finish()
    }
}

/// A session as opened for one request: what [`Sessions::save`] compares against.
#[derive(Debug, Clone)]
pub(crate) struct Opened {
    /// The session the controllers see.
    pub(crate) session: Session,
    /// The id the request's cookie named (none for a new visitor).
    cookie_id: Option<String>,
    /// The record's expiry, when it has one.
    expires: Option<u64>,
}

/// `store: cookie`: the cookie's payload, the session and when it expires.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    state: SessionState,
    /// Unix seconds.
    exp: u64,
}

impl Sessions {
    /// Sessions keyed by `secret` (at least [`MIN_SECRET_LEN`] characters; checked where
    /// the secret is chosen), stored as `settings` say, for the app at `root` with `broker`
    /// (`store: redis` without a Redis broker is refused where the site loads).
    pub(crate) fn new(secret: &str, settings: SessionSettings, root: &Path, broker: &Broker) -> Self {
        let files = || Store::Files(Arc::new(Files::new(root.join(".fymo").join("sessions"))));
        let backend = match (settings.store, broker) {
            (SessionStoreKind::Cookie, _) => Backend::Cookie,
            (SessionStoreKind::Auto | SessionStoreKind::Redis, Broker::Redis(url)) => {
                Backend::Server(Store::Redis(Arc::new(Redis::new(url))))
            }
            _ => Backend::Server(files()),
        };
        let csrf_key: Arc<[u8]> = Arc::from(format!("fymo-csrf\n{secret}").into_bytes());
        Self { key: Key::derive_from(secret.as_bytes()), csrf_key, settings, backend }
    }

    /// The session the request's cookie names, or a new one. The message a previous
    /// request flashed moves to `flashed` (shown once: the session is saved without it).
    ///
    /// # Errors
    /// The store cannot be read.
    pub(crate) async fn open(&self, headers: &HeaderMap) -> Result<Opened, StoreError> {
        let cookie = self.cookie_value(headers);
        let now = unix_now();
        let opened = match (&self.backend, cookie) {
            (_, None) => self.fresh(),
            (Backend::Cookie, Some(payload)) => match serde_json::from_str::<Stored>(&payload) {
                Ok(stored) if stored.exp > now && self.within_lifetime(stored.state.created, now) => {
                    Opened { session: Session::from_state(stored.state), cookie_id: None, expires: None }
                }
                _ => self.fresh(),
            },
            (Backend::Server(store), Some(id)) => match store.get(&id).await? {
                Some(record) if record.expires > now && self.within_lifetime(record.created, now) => {
                    let state = SessionState {
                        id: id.clone(),
                        csrf: record.csrf,
                        data: record.data,
                        flash: record.flash,
                        created: record.created,
                        ..SessionState::default()
                    };
                    Opened { session: Session::from_state(state), cookie_id: Some(id), expires: Some(record.expires) }
                }
                Some(_) => {
                    store.delete(&id).await?;
                    self.fresh()
                }
                // Nothing kept for it: a session that never held anything, or one that was
                // ended (then its values are gone, which is what ending it means).
                None => {
                    let state = SessionState {
                        csrf: self.derived_csrf(&id),
                        id: id.clone(),
                        created: now,
                        ..Default::default()
                    };
                    Opened { session: Session::from_state(state), cookie_id: Some(id), expires: None }
                }
            },
        };
        let mut state = opened.session.lock();
        if let Some(message) = state.flash.take() {
            state.flashed = Some(message);
            state.changed = true;
        }
        drop(state);
        Ok(opened)
    }

    /// Saves what the request did to its session: the record written, replaced (a new id
    /// after sign-in or sign-out ends the old one) or removed, and the `Set-Cookie` to
    /// send when the cookie must change (`secure` when the request came over HTTPS).
    ///
    /// # Errors
    /// The store cannot be written.
    pub(crate) async fn save(&self, opened: &Opened, secure: bool) -> Result<Option<Cookie<'static>>, StoreError> {
        let state = opened.session.lock().clone();
        let store = match &self.backend {
            Backend::Cookie => return Ok(state.changed.then(|| self.cookie_only(&state, secure))),
            Backend::Server(store) => store,
        };
        let now = unix_now();
        let new_id = opened.cookie_id.as_deref() != Some(state.id.as_str());
        if new_id {
            if let Some(old) = &opened.cookie_id {
                store.delete(old).await?;
            }
        }
        let holds_something =
            !state.data.is_empty() || state.flash.is_some() || state.csrf != self.derived_csrf(&state.id);
        let idle = self.settings.max_age_secs;
        if holds_something {
            // Written when it changed, and before half its idle time is gone (so a visitor
            // who keeps coming keeps it, without a write per request).
            let stale = opened.expires.is_none_or(|e| e < now + idle / 2);
            if state.changed || new_id || stale {
                let record = Record {
                    csrf: state.csrf.clone(),
                    data: state.data.clone(),
                    flash: state.flash.clone(),
                    created: state.created,
                    expires: now + idle,
                };
                store.put(&state.id, &record).await?;
            }
        } else if opened.expires.is_some() && !new_id {
            store.delete(&state.id).await?; // emptied: the id alone says the rest
        }
        Ok(new_id.then(|| self.cookie(state.id.clone(), secure)))
    }

    /// A new visitor's session: a new id, its derived token, nothing saved until it holds
    /// something (its cookie is sent).
    fn fresh(&self) -> Opened {
        let id = random_token();
        let state =
            SessionState { csrf: self.derived_csrf(&id), id, created: unix_now(), changed: true, ..Default::default() };
        Opened { session: Session::from_state(state), cookie_id: None, expires: None }
    }

    fn within_lifetime(&self, created: u64, now: u64) -> bool {
        created.saturating_add(self.settings.absolute_max_age_secs) > now
    }

    /// The CSRF token of a session without a record: keyed by the app secret, so only
    /// the server can make it.
    fn derived_csrf(&self, id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.csrf_key).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The value of this app's session cookie, decrypted and authenticated.
    fn cookie_value(&self, headers: &HeaderMap) -> Option<String> {
        let mut jar = CookieJar::new();
        for value in headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            for cookie in Cookie::split_parse_encoded(value.to_owned()).flatten() {
                if cookie.name() == self.settings.cookie {
                    jar.add_original(cookie.into_owned());
                }
            }
        }
        Some(jar.private(&self.key).get(&self.settings.cookie)?.value().to_owned())
    }

    /// `store: cookie`: the whole session, until the idle time runs out.
    fn cookie_only(&self, state: &SessionState, secure: bool) -> Cookie<'static> {
        let stored = Stored { state: state.clone(), exp: unix_now() + self.settings.max_age_secs };
        self.cookie(serde_json::to_string(&stored).expect("a session serializes"), secure)
    }

    /// The session cookie carrying `payload`: `HttpOnly`, `SameSite=Lax`, kept by the
    /// browser as long as a session can last at all (the server decides sooner).
    fn cookie(&self, payload: String, secure: bool) -> Cookie<'static> {
        let lifetime = match self.backend {
            Backend::Cookie => self.settings.max_age_secs,
            Backend::Server(_) => self.settings.absolute_max_age_secs,
        };
        let max_age = Duration::from_secs(lifetime);
        let cookie = Cookie::build((self.settings.cookie.clone(), payload))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX)));
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie);
        jar.get(&self.settings.cookie).cloned().expect("the cookie just added")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn sessions(dir: &Path, store: SessionStoreKind, max_age_secs: u64) -> Sessions {
        let settings = SessionSettings { max_age_secs, store, ..SessionSettings::default() };
        Sessions::new(&"a".repeat(32), settings, dir, &Broker::Memory)
    }

    fn headers_with(cookie: &Cookie<'_>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie.stripped().encoded().to_string()).unwrap());
        headers
    }

    #[tokio::test]
    async fn the_cookie_carries_an_id_and_the_record_its_values() {
        let dir = tempfile::tempdir().unwrap();
        let a = sessions(dir.path(), SessionStoreKind::Local, 3600);
        let first = a.open(&HeaderMap::new()).await.unwrap();
        // Long enough that the ciphertext's base64 never holds it by chance ("ada" did).
        first.session.insert("user", "ada-lovelace-1815");
        let cookie = a.save(&first, false).await.unwrap().expect("a new session has a cookie");
        assert!(cookie.http_only() == Some(true) && cookie.same_site() == Some(SameSite::Lax));
        assert!(!cookie.value().contains("lovelace"), "encrypted");
        let again = a.open(&headers_with(&cookie)).await.unwrap();
        assert_eq!(again.session.get::<String>("user").as_deref(), Some("ada-lovelace-1815"));
        assert_eq!(again.session.csrf_token(), first.session.csrf_token());
        assert!(a.save(&again, false).await.unwrap().is_none(), "the same id: no Set-Cookie");

        let mut tampered = cookie.clone();
        let mut value = tampered.value().to_owned();
        value.replace_range(10..11, if &value[10..11] == "A" { "B" } else { "A" });
        tampered.set_value(value);
        assert_eq!(a.open(&headers_with(&tampered)).await.unwrap().session.get::<String>("user"), None);
    }

    #[tokio::test]
    async fn signing_out_ends_every_copy_of_the_cookie() {
        let dir = tempfile::tempdir().unwrap();
        let s = sessions(dir.path(), SessionStoreKind::Local, 3600);
        let opened = s.open(&HeaderMap::new()).await.unwrap();
        opened.session.insert("user", "ada");
        opened.session.rotate(); // signing in
        let saved = s.save(&opened, false).await.unwrap().unwrap();
        let signed_in = s.open(&headers_with(&saved)).await.unwrap();
        assert_eq!(signed_in.session.get::<String>("user").as_deref(), Some("ada"));
        signed_in.session.clear(); // signing out
        let after = s.save(&signed_in, false).await.unwrap().expect("a new id");
        assert_eq!(s.open(&headers_with(&saved)).await.unwrap().session.get::<String>("user"), None, "the old cookie");
        assert_eq!(s.open(&headers_with(&after)).await.unwrap().session.get::<String>("user"), None);
    }

    #[tokio::test]
    async fn an_empty_session_writes_nothing_and_keeps_its_token() {
        let dir = tempfile::tempdir().unwrap();
        let s = sessions(dir.path(), SessionStoreKind::Local, 3600);
        let first = s.open(&HeaderMap::new()).await.unwrap();
        let cookie = s.save(&first, false).await.unwrap().unwrap();
        assert!(!dir.path().join(".fymo/sessions").exists(), "no record for an empty session");
        let again = s.open(&headers_with(&cookie)).await.unwrap();
        assert_eq!(again.session.csrf_token(), first.session.csrf_token());
    }

    #[tokio::test]
    async fn sessions_end_after_their_idle_and_absolute_lifetimes() {
        let dir = tempfile::tempdir().unwrap();
        let idle = sessions(dir.path(), SessionStoreKind::Local, 0);
        let opened = idle.open(&HeaderMap::new()).await.unwrap();
        opened.session.insert("user", "ada");
        let cookie = idle.save(&opened, false).await.unwrap().unwrap();
        assert_eq!(idle.open(&headers_with(&cookie)).await.unwrap().session.get::<String>("user"), None);

        let settings = SessionSettings { absolute_max_age_secs: 0, ..SessionSettings::default() };
        let absolute = Sessions::new(&"a".repeat(32), settings, dir.path(), &Broker::Memory);
        let opened = absolute.open(&HeaderMap::new()).await.unwrap();
        opened.session.insert("user", "ada");
        let cookie = absolute.save(&opened, false).await.unwrap().unwrap();
        assert_eq!(absolute.open(&headers_with(&cookie)).await.unwrap().session.get::<String>("user"), None);
    }

    #[tokio::test]
    async fn cookie_only_sessions_round_trip_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let a = sessions(dir.path(), SessionStoreKind::Cookie, 3600);
        let first = a.open(&HeaderMap::new()).await.unwrap();
        first.session.insert("user", "ada-lovelace-1815");
        let cookie = a.save(&first, false).await.unwrap().unwrap();
        assert!(!cookie.value().contains("lovelace"), "encrypted");
        let again = a.open(&headers_with(&cookie)).await.unwrap();
        assert_eq!(again.session.get::<String>("user").as_deref(), Some("ada-lovelace-1815"));
        assert!(a.save(&again, false).await.unwrap().is_none(), "unchanged: no Set-Cookie");
        let expired = sessions(dir.path(), SessionStoreKind::Cookie, 0);
        let cookie = expired.save(&first, false).await.unwrap().unwrap();
        assert_eq!(expired.open(&headers_with(&cookie)).await.unwrap().session.get::<String>("user"), None);
    }

    #[tokio::test]
    async fn flash_shows_once() {
        let dir = tempfile::tempdir().unwrap();
        for store in [SessionStoreKind::Local, SessionStoreKind::Cookie] {
            let s = sessions(dir.path(), store, 3600);
            let first = s.open(&HeaderMap::new()).await.unwrap();
            first.session.flash("Welcome back");
            let cookie = s.save(&first, false).await.unwrap().unwrap();
            let second = s.open(&headers_with(&cookie)).await.unwrap();
            assert_eq!(second.session.flashed().as_deref(), Some("Welcome back"));
            let cookie = s.save(&second, false).await.unwrap().unwrap_or(cookie);
            assert_eq!(s.open(&headers_with(&cookie)).await.unwrap().session.flashed(), None, "{store:?}");
        }
    }
}
