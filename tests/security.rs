//! What an outside probe found, kept as tests: every input surface an attacker reaches
//! (URLs sent back to the client, static files, the publish endpoint, ...).

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::{get, RawRequest, Reply, Server, TestApp, DEMO, FYMO};

/// The demo app, copied and built once for this file.
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| {
        let app = TestApp::demo();
        app.build();
        app
    })
}

fn server() -> Server {
    Server::start(DEMO, app(), &["--engines", "1", "--python-workers", "1"])
}

/// Sends `request` as written on its own connection; the whole answer.
fn raw(server: &Server, request: &str) -> Reply {
    let mut raw = RawRequest::exact(&server.base, request);
    raw.send();
    raw.response().expect("a response")
}

#[test]
fn a_path_that_reads_as_another_host_is_sent_back_as_a_path() {
    let server = server();
    let host = server.base.trim_start_matches("http://");
    // A client on an older build reloads the URL the server names: never `//evil.example`.
    let stale = raw(
        &server,
        &format!("GET //evil.example/x HTTP/1.1\r\nHost: {host}\r\nX-Inertia: true\r\nX-Inertia-Version: old\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(stale.status, 409);
    assert_eq!(stale.header("x-inertia-location"), Some("/.//evil.example/x"));
}

#[test]
fn static_files_never_lead_out_of_the_folder_and_loops_end() {
    let app = TestApp::demo();
    let dir = app.root().join("static");
    std::os::unix::fs::symlink("..", dir.join("up")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("loop")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("robots.txt", dir.join("robots-alias.txt")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.join("leak.txt")).unwrap();

    // The start-up walk of static/ ends (it used to loop for ever).
    let mut routes = std::process::Command::new(FYMO)
        .arg("--root")
        .arg(app.root())
        .arg("routes")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ended = common::eventually(Duration::from_secs(60), || routes.try_wait().unwrap().is_some());
    if !ended {
        let _ = routes.kill();
    }
    assert!(ended, "`fymo routes` did not finish on static/ with symlink loops");

    app.build();
    let server = Server::start(DEMO, &app, &["--engines", "1", "--python-workers", "1"]);
    for path in ["/up/fymo.yml", "/up/routes.yml", "/leak.txt", "/loop/up/fymo.yml", "/%2e%2e/fymo.yml"] {
        let r = get(&server.url(path));
        assert_eq!(r.status, 404, "{path} must not be served: {}", r.body);
    }
    // Links that stay inside the folder still work.
    assert_eq!(get(&server.url("/robots-alias.txt")).body, get(&server.url("/robots.txt")).body);
    assert_eq!(get(&server.url("/loop/robots.txt")).status, 200);
}

#[test]
fn publishing_checks_the_credential_before_reading_the_body() {
    let server = server();
    let host = server.base.trim_start_matches("http://");
    let publish = |headers: &str, body: &str| {
        raw(
            &server,
            &format!(
                "POST /_fymo/live/publish HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    // Not JSON, the wrong type, or nothing: without the secret, all are 401.
    assert_eq!(publish("Content-Type: text/plain\r\n", "hello").status, 401);
    assert_eq!(publish("Content-Type: application/json\r\n", "{not json").status, 401);
    assert_eq!(publish("Authorization: Bearer wrong\r\nContent-Type: application/json\r\n", "{}").status, 401);
    // With it, the body is then checked.
    let bearer = format!("Authorization: Bearer {}\r\n", common::TEST_SECRET);
    assert_eq!(publish(&format!("{bearer}Content-Type: application/json\r\n"), "{not json").status, 400);
    assert_eq!(publish(&format!("{bearer}Content-Type: text/plain\r\n"), "{}").status, 415);
    let ok = publish(&format!("{bearer}Content-Type: application/json\r\n"), r#"{"topic":"counter","patch":{"n":1}}"#);
    assert_eq!(ok.status, 202, "{}", ok.body);
}
