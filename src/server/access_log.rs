//! What the access log may say about a request: ids that stay unique across processes
//! and restarts, queries with secrets redacted, and no raw control characters (a
//! path must not forge log lines or drive a terminal).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Query keys redacted unless `--redact-query-keys` says otherwise.
/// `sub` and `csrf`: the live client's SSE fallback puts its subscription (CSRF token and
/// topic signature) in the query.
pub(crate) const DEFAULT_REDACTED: [&str; 6] = ["password", "token", "secret", "key", "sub", "csrf"];

/// A new request id: this process's random 64-bit prefix and a counter, so ids from
/// prefork workers, restarts and replicas do not collide (a pid would repeat).
pub(super) fn new_request_id() -> String {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = *PREFIX.get_or_init(|| {
        // Without an entropy source, fall back to what differs between processes.
        getrandom::u64().unwrap_or_else(|_| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            (u64::from(std::process::id()) << 32) ^ u64::try_from(now.as_nanos()).unwrap_or(u64::MAX)
        })
    });
    format!("{prefix:016x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `path?query` as it may be logged: the values of `redacted` keys replaced, control
/// characters escaped. A key is redacted when it, or any of its words (split at
/// anything not alphanumeric: `api_key`, `user[password]`), equals one of `redacted`,
/// ignoring case.
pub(super) fn loggable_target(path: &str, query: Option<&str>, redacted: &[String]) -> String {
    let mut target = escape_controls(path);
    let Some(query) = query else { return target };
    target.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            target.push('&');
        }
        let (key, value) = pair.split_once('=').map_or((pair, None), |(k, v)| (k, Some(v)));
        target.push_str(&escape_controls(key));
        if let Some(value) = value {
            target.push('=');
            if is_redacted(key, redacted) {
                target.push_str("REDACTED");
            } else {
                target.push_str(&escape_controls(value));
            }
        }
    }
    target
}

fn is_redacted(raw_key: &str, redacted: &[String]) -> bool {
    let key = percent_encoding::percent_decode_str(&raw_key.replace('+', " ")).decode_utf8_lossy().into_owned();
    std::iter::once(key.as_str())
        .chain(key.split(|c: char| !c.is_alphanumeric()))
        .any(|word| redacted.iter().any(|r| r.eq_ignore_ascii_case(word)))
}

/// `s` with control characters (C0, DEL, C1) written as `\u{..}` escapes.
fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        DEFAULT_REDACTED.map(String::from).to_vec()
    }

    #[test]
    fn redacts_configured_keys_and_their_words() {
        let target = loggable_target(
            "/login",
            Some("user=ada&password=hunter2&API_KEY=k1&access-token=t&user%5Bsecret%5D=s&monkey=ok&flag&key="),
            &defaults(),
        );
        assert_eq!(
            target,
            "/login?user=ada&password=REDACTED&API_KEY=REDACTED&access-token=REDACTED&user%5Bsecret%5D=REDACTED&monkey=ok&flag&key=REDACTED"
        );
        assert_eq!(loggable_target("/", Some("password=x"), &["pin".into()]), "/?password=x");
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(loggable_target("/a\nb\u{1b}[31m\u{85}", Some("q=\r"), &[]), "/a\\u{a}b\\u{1b}[31m\\u{85}?q=\\u{d}");
        assert_eq!(loggable_target("/caf\u{e9}", None, &[]), "/caf\u{e9}");
    }

    #[test]
    fn request_ids_carry_a_random_prefix_and_a_counter() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert_eq!(a.split('-').next(), b.split('-').next());
        assert_eq!(a.split('-').next().unwrap().len(), 16);
    }
}
