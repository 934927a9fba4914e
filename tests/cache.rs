//! The render cache (`cache:` in routes.yml) and ETag/304 on HTML pages, through
//! `fymo-demo serve` (with whichever engine is the default: the suite runs with both).

mod common;

use common::{get, get_with, Server, TestApp, DEMO};
use std::sync::OnceLock;

/// A Python controller whose props change on every call, on a cached and an uncached route.
const STAMP: &str = "import uuid\n\n\ndef get_context(request):\n    return {\"title\": uuid.uuid4().hex}\n";

fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| {
        let app = TestApp::demo();
        app.write("controllers/stamp.py", STAMP);
        app.write("templates/stamp.svelte", "<script>let { title, fymo } = $props();</script>\n<h1>{title}</h1>\n<form><input name=\"_csrf\" value={fymo.csrf}></form>\n");
        let routes = std::fs::read_to_string(app.root().join("routes.yml")).unwrap();
        let extra = "routes:\n  /stamp/cached:\n    controller: stamp\n    cache:\n      ttl: 1h\n      vary: [cookie:theme, accept-language]\n  /stamp/fresh: stamp\n  /stamp/live:\n    controller: stamp\n    live: [stamp]\n    cache:\n      ttl: 1h\n";
        app.write("routes.yml", &routes.replacen("routes:\n", extra, 1));
        app.build();
        app
    })
}

fn server() -> Server {
    Server::start(DEMO, app(), &["--engines", "1", "--python-workers", "1"])
}

fn title(html: &str) -> &str {
    html.split("<h1>").nth(1).and_then(|s| s.split("</h1>").next()).expect("a title")
}

fn attr<'a>(html: &'a str, name: &str) -> &'a str {
    html.split(&format!("{name}=\"")).nth(1).and_then(|s| s.split('"').next()).expect(name)
}

fn session_cookie(reply: &common::Reply) -> String {
    reply.header("set-cookie").expect("a session cookie").split(';').next().unwrap().to_owned()
}

#[test]
fn a_cached_live_page_carries_each_visitors_own_topic_signature() {
    let server = server();
    let sig = |html: &str| html.split("\"sig\":\"").nth(1).and_then(|s| s.split('"').next()).map(str::to_owned);
    let (first, second) = (get(&server.url("/stamp/live")), get(&server.url("/stamp/live")));
    assert_eq!(title(&first.body), title(&second.body), "served from the cache");
    let (s1, s2) = (sig(&first.body).expect("a signature"), sig(&second.body).expect("a signature"));
    assert_ne!(s1, s2, "each session its own");
    for s in [&s1, &s2] {
        let (expires, mac) = s.split_once('.').expect("EXPIRES.MAC");
        assert!(expires.parse::<u64>().is_ok() && mac.len() == 64, "{s}");
    }
}

#[test]
fn a_cached_page_is_shared_but_carries_each_visitors_token_and_a_fresh_nonce() {
    let server = server();
    let first = get(&server.url("/stamp/cached"));
    let second = get(&server.url("/stamp/cached"));
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(title(&first.body), title(&second.body), "served from the cache");
    // Each visitor (a new session each) gets its own CSRF token in the cached page.
    let (t1, t2) = (attr(&first.body, "value"), attr(&second.body, "value"));
    assert!(t1.len() == 64 && t2.len() == 64 && t1 != t2, "{t1} {t2}");
    assert!(first.body.contains(&format!("\"csrf\":\"{t1}\"")), "the page object too");
    // A fresh nonce per response, matching its own CSP header.
    let (n1, n2) = (attr(&first.body, "nonce"), attr(&second.body, "nonce"));
    assert_ne!(n1, n2);
    assert!(second.header("content-security-policy").unwrap().contains(&format!("'nonce-{n2}'")));
    assert!(!second.body.contains(n1));
    // The token is this session's: a visitor with the cookie gets the same one back.
    let cookie = session_cookie(&first);
    let again = get_with(&server.url("/stamp/cached"), &[("cookie", &cookie)]);
    assert_eq!(attr(&again.body, "value"), t1);
    assert_eq!(title(&again.body), title(&first.body));
    // What the route varies on makes another entry; the URL too.
    let themed = get_with(&server.url("/stamp/cached"), &[("cookie", "theme=dark")]);
    assert_ne!(title(&themed.body), title(&first.body));
    let french = get_with(&server.url("/stamp/cached"), &[("accept-language", "fr")]);
    assert_ne!(title(&french.body), title(&first.body));
    let query = get(&server.url("/stamp/cached?x=1"));
    assert_ne!(title(&query.body), title(&first.body));
    // A route without `cache:` renders every time.
    let (a, b) = (get(&server.url("/stamp/fresh")), get(&server.url("/stamp/fresh")));
    assert_ne!(title(&a.body), title(&b.body));
}

#[test]
fn html_pages_answer_304_to_their_etag_whatever_the_nonce() {
    let server = server();
    for path in ["/stamp/cached", "/products?n=3"] {
        let first = get(&server.url(path));
        let etag = first.header("etag").expect("an ETag").to_owned();
        assert!(etag.starts_with("W/\""), "{etag}");
        let cookie = session_cookie(&first);
        let revalidated = get_with(&server.url(path), &[("cookie", &cookie), ("if-none-match", &etag)]);
        assert_eq!(revalidated.status, 304, "{path}");
        assert_eq!(revalidated.body, "");
        assert_eq!(revalidated.header("etag"), Some(etag.as_str()));
        assert!(revalidated.header("content-security-policy").is_none(), "the client keeps its copy's nonce");
        // Another session's page has another token: not the same page.
        let other = get_with(&server.url(path), &[("if-none-match", &etag)]);
        assert_eq!(other.status, 200, "{path}");
        assert_ne!(other.header("etag"), Some(etag.as_str()));
    }
    // An uncached page whose props change has a new ETag each time.
    let first = get(&server.url("/stamp/fresh"));
    let cookie = session_cookie(&first);
    let etag = first.header("etag").unwrap().to_owned();
    let next = get_with(&server.url("/stamp/fresh"), &[("cookie", &cookie), ("if-none-match", &etag)]);
    assert_eq!(next.status, 200);
}
