//! Pages: nested layouts with their own controllers, folder error pages.

mod common;

use common::visitor::{csrf_of, Visitor};
use common::{get, get_with, page_object, Server, TestApp, DEMO};

fn demo() -> (TestApp, Server) {
    let app = TestApp::demo();
    app.build();
    let server = Server::start(DEMO, &app, &["--engines", "1", "--python-workers", "1"]);
    (app, server)
}

#[test]
fn a_folder_layout_nests_inside_the_app_layout_with_its_own_controller() {
    let (_app, server) = demo();
    let r = get(&server.url("/docs/layouts"));
    assert_eq!(r.status, 200, "{}", r.body);
    let header = r.body.find("<header").unwrap();
    let sidebar = r.body.find("aria-label=\"Docs\"").expect("the docs layout");
    let title = r.body.find("<h1 id=\"doc-title\">Nested layouts</h1>").expect("the page");
    let footer = r.body.find("<footer").unwrap();
    assert!(header < sidebar && sidebar < title && title < footer, "app layout > docs layout > page");
    assert!(r.body.contains(">Client navigation</a>"), "the sidebar comes from controllers/docs/_layout.py");
    let page = page_object(&r.body);
    assert_eq!(page["layouts"], serde_json::json!(["layouts/main", "docs/_layout"]));
    assert!(page["props"].get("sidebar").is_none(), "page props stay the page's: {}", page["props"]);
    assert_eq!(page["layoutProps"][1]["sidebar"].as_array().unwrap().len(), 4);
    assert!(r.body.contains("start(Page, [L0, L1]);"));

    let version = common::page_object(&r.body)["version"].as_str().unwrap().to_owned();
    let inertia = get_with(&server.url("/docs/forms"), &[("X-Inertia", "true"), ("X-Inertia-Version", &version)]);
    let v: serde_json::Value = serde_json::from_str(&inertia.body).unwrap();
    assert_eq!(v["props"]["title"], "Forms");
    assert!(v["assets"]["docs/_layout"]["js"].as_str().unwrap().starts_with("/_fymo/"));
}

#[test]
fn a_folder_error_page_renders_inside_its_layouts() {
    let (_app, server) = demo();
    let r = get(&server.url("/docs/no-such-page"));
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Not in the docs (404 Not Found)"), "{}", r.body);
    assert!(r.body.contains("aria-label=\"Docs\""), "inside the docs layout");
    let elsewhere = get(&server.url("/nothing/here"));
    assert_eq!(elsewhere.status, 404);
    assert!(!elsewhere.body.contains("Not in the docs"), "other folders get the app's error page");
}

#[test]
fn a_rust_layout_controller_reads_the_session_and_layout_null_opts_out() {
    let (_app, server) = demo();
    let mut visitor = Visitor::new(&server.base);
    let login = visitor.get("/login");
    assert!(login.body.contains("<p class=\"who") && login.body.contains("Not signed in"), "{}", login.body);
    let token = csrf_of(&login.body);
    let r = visitor.post_form("/login", &[("username", "ada"), ("password", "demo"), ("_csrf", &token)]);
    assert_eq!(r.status, 303);
    assert!(visitor.get("/account").body.contains(">Signed in as ada</p>"));
    let plain = get(&server.url("/plain"));
    assert!(!plain.body.contains("<footer"), "layout: null renders the page alone");
}

#[test]
fn export_writes_every_prerendered_page_with_its_assets() {
    let app = TestApp::demo();
    app.build();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = app.run(DEMO, &["export", out.path().to_str().unwrap(), "--engines", "1"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), ["/docs", "/docs/layouts", "/docs/navigation", "/docs/forms"]);
    let page = std::fs::read_to_string(out.path().join("docs/layouts/index.html")).unwrap();
    assert!(page.contains("<h1 id=\"doc-title\">Nested layouts</h1>") && page.contains("aria-label=\"Docs\""));
    // Every file the page links to is in the export, and static/ is at its root.
    for reference in page.split("\"/_fymo/").skip(1) {
        let file = reference.split('"').next().unwrap();
        assert!(out.path().join("_fymo").join(file).is_file(), "{file} is exported");
    }
    assert!(out.path().join("docs/index.html").is_file() && out.path().join("robots.txt").is_file());
}
