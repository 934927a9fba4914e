//! HTTP tests against the demo app served by `fymo-demo serve` on an ephemeral port.

mod common;

use common::{get, get_with, Server, TestApp, DEMO};
use std::sync::OnceLock;

/// The demo app, copied and built once for this file; each test starts its own server
/// so that no process outlives its test.
fn server() -> Server {
    static APP: OnceLock<TestApp> = OnceLock::new();
    let app = APP.get_or_init(|| {
        let app = TestApp::demo();
        app.build();
        app
    });
    Server::start(DEMO, app, &["--engines", "2"])
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
    assert!(html.contains("<div id=\"__fymo\" style=\"display:contents\">"));
    assert!(html.contains("<li>Svelte 5 SSR in QuickJS</li>"));
    assert!(html.contains("<footer class=\"svelte-"), "layout wraps the page");
    assert!(
        html.contains("<script type=\"application/json\" id=\"__fymo_props\">{\"title\":\"Fymo demo\",\"features\"")
    );
    assert!(html.contains("<script type=\"module\">\nimport { start } from \"/_fymo/fymo-client-"));
    assert!(html.contains("start(Page, Layout);"));
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
    // The default engine: V8 when compiled in, else QuickJS.
    assert_eq!(v["engines"]["engine"], fymo::testing::EngineBackend::name(&fymo::testing::Engine::default()));
    assert_eq!(v["engines"]["size"], 2);
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
    assert_eq!(v["layout"], "layouts/main");
    assert_eq!(v["props"]["product"]["id"], 3);
    assert_eq!(v["url"], "/products/3");
    assert!(v["version"].as_str().unwrap().len() >= 8);
}

#[test]
fn hostile_props_cannot_close_the_script_and_round_trip() {
    let server = server();
    let hostile = "</script><script>alert(1)</script>";
    let url = format!("{}?name={}", server.url("/hello"), urlencode(&format!("{hostile}\u{2028}x\u{2029}")));
    let r = get(&url);
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>alert(1)"), "no injected script");
    assert_eq!(r.body.matches("</script>").count(), 2, "only the props and module scripts close");
    let props = r.body.split("id=\"__fymo_props\">").nth(1).unwrap().split("</script>").next().unwrap();
    assert!(!props.contains('\u{2028}') && !props.contains('\u{2029}'));
    let v: serde_json::Value = serde_json::from_str(props).unwrap();
    assert_eq!(v["name"], format!("{hostile}\u{2028}x\u{2029}"), "round-trips exactly");
    assert!(r.body.contains("&lt;/script>&lt;script>alert(1)&lt;/script>"), "escaped in the HTML too");
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
