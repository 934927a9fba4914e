//! `fymo.yml`: the app's settings that are not routes — its secret, how long sessions
//! last, which proxies to trust. Optional: every key has a default (except the secret,
//! which `fymo serve` requires from here or `$FYMO_SECRET`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;

/// The file's name in the app directory.
pub(crate) const APP_FILE: &str = "fymo.yml";

/// `fymo.yml` as parsed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppFile {
    /// Signs and encrypts session cookies (at least 32 characters).
    pub(crate) secret: Option<String>,
    /// Session settings.
    #[serde(default)]
    pub(crate) session: SessionSettings,
    /// Peers whose `X-Forwarded-Proto` / `X-Forwarded-For` are believed (IP addresses).
    #[serde(default)]
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
    /// The Content-Security-Policy of pages: `false` for none, or directives that replace
    /// the defaults' of the same name (`{nonce}` stands for this response's nonce).
    #[serde(default)]
    pub(crate) csp: CspSetting,
    /// `Intl` in server renders.
    #[serde(default)]
    pub(crate) intl: IntlSettings,
}

/// `intl:` in `fymo.yml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IntlSettings {
    /// The locales whose CLDR data an engine without ICU (QuickJS) is given, besides `en`
    /// (V8 carries every locale's): `[fr, de-CH]`.
    #[serde(default)]
    pub(crate) locales: Vec<String>,
}

/// `csp:` in `fymo.yml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum CspSetting {
    /// `csp: true` (the defaults) or `csp: false` (no header).
    Enabled(bool),
    /// Directives over the defaults: `img-src: "'self' data: https://cdn.example"`.
    Directives(std::collections::BTreeMap<String, String>),
}

impl Default for CspSetting {
    fn default() -> Self {
        Self::Enabled(true)
    }
}

/// `session:` in `fymo.yml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct SessionSettings {
    /// Seconds a session lasts after the visitor's last request (default 14 days).
    pub(crate) max_age_secs: u64,
    /// Seconds a session lasts at most, however active (default 30 days): a sign-in
    /// starts it again.
    pub(crate) absolute_max_age_secs: u64,
    /// The cookie's name.
    pub(crate) cookie: String,
    /// Where sessions live.
    pub(crate) store: SessionStoreKind,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            max_age_secs: 14 * 24 * 3600,
            absolute_max_age_secs: 30 * 24 * 3600,
            cookie: "fymo_session".into(),
            store: SessionStoreKind::Auto,
        }
    }
}

/// `session.store:` in `fymo.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SessionStoreKind {
    /// Redis when the app has a Redis broker, else `local`.
    #[default]
    Auto,
    /// Files under `.fymo/sessions/`, shared by the workers of one host.
    Local,
    /// The Redis server of the broker, shared by every host.
    Redis,
    /// The whole session in the (encrypted) cookie: nothing on the server, so sign-out
    /// cannot end a copy of the cookie saved before, and the values must fit in ~4 KB.
    Cookie,
}

impl AppFile {
    /// Reads `fymo.yml` under `root`; no file means every default.
    ///
    /// # Errors
    /// An unreadable file, a YAML error or an unknown key, naming the file and line.
    pub(crate) fn load(root: &Path) -> Result<Self, ConfigError> {
        let file: PathBuf = root.join(APP_FILE);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Read { file, source }),
        };
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(&text).map_err(|e| {
            let line = e.location().map_or(1, |l| l.line());
            ConfigError::at(&file, line, e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file_and_line_numbers_for_mistakes() {
        let dir = tempfile::tempdir().unwrap();
        let app = AppFile::load(dir.path()).unwrap();
        assert!(app.secret.is_none());
        assert_eq!(app.session.cookie, "fymo_session");
        std::fs::write(dir.path().join(APP_FILE), "secret: abc\nsesion:\n  max_age_secs: 3\n").unwrap();
        let err = AppFile::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("fymo.yml:2:") && err.contains("sesion"), "{err}");
    }
}
