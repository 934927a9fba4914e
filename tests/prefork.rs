//! `fymo serve --workers N`: the prefork master under faults and signals, with a steady
//! bounded load on 127.0.0.1.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{children_of, eventually, get, signal, Load, Server, TestApp, DEMO};

fn prefork(app: &TestApp, workers: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--workers", workers, "--engines", "1", "--python-workers", "1", "--graceful-timeout", "10"];
    args.extend_from_slice(extra);
    let server = Server::start(DEMO, app, &args);
    let want: usize = workers.parse().unwrap();
    assert!(eventually(Duration::from_secs(30), || children_of(server.pid()).len() == want), "workers did not start");
    assert!(eventually(Duration::from_secs(30), || get(&server.url("/_fymo/health")).status == 200));
    server
}

fn built_demo() -> TestApp {
    let app = TestApp::demo();
    app.build();
    app
}

#[test]
fn a_killed_worker_is_replaced_and_only_its_in_flight_requests_fail() {
    let app = built_demo();
    let server = prefork(&app, "2", &[]);
    let load = Load::start(&server.url("/products?n=20"), 4);
    std::thread::sleep(Duration::from_millis(800));
    let before = children_of(server.pid());
    signal(before[0], "KILL");
    assert!(
        eventually(Duration::from_secs(20), || {
            let now = children_of(server.pid());
            now.len() == 2 && !now.contains(&before[0])
        }),
        "the master did not replace the killed worker: {:?}",
        children_of(server.pid())
    );
    std::thread::sleep(Duration::from_millis(800));
    let report = load.finish();
    assert!(report.ok > 20, "{report:?}");
    assert!(report.failures.len() <= 4, "only requests in flight on the killed worker may fail: {report:?}");
}

#[test]
fn sighup_under_load_fails_nothing_and_serves_the_new_build() {
    let app = built_demo();
    let server = prefork(&app, "2", &[]);
    let old = children_of(server.pid());
    let load = Load::start(&server.url("/hello?name=load"), 4);
    std::thread::sleep(Duration::from_millis(500));
    // A new build on disk, then SIGHUP: new workers read it, old ones drain.
    app.write(
        "templates/hello.svelte",
        &std::fs::read_to_string(app.root().join("templates/hello.svelte"))
            .unwrap()
            .replace("<h1>Hello,", "<h1>Reloaded hello,"),
    );
    app.build();
    signal(server.pid(), "HUP");
    assert!(
        eventually(Duration::from_secs(30), || get(&server.url("/hello")).body.contains("Reloaded hello")),
        "the new build is not served"
    );
    assert!(eventually(Duration::from_secs(20), || {
        let now = children_of(server.pid());
        now.len() == 2 && now.iter().all(|p| !old.contains(p))
    }));
    std::thread::sleep(Duration::from_millis(500));
    let report = load.finish();
    assert!(report.ok > 20, "{report:?}");
    assert!(report.failures.is_empty(), "SIGHUP must not fail requests: {report:?}");
}

#[test]
fn sigterm_completes_accepted_requests_then_exits_zero() {
    let app = built_demo();
    let mut server = prefork(&app, "2", &[]);
    let url = server.url("/products?n=3000");
    let slow: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || get(&url))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    signal(server.pid(), "TERM");
    for request in slow {
        let reply = request.join().unwrap();
        assert_eq!(reply.status, 200, "an accepted request was dropped");
        assert_eq!(reply.body.matches("class=\"card ").count(), 3000);
    }
    assert_eq!(server.wait_exit(Duration::from_secs(15)), Some(0), "master exit code");
    assert!(ureq::get(&server.url("/")).call().is_err(), "nothing listens after the stop");
}

#[test]
fn sigttin_and_sigttou_change_the_worker_count() {
    let app = built_demo();
    let server = prefork(&app, "2", &[]);
    signal(server.pid(), "TTIN");
    assert!(
        eventually(Duration::from_secs(20), || children_of(server.pid()).len() == 3),
        "TTIN: {:?}",
        children_of(server.pid())
    );
    signal(server.pid(), "TTOU");
    std::thread::sleep(Duration::from_millis(300));
    signal(server.pid(), "TTOU");
    assert!(
        eventually(Duration::from_secs(20), || children_of(server.pid()).len() == 1),
        "TTOU: {:?}",
        children_of(server.pid())
    );
    assert_eq!(get(&server.url("/")).status, 200);
}

#[test]
fn workers_past_max_requests_are_replaced_without_failed_requests() {
    let app = built_demo();
    let server = prefork(&app, "2", &["--max-requests", "40", "--max-requests-jitter", "10"]);
    let first = children_of(server.pid());
    let load = Load::start(&server.url("/hello?name=recycle"), 3);
    let mut seen: BTreeSet<u32> = first.iter().copied().collect();
    assert!(
        eventually(Duration::from_secs(60), || {
            seen.extend(children_of(server.pid()));
            seen.len() >= 5
        }),
        "workers were not recycled: {seen:?}"
    );
    let report = load.finish();
    assert!(report.failures.is_empty(), "recycling must not fail requests: {report:?}");
    assert!(report.ok >= 100, "{report:?}");
}

#[test]
fn health_reports_the_workers_own_pool() {
    let app = built_demo();
    let server = prefork(&app, "2", &[]);
    let v: serde_json::Value = serde_json::from_str(&get(&server.url("/_fymo/health")).body).unwrap();
    assert!(v["worker"].as_u64().is_some(), "{v}");
    assert!(children_of(server.pid()).contains(&(v["pid"].as_u64().unwrap() as u32)), "answered by a worker: {v}");
    assert_eq!(v["engines"]["size"], 1);
}

#[test]
fn a_worker_that_cannot_boot_stops_the_master() {
    let app = built_demo();
    // The master only checks routes.yml; a broken app.html fails in the workers.
    app.write("templates/app.html", "<html>no placeholders</html>");
    let mut server = Server::start(DEMO, &app, &["--workers", "2", "--engines", "1"]);
    let code = server.wait_exit(Duration::from_secs(30));
    assert_eq!(code, Some(1), "the master halts instead of respawning forever");
}

#[test]
fn a_worker_that_stops_heartbeating_is_killed_and_replaced() {
    let app = built_demo();
    let server = prefork(&app, "2", &["--timeout", "2"]);
    let before = children_of(server.pid());
    signal(before[1], "STOP"); // frozen: no heartbeat, no requests
    assert!(
        eventually(Duration::from_secs(20), || {
            let now = children_of(server.pid());
            now.len() == 2 && !now.contains(&before[1])
        }),
        "the frozen worker was not replaced: {:?}",
        children_of(server.pid())
    );
    assert_eq!(get(&server.url("/")).status, 200);
}

#[test]
fn a_reload_that_cannot_boot_keeps_the_running_workers() {
    let app = built_demo();
    let server = prefork(&app, "2", &[]);
    let old = children_of(server.pid());
    app.write("templates/app.html", "<html>no placeholders</html>");
    let load = Load::start(&server.url("/hello?name=steady"), 2);
    signal(server.pid(), "HUP");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(children_of(server.pid()), old, "the old workers keep serving");
    let report = load.finish();
    assert!(report.failures.is_empty() && report.ok > 10, "{report:?}");
    let log = server.drain_log().join("\n");
    assert!(log.contains("reload failed"), "{log}");
    // A later, fixed reload goes through.
    std::fs::remove_file(app.root().join("templates/app.html")).unwrap();
    signal(server.pid(), "HUP");
    assert!(eventually(Duration::from_secs(20), || {
        let now = children_of(server.pid());
        now.len() == 2 && now.iter().all(|p| !old.contains(p))
    }));
}
