//! Python controllers: calling conventions, request data, conversions, faults, reload,
//! and concurrency across the worker pool.

mod common;

use std::time::{Duration, Instant};

use common::{get, get_with, post_form, Reply, Server, TestApp, FYMO};
use serde_json::{json, Value};

/// The app with a generous Python timeout: a busy machine must not turn a slow first call
/// into a 504. The fault test sets its own, short one.
fn start(args: &[&str]) -> (TestApp, Server) {
    start_with_timeout(args, "30000")
}

fn start_with_timeout(args: &[&str], timeout_ms: &str) -> (TestApp, Server) {
    let app = TestApp::fixture("python");
    app.build();
    let mut all = vec!["--engines", "1", "--python-timeout-ms", timeout_ms];
    all.extend_from_slice(args);
    let server = Server::start(FYMO, &app, &all);
    (app, server)
}

fn json_of(r: &Reply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

#[test]
fn each_calling_convention_is_served() {
    let (_app, server) = start(&[]);
    assert_eq!(
        json_of(&get(&server.url("/conv/get_context"))),
        json!({"convention": "get_context", "path": "/conv/get_context"})
    );
    assert_eq!(json_of(&get(&server.url("/conv/legacy"))), json!({"convention": "getContext"}));
    assert_eq!(json_of(&get(&server.url("/conv/module"))), json!({"convention": "context", "items": [1, 2, 3]}));
}

#[test]
fn params_query_headers_cookies_and_bodies_reach_python() {
    let (_app, server) = start(&[]);
    let r = get_with(
        &server.url("/echo/42?q=search&n=1"),
        &[("X-Test-Header", "yes"), ("Cookie", "session=abc; theme=dark")],
    );
    let v = json_of(&r);
    assert_eq!(v["method"], "GET");
    assert_eq!(v["params"], json!({"id": "42"}));
    assert_eq!(v["query"], json!({"q": "search", "n": "1"}));
    assert_eq!(v["cookies"], json!({"session": "abc", "theme": "dark"}));
    assert_eq!(v["header"], "yes");

    let v = json_of(&post_form(&server.url("/echo/7"), &[("name", "Ada"), ("note", "a & b")]));
    assert_eq!(v["posted"], true, "POST calls action()");
    assert_eq!(v["form"], json!({"name": "Ada", "note": "a & b"}));

    // Repeated fields: the first is the plain value, `getlist` has them all (query too).
    let repeated = [("tag", "a"), ("name", "Ada"), ("tag", "b"), ("tag", "c")];
    let v = json_of(&post_form(&server.url("/echo/9?q=x&q=y"), &repeated));
    assert_eq!(v["form"]["tag"], "a");
    assert_eq!(v["tags"], json!(["a", "b", "c"]));
    assert_eq!(v["query"]["q"], "x");
    assert_eq!(v["qs"], json!(["x", "y"]));
    assert_eq!(v["none"], json!([]));

    let r = ureq::post(&server.url("/echo/8")).send_json(json!({"k": [1, 2]})).unwrap();
    let v: Value = r.into_json().unwrap();
    assert_eq!(v["json"], json!({"k": [1, 2]}));
}

#[test]
fn python_page_renders_with_its_props() {
    let (_app, server) = start(&[]);
    let r = get(&server.url("/page/Grace"));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<h1 id=\"name\">Hi Grace from Python</h1>"), "{}", r.body);
}

/// The same values come out whether the worker writes them with orjson (where it is
/// installed) or with the standard library (`FYMO_PYTHON_JSON=stdlib`).
#[test]
fn non_json_values_are_converted_by_the_documented_rules_by_either_encoder() {
    let app = TestApp::fixture("python");
    app.build();
    let args = ["--engines", "1", "--python-workers", "1"];
    let fast = Server::start(FYMO, &app, &args);
    let stdlib = Server::start_configured(FYMO, &app, "serve", &args, |c| {
        c.env("FYMO_PYTHON_JSON", "stdlib");
    });
    for server in [&fast, &stdlib] {
        let v = json_of(&get(&server.url("/convert")));
        assert_eq!(
            v,
            json!({
                "when": "2024-05-06T07:08:09+00:00",
                "day": "2024-05-06",
                "price": "19.99",
                "tags": ["a", "b", "c"],
                "point": {"x": 1, "y": 2},
                "pair": [1, "two"],
                "color": "red",
                "id": "12345678-1234-5678-1234-567812345678",
                "text": "é 😀 \u{2028} </script> 'quoted' \"double\"",
                "time": "07:08:09.000123",
                "naive": "2024-05-06T07:08:09.000500",
                "frozen": [1, 2, 3],
                "mixed": v["mixed"].clone(), // a set that does not sort: either order
                "nested": {"list": [{"x": 3, "y": 4}, "red", null, true, 1.5, -0.0]},
            }),
            "{}",
            server.base
        );
        assert_eq!(v["mixed"].as_array().map(Vec::len), Some(2));
        let edge = json_of(&get(&server.url("/convert?edge=1")));
        assert_eq!(
            edge,
            json!({
                "nan": null,
                "inf": [null, null],
                "keys": {"2": "int", "1.5": "float", "true": "bool", "null": "none"},
                "big": 1_180_591_620_717_411_303_424_f64,
            }),
            "{}",
            server.base
        );
        // Past orjson's 255 levels (and serde_json's 128, so read as text).
        let deep = get(&server.url("/convert?deep=300")).body;
        assert_eq!(deep, format!("{{\"deep\":{}{}}}", "[".repeat(301), "]".repeat(301)), "{}", server.base);
    }
}

#[test]
fn response_helpers_redirect_status_and_not_found() {
    let (_app, server) = start(&[]);
    let r = get(&server.url("/respond/redirect"));
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/conv/module"));
    let r = get(&server.url("/respond/status"));
    assert_eq!(r.status, 418);
    assert_eq!(json_of(&r), json!({"teapot": true}));
    assert_eq!(get(&server.url("/respond/missing")).status, 404);
    assert_eq!(get(&server.url("/respond/list")).status, 500);
    server.wait_for_log("props must be a JSON object");
    let evil = post_form(&server.url("/respond/evil"), &[]);
    assert_eq!(evil.status, 500, "a header-splitting location is refused");
    assert!(evil.header("set-cookie").is_none());
    assert_eq!(get(&server.url("/respond/redirect")).status, 303, "and the server goes on");
}

/// Each fault is contained: the request gets a clear error, the log says what happened,
/// and the next request is served.
#[test]
fn faults_are_contained_and_the_next_request_succeeds() {
    let (_app, server) = start_with_timeout(&["--python-workers", "1"], "5000");
    let cases = [
        ("/faults/raises", 500, "ValueError: the controller raised on purpose"),
        ("/faults/sys_exit", 500, "SystemExit: 3"),
        ("/faults/os_exit", 500, "the Python worker died"),
        ("/faults/forever", 504, "timed out"),
        ("/faults/bad_value", 500, "not JSON-serializable at `props.items[1].blob`"),
        ("/faults/bad_key", 500, "not JSON-serializable at `props.nested`"),
    ];
    for (path, status, logged) in cases {
        let r = get(&server.url(path));
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(
            !r.body.contains("Traceback") && !r.body.contains("on purpose"),
            "no details in production: {}",
            r.body
        );
        let next = get(&server.url("/conv/module"));
        assert_eq!(next.status, 200, "after {path}");
        server.wait_for_log(logged);
    }
}

#[test]
fn traceback_goes_to_the_log() {
    let (_app, server) = start(&[]);
    assert_eq!(get(&server.url("/faults/raises")).status, 500);
    let log = server.wait_for_log("faults/raises.py");
    assert!(log.contains("Traceback (most recent call last)"), "{log}");
}

#[test]
fn prints_and_stray_stdout_bytes_go_to_the_log_not_the_protocol() {
    let (_app, server) = start(&["--python-workers", "1"]);
    for _ in 0..3 {
        let r = get(&server.url("/faults/garbage"));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(json_of(&r), json!({"survived": true}));
    }
    server.wait_for_log("hello from print()");
    server.wait_for_log("raw bytes on fd 1");
}

/// A client that hangs up during a Python call does not cost the worker: the call runs to
/// its end on the side, its reply is read and dropped, and the same interpreter serves the
/// next request (before, it was killed and a new one started).
#[test]
fn a_call_whose_client_hangs_up_finishes_and_the_worker_serves_on() {
    use std::io::Write;
    let (app, server) = start(&["--python-workers", "1"]);
    let release = app.root().join("release-hold");
    let path = format!("/hold?release={}", release.display());
    let addr = server.url("").trim_start_matches("http://").to_owned();
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    write!(client, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let started = server.wait_for_log("hold: started in pid");
    let pid: u64 =
        started.rsplit("hold: started in pid ").next().unwrap().split_whitespace().next().unwrap().parse().unwrap();
    drop(client);
    server.wait_for_log("request went away during its python call");
    std::fs::write(&release, "").unwrap();
    let next = get(&server.url(&path));
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(json_of(&next)["pid"].as_u64(), Some(pid), "the same worker answered");
    let log = server.drain_log().join("\n");
    assert!(!log.contains("replacing python worker"), "{log}");
}

#[test]
fn a_changed_python_file_is_served_on_the_next_request() {
    let (app, server) = start(&["--python-workers", "2"]);
    // Warm both workers so each has the old module imported.
    for _ in 0..4 {
        assert_eq!(json_of(&get(&server.url("/reload"))), json!({"version": 1}));
    }
    // Same size on purpose: the change is seen by mtime, not by length. Step the mtime
    // forward explicitly rather than sleeping past the clock's granularity.
    let file = app.root().join("controllers/reload.py");
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    app.write("controllers/reload.py", "def get_context(request):\n    return {\"version\": 2}\n");
    let later = before + Duration::from_secs(1);
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(later).unwrap();
    for _ in 0..4 {
        assert_eq!(json_of(&get(&server.url("/reload"))), json!({"version": 2}));
    }
}

#[test]
fn calls_are_spread_over_the_pool() {
    let workers = 4;
    let (_app, server) = start(&["--python-workers", &workers.to_string()]);
    // Let every worker start.
    for _ in 0..workers {
        get(&server.url("/sleep"));
    }
    let url = server.url("/sleep");
    let started = Instant::now();
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || json_of(&get(&url))["pid"].as_u64().unwrap())
        })
        .collect();
    let pids: std::collections::BTreeSet<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let took = started.elapsed();
    let ideal = Duration::from_millis(100 * 50 / workers as u64);
    println!("100 calls of 50 ms over {workers} workers: {took:?} (ideal {ideal:?})");
    assert_eq!(pids.len(), workers, "every worker took calls");
    // A lower bound only: a busy machine can make it slower, never faster.
    assert!(took >= ideal.mul_f64(0.9), "faster than the pool allows: {took:?}");
}
