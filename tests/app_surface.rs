//! The application surface: static files, headers and cookies from controllers,
//! sessions and flash, CSRF, uploads — in Rust and Python controllers.

mod common;

use std::time::Duration;

use common::visitor::{csrf_of, Visitor};
use common::{eventually, get, get_with, Server, TestApp, DEMO, FYMO};
use serde_json::Value;

fn demo(args: &[&str]) -> (TestApp, Server) {
    let app = TestApp::demo();
    app.build();
    let mut all = vec!["--engines", "1", "--python-workers", "1"];
    all.extend_from_slice(args);
    let server = Server::start(DEMO, &app, &all);
    (app, server)
}

fn python_app() -> (TestApp, Server) {
    let app = TestApp::fixture("python");
    app.build();
    let server = Server::start(FYMO, &app, &["--engines", "1", "--python-workers", "1"]);
    (app, server)
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn static_files_have_types_validators_ranges_and_no_way_out() {
    let (app, server) = demo(&[]);
    let robots = get(&server.url("/robots.txt"));
    assert_eq!(robots.status, 200);
    assert!(robots.body.contains("User-agent"), "{}", robots.body);
    assert!(robots.header("content-type").unwrap().starts_with("text/plain"));
    assert!(robots.header("last-modified").is_some());
    let etag = robots.header("etag").expect("an ETag").to_owned();
    assert_eq!(get_with(&server.url("/robots.txt"), &[("If-None-Match", &etag)]).status, 304);
    let part = get_with(&server.url("/robots.txt"), &[("Range", "bytes=0-5")]);
    assert_eq!((part.status, part.body.as_str()), (206, "# Serv"));
    let icon = get(&server.url("/favicon.ico"));
    assert_eq!(icon.status, 200);
    assert!(icon.header("content-type").unwrap().contains("icon"), "{:?}", icon.header("content-type"));

    for path in ["/../fymo.yml", "/%2e%2e/fymo.yml", "/..%2ffymo.yml", "/static/../fymo.yml", "/%2e%2e%2froutes.yml"] {
        let r = get(&server.url(path));
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("secret"), "{path}: {}", r.body);
    }
    assert_eq!(get(&server.url("/nothing-here.txt")).status, 404);

    // A route wins over a file of the same path, and `fymo routes` says so.
    app.write("static/counter", "the file");
    let page = get(&server.url("/counter"));
    assert!(!page.body.contains("the file") && page.body.contains("<button"), "{}", page.body);
    let (code, out, err) = app.run(DEMO, &["routes"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("static/counter") && out.contains("shadowed"), "{out}");
}

#[test]
fn rust_controller_session_header_and_cookies() {
    let (_app, server) = demo(&[]);
    let mut visitor = Visitor::new(&server.base);
    let first = visitor.get("/visits");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-visits"), Some("1"));
    let session = first.set_cookies.iter().find(|c| c.starts_with("fymo_session=")).expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    assert_eq!(visitor.get("/visits").header("x-visits"), Some("2"));

    let dark = visitor.get("/visits?theme=dark");
    let theme = dark.set_cookies.iter().find(|c| c.starts_with("theme=")).expect("the theme cookie");
    assert!(theme.contains("Max-Age=2592000") && theme.contains("SameSite=Lax") && theme.contains("Path=/"), "{theme}");
    assert!(visitor.get("/visits").body.contains("<span id=\"theme\">dark</span>"));
    let forget = visitor.get("/visits?forget");
    assert!(
        forget.set_cookies.iter().any(|c| c.starts_with("theme=;") && c.contains("Max-Age=0")),
        "{:?}",
        forget.set_cookies
    );
    assert!(visitor.get("/visits").body.contains("<span id=\"theme\">none</span>"));

    // HTTPS behind a trusted proxy only: 127.0.0.1 is not configured as one.
    let r = get_with(&server.url("/visits"), &[("X-Forwarded-Proto", "https")]);
    assert!(r.header("set-cookie").is_some_and(|c| !c.contains("Secure")));
}

#[test]
fn python_controller_session_flash_rotation_headers_and_cookies() {
    let (_app, server) = python_app();
    let mut visitor = Visitor::new(&server.base);
    let first = visitor.get("/session");
    assert_eq!(first.header("x-visits"), Some("1"), "{}", first.body);
    let v = json_of(&first.body);
    assert_eq!(v["visits"], 1);
    let token = v["csrf"].as_str().unwrap().to_owned();
    assert_eq!(json_of(&visitor.get("/session").body)["visits"], 2);

    let saved = visitor.post_form("/session", &[("user", "ada"), ("_csrf", &token)]);
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.header("location"), Some("/session"));
    let after = json_of(&visitor.get("/session").body);
    assert_eq!(after["flash"], "saved", "the flash shows on the next page");
    assert_eq!(after["visits"], 3, "rotation keeps the values");
    assert_ne!(after["csrf"], token.as_str(), "a new token after sign-in");
    assert_eq!(json_of(&visitor.get("/session").body)["flash"], Value::Null, "once");

    let themed = visitor.get("/session?theme=dark");
    let theme = themed.set_cookies.iter().find(|c| c.starts_with("theme=dark")).expect("theme cookie");
    assert!(
        theme.contains("Max-Age=3600") && theme.contains("SameSite=Strict") && theme.contains("HttpOnly"),
        "{theme}"
    );
    assert_eq!(json_of(&visitor.get("/session").body)["theme"], "dark");
    let forget = visitor.get("/session?forget");
    assert!(forget.set_cookies.iter().any(|c| c.starts_with("theme=;") && c.contains("Max-Age=0")));
}

#[test]
fn demo_login_account_logout_and_a_tampered_cookie() {
    let (_app, server) = demo(&[]);
    let mut visitor = Visitor::new(&server.base);
    let away = visitor.get("/account");
    assert_eq!((away.status, away.header("location")), (302, Some("/login")));
    let token = csrf_of(&visitor.get("/login").body);

    let wrong = visitor.post_form("/login", &[("username", "ada"), ("password", "nope"), ("_csrf", &token)]);
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("Wrong name or password") && wrong.body.contains("value=\"ada\""), "{}", wrong.body);

    let signed_in = visitor.post_form("/login", &[("username", "ada"), ("password", "demo"), ("_csrf", &token)]);
    assert_eq!((signed_in.status, signed_in.header("location")), (303, Some("/account")), "{}", signed_in.body);
    let account = visitor.get("/account");
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Signed in as ada"), "{}", account.body);
    assert!(account.body.contains("Welcome back, ada"), "flash: {}", account.body);
    let again = visitor.get("/account");
    assert!(again.body.contains("Signed in as ada") && !again.body.contains("Welcome back"), "flash once");
    assert_ne!(csrf_of(&again.body), token, "rotated on sign-in");

    // A tampered cookie is an empty session, not an error.
    let mut tampered = Visitor::new(&server.base);
    let mut value = visitor.cookies["fymo_session"].clone();
    let last = value.pop().unwrap();
    value.push(if last == 'A' { 'B' } else { 'A' });
    tampered.cookies.insert("fymo_session".into(), value);
    let r = tampered.get("/account");
    assert_eq!((r.status, r.header("location")), (302, Some("/login")));

    let token = csrf_of(&again.body);
    let out = visitor.post_form("/logout", &[("_csrf", &token)]);
    assert_eq!((out.status, out.header("location")), (303, Some("/login")));
    assert_eq!(visitor.get("/account").status, 302, "signed out");
}

#[test]
fn csrf_refuses_cross_origin_and_missing_or_wrong_tokens_after_method_checks() {
    let (_app, server) = demo(&["--dev-errors"]);
    let mut visitor = Visitor::new(&server.base);
    let token = csrf_of(&visitor.get("/login").body);
    let fields = [("username", "ada"), ("password", "demo")];

    let evil =
        visitor.post_form_with("/login", &[("username", "ada"), ("_csrf", &token)], &[("Origin", "http://evil.test")]);
    assert_eq!(evil.status, 403);
    assert!(evil.body.contains("cross-origin request refused"), "{}", evil.body);
    let site = visitor.post_form_with("/login", &[("_csrf", &token)], &[("Sec-Fetch-Site", "cross-site")]);
    assert_eq!(site.status, 403);
    assert!(site.body.contains("Sec-Fetch-Site"), "{}", site.body);
    let missing = visitor.post_form("/login", &fields);
    assert_eq!(missing.status, 403);
    assert!(missing.body.contains("missing CSRF token"), "{}", missing.body);
    let wrong = visitor.post_form("/login", &[("username", "ada"), ("password", "demo"), ("_csrf", "0123")]);
    assert_eq!(wrong.status, 403);
    assert!(wrong.body.contains("invalid CSRF token"), "{}", wrong.body);
    let mut stranger = Visitor::new(&server.base);
    assert_eq!(stranger.post_form("/login", &[("_csrf", &token)]).status, 403, "another session's token");
    let header = visitor.post_form_with("/login", &fields, &[("X-CSRF-Token", &token), ("Origin", &server.base)]);
    assert_eq!(header.status, 303, "the header carries the token too");

    // Routing and method come first: a GET-only page answers 405 to any POST.
    let not_allowed = visitor.post_form_with("/products", &[], &[("Origin", "http://evil.test")]);
    assert_eq!(not_allowed.status, 405);
}

/// Uploads `size` bytes as one file over a raw connection, declaring the length or
/// streaming it chunked, and stops sending once the server has answered; the status.
fn raw_upload(server: &Server, cookie: &str, token: &str, size: usize, chunked: bool) -> u16 {
    use std::io::Write;
    let boundary = "raw-boundary";
    let head_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {}", head_part.len() + size + tail.len())
    };
    let mut stream = common::connect(server);
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nOrigin: {}\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n{length}\r\n\r\n",
        server.base
    );
    // The server may answer and close before everything is sent: stop writing then.
    let mut alive = stream.write_all(head.as_bytes()).is_ok();
    let mut write = |bytes: &[u8]| -> bool {
        let framed = if chunked {
            [format!("{:x}\r\n", bytes.len()).as_bytes(), bytes, b"\r\n"].concat()
        } else {
            bytes.to_vec()
        };
        stream.write_all(&framed).is_ok()
    };
    alive = alive && write(head_part.as_bytes());
    let chunk = bytes(64 * 1024);
    let mut sent = 0;
    while alive && sent < size {
        let n = chunk.len().min(size - sent);
        alive = write(&chunk[..n]);
        sent += n;
    }
    if alive && write(tail.as_bytes()) && chunked {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    common::read_response(&mut stream).expect("an answer").0
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn demo_upload_streams_hashes_and_refuses_over_the_route_limit() {
    let (_app, server) = demo(&[]);
    let mut visitor = Visitor::new(&server.base);
    let token = csrf_of(&visitor.get("/upload").body);
    let data = bytes(300_000);
    let r = visitor.post_multipart(
        "/upload",
        &[("_csrf", &token)],
        &[("file", "data.bin", "application/octet-stream", &data)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
    assert!(r.body.contains(">data.bin</dd>"), "{}", r.body);
    assert!(r.body.contains(">300000</dd>"), "{}", r.body);
    assert!(r.body.contains(&hex), "{}", r.body);

    let cookie = format!("fymo_session={}", visitor.cookies["fymo_session"]);
    for chunked in [false, true] {
        let status = raw_upload(&server, &cookie, &token, 6 * 1024 * 1024, chunked);
        assert_eq!(status, 413, "6 MiB over a 5 MiB route (chunked: {chunked})");
    }
    let none = visitor.post_multipart("/upload", &[], &[("file", "a.bin", "application/octet-stream", b"x")]);
    assert_eq!(none.status, 403, "the token is checked for uploads too");
}

#[test]
fn python_uploads_get_files_and_each_limit_is_enforced() {
    let (_app, server) = python_app();
    let mut visitor = Visitor::new(&server.base);
    let token = json_of(&visitor.get("/session").body)["csrf"].as_str().unwrap().to_owned();
    let r = visitor.post_multipart(
        "/uploads",
        &[("_csrf", &token), ("note", "two files")],
        &[("a", "a.txt", "text/plain", b"hello"), ("b", "b.png", "image/png", &bytes(600))],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = json_of(&r.body);
    assert_eq!(v["form"]["note"], "two files");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!((files[0]["name"].as_str(), files[0]["size"].as_u64()), (Some("a.txt"), Some(5)));
    assert_eq!(files[0]["sha256"], "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_eq!(files[1]["type"], "image/png");
    assert!(files.iter().all(|f| f["exists"] == true), "present during the call");
    let paths: Vec<String> = files.iter().map(|f| f["path"].as_str().unwrap().to_owned()).collect();
    assert!(
        eventually(Duration::from_secs(20), || paths.iter().all(|p| !std::path::Path::new(p).exists())),
        "temporary files removed after the request: {paths:?}"
    );

    let three = [
        ("a", "1.txt", "text/plain", &b"1"[..]),
        ("b", "2.txt", "text/plain", b"2"),
        ("c", "3.txt", "text/plain", b"3"),
    ];
    assert_eq!(visitor.post_multipart("/uploads", &[("_csrf", &token)], &three).status, 413, "file count");
    let large = bytes(2000);
    assert_eq!(
        visitor.post_multipart("/uploads", &[("_csrf", &token)], &[("a", "a.txt", "text/plain", &large)]).status,
        413,
        "file size"
    );
    let pad = "x".repeat(1000);
    let padded: Vec<(&str, &str)> = [("_csrf", token.as_str())].into_iter().chain([("pad", pad.as_str()); 4]).collect();
    assert_eq!(
        visitor.post_multipart("/uploads", &padded, &[("a", "a.txt", "text/plain", b"small")]).status,
        413,
        "total size"
    );
    let exe =
        visitor.post_multipart("/uploads", &[("_csrf", &token)], &[("a", "a.exe", "application/x-msdownload", b"MZ")]);
    assert_eq!(exe.status, 415, "{}", exe.body);
    assert_eq!(exe.header("connection"), Some("close"), "a refused body is not left on a reused connection");
}

#[test]
fn serve_refuses_to_start_without_a_secret() {
    let app = TestApp::fixture("python");
    app.build();
    let out = std::process::Command::new(FYMO)
        .args(["--root", app.root().to_str().unwrap(), "serve", "--port", "0"])
        .env_remove("FYMO_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no app secret") && err.contains("FYMO_SECRET") && err.contains("fymo secret"), "{err}");
    let secret = std::process::Command::new(FYMO).arg("secret").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&secret.stdout).trim().len(), 64);
}

#[test]
fn a_multipart_body_of_endless_headers_is_refused_at_the_route_limit() {
    use std::io::Write;
    let (_app, server) = python_app();
    let mut stream = common::connect(&server);
    let head = "POST /uploads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    // A part whose headers never end: the route allows 4 KiB in all.
    let mut part = b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n".to_vec();
    part.extend(std::iter::repeat_n(b'h', 64 * 1024));
    let chunk = [format!("{:x}\r\n", part.len()).as_bytes(), &part, b"\r\n"].concat();
    let _ = stream.write_all(&chunk); // the server may answer and close before reading it all
    let (status, _) = common::read_response(&mut stream).expect("an answer");
    assert_eq!(status, 413);
}

#[test]
fn an_inertia_request_gets_errors_as_pages_not_page_objects() {
    let (_app, server) = demo(&[]);
    let version = common::page_object(&get(&server.url("/login")).body)["version"].as_str().unwrap().to_owned();
    let stale = get_with(&server.url("/login"), &[("X-Inertia", "true")]);
    assert_eq!(stale.status, 409, "a client that does not say its version reloads");
    let refused = get_with(&server.url("/login"), &[("X-Inertia", "true"), ("X-Inertia-Version", &version)]);
    assert_eq!(refused.header("x-inertia"), Some("true"), "a page object");
    let mut visitor = Visitor::new(&server.base);
    let post =
        visitor.post_form_with("/login", &[("username", "ada")], &[("X-Inertia", "true"), ("Origin", &server.base)]);
    assert_eq!(post.status, 403);
    assert!(post.header("x-inertia").is_none(), "an error is not a page object");
    assert!(post.header("content-type").unwrap().starts_with("text/html"), "{:?}", post.header("content-type"));
    let json = get_with(&server.url("/api/products/7"), &[("X-Inertia", "true")]);
    assert!(json.header("x-inertia").is_none(), "a JSON route's answer is not a page object");
}
