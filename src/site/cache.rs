//! The render cache (`cache:` on a route) and the HTML pages' ETag.
//!
//! An entry is a page rendered with placeholders where the per-response values go: the
//! CSP nonce, the visitor's CSRF token and a live page's topic signature (bound to the
//! visitor's session) are random strings of the same shape (hex, so no escaping changes
//! them), replaced by this response's own values on every hit. Only
//! what every visitor may see is kept: a page whose controllers set cookies, touched the
//! session or answered other than 200 is not stored, nor one shown with a flash message.
//! The cache holds at most [`BUDGET`] bytes of pages, least recently used out first.

use std::sync::Mutex;
use std::time::Instant;

use axum::http::{HeaderName, HeaderValue};
use lru::LruCache;

use crate::config::{CacheRule, Vary};
use crate::controller::RequestContext;

/// Bytes of pages the cache of one site holds.
pub(crate) const BUDGET: usize = 64 * 1024 * 1024;

/// One cached page.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The document, with the marks in place of the per-response values.
    pub(crate) html: String,
    marks: Marks,
    /// The live topics the page's signature covers (none: no live mark in the page).
    topics: Vec<String>,
    /// Headers the controllers set.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    expires: Instant,
}

impl Entry {
    /// A page rendered with `marks` that is not kept (a controller acted for this visitor).
    pub(crate) fn unshared(html: String, marks: Marks, topics: Vec<String>) -> Self {
        Self { html, marks, topics, headers: Vec::new(), expires: Instant::now() }
    }

    /// The page for one response: its nonce, the visitor's CSRF token and, for a live
    /// page, `sign(topics)` (the visitor's signature of them) in place.
    pub(crate) fn html_for(&self, nonce: Option<&str>, csrf: &str, sign: impl FnOnce(&[String]) -> String) -> String {
        let mut html = self.html.replace(&self.marks.csrf, csrf);
        if !self.topics.is_empty() {
            html = html.replace(&self.marks.live, &sign(&self.topics));
        }
        match nonce {
            Some(nonce) => html.replace(&self.marks.nonce, nonce),
            None => html,
        }
    }
}

/// The pages of one site's cached routes.
#[derive(Debug)]
pub(crate) struct RenderCache {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    pages: LruCache<String, std::sync::Arc<Entry>>,
    bytes: usize,
}

impl Default for RenderCache {
    fn default() -> Self {
        Self { inner: Mutex::new(Inner { pages: LruCache::unbounded(), bytes: 0 }) }
    }
}

impl RenderCache {
    /// The key of `request` to `url` on a route cached by `rule`.
    pub(crate) fn key(pattern: &str, url: &str, rule: &CacheRule, request: &RequestContext) -> String {
        let mut key = format!("{pattern}\0{url}");
        for vary in &rule.vary {
            key.push('\0');
            let value = match vary {
                Vary::Cookie(name) => request.cookies.get(name).map(String::as_str),
                Vary::Header(name) => request.headers.get(name.as_str()).and_then(|v| v.to_str().ok()),
            };
            if let Some(value) = value {
                key.push('=');
                key.push_str(value);
            }
        }
        key
    }

    /// The live entry under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<std::sync::Arc<Entry>> {
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = inner.pages.get(key)?.clone();
        if entry.expires > Instant::now() {
            return Some(entry);
        }
        inner.bytes -= entry.html.len() + key.len();
        inner.pages.pop(key);
        None
    }

    /// Keeps `html` (rendered with the marks) under `key` for `rule.ttl`.
    pub(crate) fn put(
        &self,
        key: String,
        rule: &CacheRule,
        html: String,
        marks: Marks,
        topics: Vec<String>,
        headers: Vec<(HeaderName, HeaderValue)>,
    ) -> std::sync::Arc<Entry> {
        let entry = std::sync::Arc::new(Entry { html, marks, topics, headers, expires: Instant::now() + rule.ttl });
        let size = entry.html.len() + key.len();
        if size > BUDGET / 8 {
            return entry; // one page may not push out most of the others
        }
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = inner.pages.put(key.clone(), entry.clone()) {
            inner.bytes -= old.html.len() + key.len();
        }
        inner.bytes += size;
        while inner.bytes > BUDGET {
            let Some((k, old)) = inner.pages.pop_lru() else { break };
            inner.bytes -= old.html.len() + k.len();
        }
        entry
    }

    /// Bytes held (for tests).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner.lock().unwrap().bytes
    }
}

/// The placeholders a cached page is rendered with, fresh for each entry.
#[derive(Debug, Clone)]
pub(crate) struct Marks {
    /// In place of the CSP nonce (32 hex digits, as a nonce).
    pub(crate) nonce: String,
    /// In place of the CSRF token (64 hex digits, as a token).
    pub(crate) csrf: String,
    /// In place of a live page's topic signature (64 hex digits).
    pub(crate) live: String,
}

impl Marks {
    pub(crate) fn new() -> Self {
        let (a, b) = crate::controller::random_token_pair();
        Self { nonce: a[..32].to_owned(), csrf: b, live: crate::controller::random_token() }
    }
}

/// The ETag of a page: a hash of its bytes without this response's CSP nonce (which
/// changes every time), so an unchanged page keeps its tag. Weak: the same page, not
/// necessarily the same bytes.
pub(crate) fn etag(html: &str, nonce: Option<&str>) -> HeaderValue {
    use std::hash::{BuildHasher, Hasher};
    let mut a = foldhash::quality::FixedState::with_seed(0x6679_6d6f).build_hasher();
    let mut b = foldhash::quality::FixedState::with_seed(0x7461_6773).build_hasher();
    let mut feed = |part: &str| {
        a.write(part.as_bytes());
        b.write(part.as_bytes());
    };
    let mut at = 0;
    if let Some(nonce) = nonce.filter(|n| !n.is_empty()) {
        for found in memchr::memmem::find_iter(html.as_bytes(), nonce.as_bytes()) {
            feed(&html[at..found]);
            at = found + nonce.len();
        }
    }
    feed(&html[at..]);
    HeaderValue::from_str(&format!("W/\"{:016x}{:016x}\"", a.finish(), b.finish())).expect("hex is a valid header")
}

/// Whether `If-None-Match` names `etag` (weak comparison, `*` included).
pub(crate) fn matches(if_none_match: &str, etag: &HeaderValue) -> bool {
    let tag = etag.to_str().unwrap_or_default();
    let bare = tag.trim_start_matches("W/");
    if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == bare)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rule(ttl: Duration) -> CacheRule {
        CacheRule { ttl, vary: vec![Vary::Cookie("theme".into()), Vary::Header("accept-language".into())] }
    }

    #[test]
    fn entries_fill_in_the_response_values_and_expire() {
        let cache = RenderCache::default();
        let marks = Marks::new();
        let html = format!("<s nonce=\"{}\"></s><i value=\"{}\" sig=\"{}\">", marks.nonce, marks.csrf, marks.live);
        let live = rule(Duration::from_secs(60));
        cache.put("k".into(), &live, html, marks, vec!["t".into()], vec![]);
        let entry = cache.get("k").unwrap();
        let sign = |who: &'static str| move |topics: &[String]| format!("{who}:{}", topics.join(","));
        assert_eq!(entry.html_for(Some("N1"), "T1", sign("a")), "<s nonce=\"N1\"></s><i value=\"T1\" sig=\"a:t\">");
        assert_eq!(entry.html_for(Some("N2"), "T2", sign("b")), "<s nonce=\"N2\"></s><i value=\"T2\" sig=\"b:t\">");
        cache.put("gone".into(), &rule(Duration::from_nanos(1)), "x".into(), Marks::new(), vec![], vec![]);
        assert!(cache.get("gone").is_none(), "expired");
        assert_eq!(cache.bytes(), entry.html.len() + 1);
    }

    #[test]
    fn the_byte_budget_pushes_out_the_least_recently_used() {
        let cache = RenderCache::default();
        let live = rule(Duration::from_secs(60));
        let page = "x".repeat(BUDGET / 10);
        for i in 0..12 {
            cache.put(format!("k{i}"), &live, page.clone(), Marks::new(), vec![], vec![]);
        }
        assert!(cache.bytes() <= BUDGET);
        assert!(cache.get("k0").is_none() && cache.get("k11").is_some());
    }

    #[test]
    fn keys_vary_on_the_named_cookie_and_header_only() {
        let live = rule(Duration::from_secs(60));
        let mut a = RequestContext::default();
        a.cookies.insert("theme".into(), "dark".into());
        let mut b = a.clone();
        b.cookies.insert("other".into(), "1".into());
        assert_eq!(RenderCache::key("/p", "/p?x", &live, &a), RenderCache::key("/p", "/p?x", &live, &b));
        b.headers.insert("accept-language", HeaderValue::from_static("fr"));
        assert_ne!(RenderCache::key("/p", "/p?x", &live, &a), RenderCache::key("/p", "/p?x", &live, &b));
        assert_ne!(RenderCache::key("/p", "/p?x", &live, &a), RenderCache::key("/p", "/p?y", &live, &a));
    }

    #[test]
    fn etags_ignore_the_nonce() {
        let one = etag("<s nonce=\"aaaa\"></s>", Some("aaaa"));
        assert_eq!(one, etag("<s nonce=\"bbbb\"></s>", Some("bbbb")));
        assert_ne!(one, etag("<s nonce=\"aaaa\"></t>", Some("aaaa")));
        assert!(matches("W/\"x\", ".to_owned().replace('x', &one.to_str().unwrap()[3..one.len() - 1]).as_str(), &one));
        assert!(matches("*", &one) && !matches("\"nope\"", &one));
    }
}
