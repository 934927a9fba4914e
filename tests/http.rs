//! HTTP tests against the demo app served by `fymo-demo serve` on an ephemeral port.

mod common;

use common::{closed_by_server, connect, get, get_with, page_object, read_response, Server, TestApp, DEMO};
use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

/// The demo app, copied and built once for this file.
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| {
        let app = TestApp::demo();
        app.build();
        app
    })
}

/// Each test starts its own server so that no process outlives its test.
fn server() -> Server {
    server_with(&[])
}

fn server_with(args: &[&str]) -> Server {
    Server::start(DEMO, app(), &[&["--engines", "2"], args].concat())
}

#[test]
fn home_page_is_a_complete_document() {
    let server = server();
    let r = get(&server.url("/"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.header("x-request-id").is_some());
    let html = &r.body;
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<title>Fymo demo</title>"), "svelte:head output in head");
    let head_end = html.find("</head>").unwrap();
    assert!(html[..head_end].contains("<title>Fymo demo</title>"));
    assert!(html.contains("<div id=\"__fymo\" data-page='"));
    assert!(html.contains("<li>Svelte 5 SSR in QuickJS</li>"));
    assert!(html.contains("<footer class=\"svelte-"), "layout wraps the page");
    let page = page_object(html);
    assert_eq!(page["component"], "home");
    assert_eq!(page["props"]["title"], "Fymo demo");
    assert_eq!(page["url"], "/");
    assert_eq!(page["layouts"], serde_json::json!(["layouts/main"]));
    assert!(
        html.contains("<script type=\"module\" nonce=\"")
            && html.contains("import { start } from \"/_fymo/fymo-client-")
    );
    assert!(html.contains("start(Page, [L0]);"));
}

#[test]
fn list_page_has_css_and_modulepreload_links_that_resolve() {
    let server = server();
    let r = get(&server.url("/products?n=25"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body.matches("class=\"card ").count(), 25);
    let links: Vec<&str> = r
        .body
        .split("href=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .filter(|h| h.starts_with("/_fymo/"))
        .collect();
    assert!(links.iter().any(|l| l.ends_with(".css")), "{links:?}");
    assert!(links.iter().filter(|l| l.ends_with(".js")).count() >= 3, "{links:?}");
    for link in links {
        let asset = get(&server.url(link));
        assert_eq!(asset.status, 200, "{link}");
        let expected = if link.ends_with(".css") { "text/css" } else { "text/javascript" };
        assert!(
            asset.header("content-type").unwrap().starts_with(expected),
            "{link}: {:?}",
            asset.header("content-type")
        );
        assert_eq!(asset.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert!(asset.header("etag").is_some());
    }
}

#[test]
fn detail_page_reads_the_path_param_and_404s_unknown_ids() {
    let server = server();
    let r = get(&server.url("/products/42"));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<h1>Product 42</h1>"));
    assert!(r.body.contains("Product 42 is a fine &lt;thing> &amp; worth every cent."), "text escaped");
    assert_eq!(get(&server.url("/products/99999")).status, 404);
    assert_eq!(get(&server.url("/products/abc")).status, 404);
}

#[test]
fn unknown_path_is_404_with_a_page() {
    let server = server();
    let r = get(&server.url("/no/such/page"));
    assert_eq!(r.status, 404);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.body.contains("404 Not Found"));
    assert!(r.body.contains("<h1 class=\"error svelte-"), "the app's templates/error.svelte: {}", r.body);
    assert!(r.body.contains("<footer"), "inside the default layout");
    let missing_asset = get(&server.url("/_fymo/nope-123.js"));
    assert_eq!(missing_asset.status, 404);
}

#[test]
fn assets_cannot_escape_the_build_directory() {
    let server = server();
    for path in [
        "/_fymo/../manifest.json",
        "/_fymo/%2e%2e/manifest.json",
        "/_fymo/..%2fssr.js",
        "/_fymo/%2e%2e%2f%2e%2e%2froutes.yml",
        "/_fymo//etc/passwd",
    ] {
        let r = get(&server.url(path));
        assert_eq!(r.status, 404, "{path} must not be served");
        assert!(!r.body.contains("\"components\"") && !r.body.contains("root: home"), "{path}");
    }
}

#[test]
fn assets_support_etag_revalidation_and_compression() {
    let server = server();
    let page = get(&server.url("/products"));
    let js = page.body.split("import Page from \"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let first = get(&server.url(&js));
    let etag = first.header("etag").unwrap().to_owned();
    let again = get_with(&server.url(&js), &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    let gz = get_with(&server.url(&js), &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let br = get_with(&server.url("/products?n=100"), &[("Accept-Encoding", "br")]);
    assert_eq!(br.header("content-encoding"), Some("br"));
}

#[test]
fn health_reports_the_engine_pool() {
    let server = server();
    let r = get(&server.url("/_fymo/health"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["engines"], serde_json::json!({ "state": "ok", "size": 2, "busy": 0 }));
    assert_eq!(v["python"]["state"], "ok");
    assert_eq!(v["live"]["state"], "ok");
    // Nothing of the process or its counters for anyone: that takes the app secret.
    assert!(v.get("details").is_none() && !r.body.contains("pid"), "{v}");
    let details = common::health_details(&server);
    // The default engine: V8 when compiled in, else QuickJS.
    assert_eq!(details["engines"]["engine"], fymo::testing::EngineBackend::name(&fymo::testing::Engine::default()));
    assert_eq!(details["pid"], server.pid());
}

#[test]
fn route_without_template_is_a_json_endpoint() {
    let server = server();
    let r = get(&server.url("/api/products/7"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["product"]["id"], 7);
}

#[test]
fn accept_json_returns_navigation_data() {
    let server = server();
    let r = get_with(&server.url("/products/3"), &[("Accept", "application/json")]);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["component"], "products/show");
    assert_eq!(v["layouts"], serde_json::json!(["layouts/main"]));
    assert_eq!(v["props"]["product"]["id"], 3);
    assert_eq!(v["url"], "/products/3");
    assert!(v["version"].as_str().unwrap().len() >= 8);
}

#[test]
fn hostile_props_cannot_close_the_script_and_round_trip() {
    let server = server();
    let hostile = "</script><script>alert(1)</script>";
    let name = format!("{hostile}\u{2028}x\u{2029} é \u{1F600} \\u003c \"&amp;");
    // From a Rust controller (props built as a value) and from a Python one (props
    // passed through as the JSON text the worker wrote).
    for url in [
        format!("{}?name={}", server.url("/hello"), urlencode(&name)),
        server.url(&format!("/greet/{}", urlencode(&name))),
    ] {
        let r = get(&url);
        assert_eq!(r.status, 200, "{url}");
        assert!(!r.body.contains("<script>alert(1)"), "no injected script: {url}");
        assert_eq!(r.body.matches("</script>").count(), 1, "only the module script closes: {url}");
        let v = page_object(&r.body);
        assert_eq!(v["props"]["name"], name, "round-trips exactly: {url}");
        assert!(r.body.contains("&lt;/script>&lt;script>alert(1)&lt;/script>"), "escaped in the HTML too: {url}");
    }
}

#[test]
fn controller_error_is_a_500_with_request_id_and_no_details() {
    let server = server();
    let r = get(&server.url("/fail"));
    assert_eq!(r.status, 500);
    let id = r.header("x-request-id").unwrap().to_owned();
    assert!(r.body.contains(&id), "request id on the page");
    assert!(!r.body.contains("on purpose"), "details stay in the log in production");
    assert_eq!(get(&server.url("/")).status, 200, "other pages keep working");
}

#[test]
fn method_not_allowed_and_redirect_free_get() {
    let server = server();
    let r = common::post_form(&server.url("/products"), &[("a", "b")]);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"), "GET implies HEAD");
    assert_eq!(r.header("connection"), Some("close"), "the unread form is not left on a reused connection");
    let r = common::post_form(&server.url("/api/products/7"), &[("a", "b")]);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
}

#[test]
fn bodies_over_the_limit_are_413_and_of_unsupported_types_415() {
    let server = server();
    let mut stream = connect(&server);
    let head = "POST /guestbook HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3000000\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    let (status, _) = read_response(&mut stream).expect("an answer before the body is sent");
    assert_eq!(status, 413);
    for content_type in ["application/jsonx", "text/plain", "application/xml; charset=utf-8"] {
        let r = common::post_body(&server.url("/guestbook"), content_type, "{}");
        assert_eq!(r.status, 415, "{content_type}");
    }
    let r = common::post_body(&server.url("/guestbook"), "application/json; charset=utf-8", "{");
    assert_eq!(r.status, 400, "malformed JSON");
    let mut visitor = common::visitor::Visitor::new(&server.base);
    let token = common::visitor::csrf_of(&visitor.get("/guestbook").body);
    let r = visitor.post_form("/guestbook", &[("name", "ada"), ("message", "hi"), ("_csrf", &token)]);
    assert_eq!(r.status, 303, "a supported type is read: {}", r.body);
    let r = common::post_body(&server.url("/guestbook"), "text/plain", "");
    assert_ne!(r.status, 415, "no body, no check");
}

#[test]
fn errors_of_json_routes_and_json_clients_are_json() {
    let server = server();
    let is_json = |r: &common::Reply| {
        assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.body);
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap()
    };
    let r = common::post_form(&server.url("/api/products/7"), &[("a", "b")]);
    assert_eq!(is_json(&r)["status"], 405);
    let r = get_with(&server.url("/no/such/page"), &[("Accept", "application/json")]);
    assert_eq!(r.status, 404);
    assert_eq!(is_json(&r)["status"], 404);
    let r = get_with(&server.url("/fail"), &[("Accept", "text/html;q=0.5, application/json")]);
    assert_eq!(r.status, 500);
    assert_eq!(is_json(&r)["request_id"], r.header("x-request-id").unwrap());
}

#[test]
fn accept_is_weighed_by_q_values_and_named_in_vary() {
    let server = server();
    let url = server.url("/products/3");
    for (accept, json) in [
        ("text/html;q=0.9, application/json", true),
        ("application/json;q=0", false),
        ("*/*", false),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false),
    ] {
        let r = get_with(&url, &[("Accept", accept)]);
        assert_eq!(r.status, 200);
        let content_type = r.header("content-type").unwrap();
        assert_eq!(content_type.starts_with("application/json"), json, "{accept}: {content_type}");
        assert!(r.header_list("vary").contains(&"accept".to_owned()), "{accept}: {:?}", r.headers);
    }
    let not_found = get(&server.url("/no/such/page"));
    assert!(not_found.header_list("vary").contains(&"accept".to_owned()));
    let endpoint = get(&server.url("/api/products/7"));
    assert!(!endpoint.header_list("vary").contains(&"accept".to_owned()), "a JSON route does not negotiate");
}

#[test]
fn pages_send_safe_default_headers() {
    let server = server();
    for path in ["/", "/no/such/page", "/api/products/7"] {
        let r = get(&server.url(path));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(r.header("referrer-policy"), Some("strict-origin-when-cross-origin"), "{path}");
        assert_eq!(r.header("x-frame-options"), Some("SAMEORIGIN"), "{path}");
    }
}

#[test]
fn slow_request_heads_are_cut_off_while_others_are_served() {
    let server = server_with(&["--header-timeout-secs", "3"]);
    let mut silent = connect(&server);
    let mut half = connect(&server);
    half.write_all(b"GET / HT").unwrap();
    assert_eq!(get(&server.url("/")).status, 200, "a normal client is served meanwhile");
    assert!(closed_by_server(&mut half), "half a request line is cut off");
    assert!(closed_by_server(&mut silent), "a connection that sends nothing is cut off");
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_keepalive_timeout() {
    let server = server_with(&["--keepalive-timeout-secs", "3", "--header-timeout-secs", "600"]);
    let mut stream = connect(&server);
    stream.write_all(b"GET /_fymo/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut stream).unwrap().0, 200);
    stream.write_all(b"GET /_fymo/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut stream).unwrap().0, 200, "kept alive for a second request");
    assert!(closed_by_server(&mut stream), "closed once idle");
}

#[test]
fn trickled_bodies_are_answered_408_after_the_body_timeout() {
    let server = server_with(&["--body-timeout-secs", "1"]);
    let mut stream = connect(&server);
    let head = "POST /guestbook HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nmessage=";
    stream.write_all(head.as_bytes()).unwrap();
    assert_eq!(get(&server.url("/")).status, 200, "a normal client is served meanwhile");
    let (status, _) = read_response(&mut stream).expect("a 408 before the close");
    assert_eq!(status, 408);
    assert!(closed_by_server(&mut stream));
}

#[test]
fn connections_over_the_cap_wait_until_one_closes() {
    let server = server_with(&["--max-connections", "2"]);
    let held: Vec<_> = (0..2)
        .map(|_| {
            let mut stream = connect(&server);
            stream.write_all(b"GET /_fymo/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            assert_eq!(read_response(&mut stream).unwrap().0, 200);
            stream
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let url = server.url("/_fymo/health");
    std::thread::spawn(move || tx.send(get(&url).status));
    // Cannot be answered while both are held, however long this waits.
    assert!(rx.recv_timeout(Duration::from_secs(2)).is_err(), "a third connection was served past the cap");
    drop(held);
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), 200, "served once the others went");
}

#[test]
fn route_with_layout_disabled_has_no_layout() {
    let server = server();
    let r = get(&server.url("/plain"));
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<footer"));
    assert!(r.body.contains("start(Page);"));
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The first log line of `server` containing every one of `needles`, waiting up to 60 s.
fn log_line(server: &Server, needles: &[&str], seen: &mut Vec<String>) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        let line =
            server.log.recv_timeout(remaining).unwrap_or_else(|_| panic!("no log line with {needles:?}: {seen:#?}"));
        seen.push(line.clone());
        if needles.iter().all(|n| line.contains(n)) {
            return line;
        }
    }
}

#[test]
fn access_log_redacts_secrets_and_escapes_control_characters() {
    let server = server();
    assert_eq!(get(&server.url("/hello?name=ada&password=hunter2&api_key=k123")).status, 200);
    let mut seen = Vec::new();
    let line = log_line(&server, &["fymo::access", "/hello"], &mut seen);
    assert!(line.contains("name=ada&password=REDACTED&api_key=REDACTED"), "{line}");
    assert!(!line.contains("hunter2") && !line.contains("k123"), "{line}");
    // U+009B is CSI: raw, it would drive a terminal reading the log.
    let mut stream = connect(&server);
    stream.write_all("GET /x\u{9b}31m HTTP/1.1\r\nHost: x\r\n\r\n".as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).unwrap().0, 404);
    let line = log_line(&server, &["fymo::access", "/x"], &mut seen);
    assert!(line.contains("/x\\u{9b}31m"), "{line}");
    assert!(!line.contains('\u{9b}'), "{line}");
}

#[test]
fn request_ids_are_unique_across_processes() {
    let prefix = |server: &Server| {
        let id = get(&server.url("/")).header("x-request-id").unwrap().to_owned();
        let (prefix, counter) = id.split_once('-').unwrap();
        assert!(prefix.len() == 16 && prefix.bytes().all(|b| b.is_ascii_hexdigit()), "a random 64-bit prefix: {id}");
        assert!(u64::from_str_radix(counter, 16).is_ok(), "{id}");
        prefix.to_owned()
    };
    let (a, b) = (server(), server());
    assert_ne!(prefix(&a), prefix(&b));
    let kept = get_with(&a.url("/"), &[("X-Request-Id", "from-the-proxy-1")]);
    assert_eq!(kept.header("x-request-id"), Some("from-the-proxy-1"), "a valid incoming id is kept");
}

#[test]
fn logs_have_no_colour_when_stderr_is_not_a_terminal() {
    let server = Server::start_configured(DEMO, app(), "serve", &["--engines", "2"], |command| {
        command.env_remove("NO_COLOR");
    });
    assert_eq!(get(&server.url("/")).status, 200);
    let mut seen = Vec::new();
    log_line(&server, &["fymo::access"], &mut seen);
    assert!(seen.iter().all(|l| !l.contains('\u{1b}')), "{seen:#?}");
}

#[test]
fn json_log_format_covers_every_line() {
    // An app without a build: `serve` builds it first, and those lines are logs too.
    let app = TestApp::demo();
    let server = Server::start(DEMO, &app, &["--engines", "2", "--log-format", "json"]);
    assert_eq!(get(&server.url("/fail")).status, 500);
    let mut seen = server.startup.clone();
    assert!(seen.iter().any(|l| l.contains("ssr bundle")), "the build's lines: {seen:#?}");
    log_line(&server, &["fymo::access", "/fail"], &mut seen);
    for line in &seen {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{seen:#?}"));
        assert!(value["level"].is_string(), "{line}");
    }
}

#[test]
fn inertia_protocol_json_versions_partial_reloads_and_303s() {
    let server = server();
    let html = get(&server.url("/products?n=3"));
    let version = page_object(&html.body)["version"].as_str().unwrap().to_owned();
    assert!(html.header_list("vary").iter().any(|v| v.contains("x-inertia")), "{:?}", html.header_list("vary"));

    let inertia = [("X-Inertia", "true"), ("X-Inertia-Version", version.as_str())];
    let r = get_with(&server.url("/products?n=3"), &inertia);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-inertia"), Some("true"));
    assert!(r.header_list("vary").iter().any(|v| v.contains("x-inertia")));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["component"], "products/index");
    assert_eq!(v["url"], "/products?n=3");
    assert_eq!(v["version"], version.as_str());
    assert_eq!(v["props"]["products"].as_array().unwrap().len(), 3);
    assert!(v["assets"]["products/index"]["js"].as_str().unwrap().starts_with("/_fymo/"));

    let stale = get_with(&server.url("/products?n=3"), &[("X-Inertia", "true"), ("X-Inertia-Version", "old")]);
    assert_eq!(stale.status, 409);
    assert_eq!(stale.header("x-inertia-location"), Some("/products?n=3"));

    let mut partial = inertia.to_vec();
    partial.extend([("X-Inertia-Partial-Component", "products/index"), ("X-Inertia-Partial-Data", "total")]);
    let v: serde_json::Value = serde_json::from_str(&get_with(&server.url("/products?n=3"), &partial).body).unwrap();
    let keys: Vec<&String> = v["props"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["total", "fymo"], "only the asked props (and the shared fymo)");
    let mut except = inertia.to_vec();
    except.extend([("X-Inertia-Partial-Component", "products/index"), ("X-Inertia-Partial-Except", "products")]);
    let v: serde_json::Value = serde_json::from_str(&get_with(&server.url("/products?n=3"), &except).body).unwrap();
    assert!(v["props"].get("products").is_none() && v["props"].get("total").is_some());
    let mut other = inertia.to_vec();
    other.extend([("X-Inertia-Partial-Component", "home"), ("X-Inertia-Partial-Data", "total")]);
    let v: serde_json::Value = serde_json::from_str(&get_with(&server.url("/products?n=3"), &other).body).unwrap();
    assert!(v["props"].get("products").is_some(), "a partial reload of another page gets every prop");
}

#[test]
fn pages_carry_a_csp_with_a_fresh_nonce_on_every_inline_tag() {
    let server = server();
    let nonce_of = |r: &common::Reply| {
        let csp = r.header("content-security-policy").expect("a CSP header").to_owned();
        assert!(csp.contains("default-src 'self'") && csp.contains("object-src 'none'"), "{csp}");
        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
        assert!(csp.contains(&format!("script-src 'self' 'nonce-{nonce}'")), "{csp}");
        nonce
    };
    let first = get(&server.url("/"));
    let nonce = nonce_of(&first);
    let inline = first.body.matches("<script type=\"module\"").count() + first.body.matches("<style").count();
    assert_eq!(first.body.matches(&format!("nonce=\"{nonce}\"")).count(), inline, "every inline tag: {}", first.body);
    assert!(!first.body.contains("style=\"display:contents\""), "no style attribute of Fymo's own");
    assert_ne!(nonce_of(&get(&server.url("/"))), nonce, "fresh per response");
}

#[test]
fn the_csp_can_be_turned_off_or_changed_in_fymo_yml() {
    let app = TestApp::demo();
    app.build();
    app.write("fymo.yml", "secret: a-secret-that-is-long-enough-0123456789\ncsp: false\n");
    let server = Server::start(DEMO, &app, &["--engines", "1"]);
    assert!(get(&server.url("/")).header("content-security-policy").is_none());
    drop(server);
    app.write(
        "fymo.yml",
        "secret: a-secret-that-is-long-enough-0123456789\ncsp:\n  img-src: \"'self' https://cdn.test\"\n",
    );
    let server = Server::start(DEMO, &app, &["--engines", "1"]);
    let csp = get(&server.url("/")).header("content-security-policy").unwrap().to_owned();
    assert!(csp.contains("img-src 'self' https://cdn.test") && csp.contains("script-src 'self' 'nonce-"), "{csp}");
}
