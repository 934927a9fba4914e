//! What an outside probe found, kept as tests: every input surface an attacker reaches
//! (URLs sent back to the client, static files, the publish endpoint, ...).

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::visitor::{csrf_of, Visitor};
use common::{get, get_with, RawRequest, Reply, Server, TestApp, DEMO, FYMO};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

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

#[test]
fn the_request_head_is_capped_and_needs_exactly_one_host() {
    let server = server();
    let host = server.base.trim_start_matches("http://").to_owned();
    let big = "a".repeat(100 * 1024);
    let r = raw(&server, &format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"));
    assert_eq!(r.status, 431);
    // Under the cap, the same request is answered.
    let fine = "a".repeat(16 * 1024);
    let r = raw(&server, &format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {fine}\r\nConnection: close\r\n\r\n"));
    assert_eq!(r.status, 200);
    assert_eq!(raw(&server, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n").status, 400);
    let two = format!("GET / HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
    assert_eq!(raw(&server, &two).status, 400);
    // HTTP/1.0 has no such rule.
    assert_eq!(raw(&server, "GET / HTTP/1.0\r\n\r\n").status, 200);
}

#[test]
fn the_origin_check_compares_the_scheme() {
    let server = server();
    let mut visitor = Visitor::new(&server.base);
    let page = visitor.get("/login");
    let token = csrf_of(&page.body);
    let form = [("username", "grace"), ("password", "demo"), ("_csrf", token.as_str())];
    let https = server.base.replace("http://", "https://");
    let refused = visitor.post_form_with("/login", &form, &[("Origin", &https)]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let accepted = visitor.post_form_with("/login", &form, &[("Origin", &server.base.clone())]);
    assert_eq!(accepted.status, 303, "{}", accepted.body);
}

#[test]
fn static_ranges_answer_206_and_416() {
    let server = server();
    let whole = get(&server.url("/robots.txt")).body;
    let part = get_with(&server.url("/robots.txt"), &[("Range", "bytes=0-9")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, whole[..10]);
    for range in ["bytes=100000-200000", "bytes=abc", "pages=1-2"] {
        let r = get_with(&server.url("/robots.txt"), &[("Range", range)]);
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("content-range"), Some(format!("bytes */{}", whole.len()).as_str()));
    }
}

/// Opens a live socket as a same-origin page would; the close code the server answers
/// `message` with.
async fn close_code_for(server: &Server, message: Message) -> u16 {
    let url = server.base.replace("http://", "ws://") + "/_fymo/live";
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("origin", server.base.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the socket opens");
    socket.send(message).await.expect("sent");
    let wait = async {
        while let Some(frame) = socket.next().await {
            if let Message::Close(Some(close)) = frame.expect("a frame, not an error") {
                return u16::from(close.code);
            }
        }
        panic!("the connection ended without a close frame");
    };
    tokio::time::timeout(Duration::from_secs(30), wait).await.expect("a close frame within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_live_frames_get_their_close_codes() {
    let server = server();
    let big = Message::Text("x".repeat(100 * 1024).into());
    assert_eq!(close_code_for(&server, big).await, 1009);
    let not_utf8 = Frame::message(vec![0xff, 0xfe, 0xfd], OpCode::Data(Data::Text), true);
    assert_eq!(close_code_for(&server, Message::Frame(not_utf8)).await, 1007);
}

/// Opens a live socket as a same-origin page behind a proxy that says the client is
/// `client`; the socket, or the refusal's status.
async fn live_socket_for(
    server: &Server,
    client: &str,
) -> Result<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>, u16> {
    let url = server.base.replace("http://", "ws://") + "/_fymo/live";
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("origin", server.base.parse().unwrap());
    request.headers_mut().insert("x-forwarded-for", client.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("connecting: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_client_limits_count_the_client_behind_a_trusted_proxy() {
    let app = TestApp::demo();
    let settings = std::fs::read_to_string(app.root().join("fymo.yml")).unwrap();
    app.write("fymo.yml", &format!("{settings}\ntrusted_proxies: [127.0.0.1]\n"));
    app.build();
    let server = Server::start(DEMO, &app, &["--engines", "1", "--python-workers", "1"]);
    // One visitor takes its 64 sockets, and no more...
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(live_socket_for(&server, "203.0.113.7").await.expect("within the visitor's limit"));
    }
    assert_eq!(live_socket_for(&server, "203.0.113.7").await.err(), Some(429));
    // ...while every other visitor behind the same proxy still gets in.
    assert!(live_socket_for(&server, "198.51.100.2").await.is_ok());
    // The access log names the client, not the proxy.
    server.wait_for_log("client=198.51.100.2");
}

#[test]
fn a_bad_parameter_is_the_clients_400_and_a_huge_bump_does_not_wrap() {
    let server = server();
    let r = get(&server.url("/products?n=abc"));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(get(&server.url("/products?n=3")).status, 200);
    // The live call `bump` over HTTP, as the event-stream fallback sends it.
    let mut visitor = Visitor::new(&server.base);
    let page = visitor.get("/pulse");
    let token = csrf_of(&page.body);
    let call = |visitor: &mut Visitor, by: u64| {
        let body = format!(r#"{{"page":"/pulse","action":"bump","args":{{"by":{by}}}}}"#);
        let reply = visitor.post_json("/_fymo/live/call", &body, &[("X-CSRF-Token", &token), ("Origin", &server.base)]);
        serde_json::from_str::<serde_json::Value>(&reply.body).unwrap()
    };
    assert_eq!(call(&mut visitor, 5)["ok"], true);
    let huge = call(&mut visitor, u64::MAX);
    assert_eq!(huge["ok"], false, "{huge}");
    assert_eq!(huge["error"]["status"], 400, "{huge}");
    // The count did not wrap.
    assert_eq!(call(&mut visitor, 1)["result"]["count"], 6);
}

#[test]
fn health_tells_anyone_the_state_and_only_the_secret_holder_the_details() {
    let server = server();
    let r = get(&server.url("/_fymo/health"));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    for hidden in ["\"pid\"", "\"version\"", "\"recycled\"", "\"renders\"", "\"worker\"", "\"details\""] {
        assert!(!r.body.contains(hidden), "{hidden} in the public answer: {v}");
    }
    assert_eq!(v["status"], "ok");
    let wrong = get_with(&server.url("/_fymo/health"), &[("Authorization", "Bearer nope")]);
    assert!(!wrong.body.contains("details"));
    assert_eq!(common::health_details(&server)["pid"], server.pid());
}

#[test]
fn health_answers_503_while_python_cannot_serve() {
    let server =
        Server::start(DEMO, app(), &["--engines", "1", "--python-workers", "1", "--python", "/nonexistent/python3"]);
    let r = get(&server.url("/_fymo/health"));
    assert_eq!(r.status, 503, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["python"]["state"], "down", "{v}");
    assert_eq!(v["engines"]["state"], "ok", "{v}");
    // Pages without Python still render.
    assert_eq!(get(&server.url("/products")).status, 200);
}

/// One request on a kept-alive connection; its status and body (a `Content-Length` one).
fn exchange(stream: &mut std::net::TcpStream, request: &str) -> (u16, String) {
    use std::io::{Read, Write};
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the server closed the connection");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .expect("a Content-Length body");
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Kept-alive connections to each of a prefork server's `workers`, found by asking
/// `/_fymo/health` on new connections until every worker has answered one.
fn connection_per_worker(server: &Server, workers: usize) -> Vec<std::net::TcpStream> {
    let host = server.base.trim_start_matches("http://").to_owned();
    let ask =
        format!("GET /_fymo/health HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\r\n", common::TEST_SECRET);
    let mut found: std::collections::BTreeMap<u64, std::net::TcpStream> = Default::default();
    for _ in 0..500 {
        let mut stream = common::connect(server);
        let (_, body) = exchange(&mut stream, &ask);
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        found.entry(health["details"]["pid"].as_u64().unwrap()).or_insert(stream);
        if found.len() == workers {
            return found.into_values().collect();
        }
    }
    panic!("500 connections reached only {} of {workers} workers", found.len());
}

#[test]
fn signing_out_ends_the_session_for_every_saved_cookie_on_every_worker() {
    let server = Server::start(DEMO, app(), &["--workers", "2", "--engines", "1", "--python-workers", "1"]);
    let mut visitor = Visitor::new(&server.base);
    let token = csrf_of(&visitor.get("/login").body);
    let signed_in = visitor.post_form("/login", &[("username", "ada"), ("password", "demo"), ("_csrf", &token)]);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let saved = format!("fymo_session={}", visitor.cookies["fymo_session"]);
    let host = server.base.trim_start_matches("http://").to_owned();
    let account =
        format!("GET /account HTTP/1.1\r\nHost: {host}\r\nCookie: {saved}\r\nAccept-Encoding: identity\r\n\r\n");
    let mut workers = connection_per_worker(&server, 2);
    for stream in &mut workers {
        let (status, body) = exchange(stream, &account);
        assert!(status == 200 && body.contains("Signed in as ada"), "every worker knows the session: {status}");
    }
    let token = csrf_of(&visitor.get("/account").body);
    let out = visitor.post_form("/logout", &[("_csrf", &token)]);
    assert_eq!(out.status, 303);
    // The cookie saved before signing out opens nothing, on either worker.
    for stream in &mut workers {
        assert_eq!(exchange(stream, &account).0, 302, "signed out everywhere");
    }
}

#[test]
fn sessions_in_redis_end_on_every_server() {
    let redis = common::Redis::start();
    let url = redis.url();
    let args = ["--engines", "1", "--python-workers", "1", "--broker", url.as_str()];
    let (one, two) = (Server::start(DEMO, app(), &args), Server::start(DEMO, app(), &args));
    let mut visitor = Visitor::new(&one.base);
    let token = csrf_of(&visitor.get("/login").body);
    let signed_in = visitor.post_form("/login", &[("username", "ada"), ("password", "demo"), ("_csrf", &token)]);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let cookie = format!("fymo_session={}", visitor.cookies["fymo_session"]);
    let on_two = get_with(&two.url("/account"), &[("Cookie", &cookie)]);
    assert!(on_two.body.contains("Signed in as ada"), "the other server knows it: {}", on_two.status);
    let token = csrf_of(&visitor.get("/account").body);
    assert_eq!(visitor.post_form("/logout", &[("_csrf", &token)]).status, 303);
    let after = get_with(&two.url("/account"), &[("Cookie", &cookie)]);
    assert_eq!(after.status, 302, "ended on the other server too");
}

#[test]
fn a_redis_session_store_without_a_redis_broker_is_refused_at_start() {
    let app = TestApp::demo();
    let settings = std::fs::read_to_string(app.root().join("fymo.yml")).unwrap();
    app.write("fymo.yml", &format!("{settings}\nsession:\n  store: redis\n"));
    app.build();
    let (code, _, err) = app.run(DEMO, &["serve", "--port", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("fymo.yml") && err.contains("session.store: redis") && err.contains("--broker"), "{err}");
}
