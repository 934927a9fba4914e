//! `fymo serve --workers N`: the prefork master under faults and signals, with a steady
//! bounded load on 127.0.0.1.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{
    children_of, eventually, exited, get, signal, signal_pending, state_of, try_get, Load, RawRequest, Server, TestApp,
    DEMO,
};

fn prefork(app: &TestApp, workers: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--workers", workers, "--engines", "1", "--python-workers", "1", "--graceful-timeout", "30"];
    args.extend_from_slice(extra);
    let server = Server::start(DEMO, app, &args);
    let want: usize = workers.parse().unwrap();
    assert!(eventually(Duration::from_secs(30), || children_of(server.pid()).len() == want), "workers did not start");
    assert!(
        eventually(Duration::from_secs(30), || try_get(&server.url("/_fymo/health")).is_some_and(|r| r.status == 200))
    );
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
    load.wait_served(10);
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
    load.wait_served(10);
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
    load.wait_served(10);
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
        eventually(Duration::from_secs(30), || try_get(&server.url("/hello"))
            .is_some_and(|r| r.body.contains("Reloaded hello"))),
        "the new build is not served"
    );
    assert!(eventually(Duration::from_secs(20), || {
        let now = children_of(server.pid());
        now.len() == 2 && now.iter().all(|p| !old.contains(p))
    }));
    load.wait_served(10);
    let report = load.finish();
    assert!(report.ok > 20, "{report:?}");
    assert!(report.failures.is_empty(), "SIGHUP must not fail requests: {report:?}");
}

#[test]
fn sigterm_answers_every_connection_that_reached_the_backlog_then_exits_zero() {
    let app = built_demo();
    // What is tested is that every connection is answered; a render deadline missed on a
    // loaded machine would answer 500 instead of 200 and say nothing about that.
    let mut server = prefork(&app, "2", &["--render-timeout-ms", "60000"]);
    let slow = "/products?n=3000"; // slow enough that the workers are busy when TERM lands
    let connect = |path: &str| RawRequest::connect(&server.base, path);
    // connect() returns once the handshake is done: each connection is then in the
    // kernel's accept queue or accepted. The running workers take these at once.
    let mut in_flight: Vec<_> = (0..4).map(|_| connect(slow)).collect();
    in_flight.iter_mut().for_each(RawRequest::send);
    // Workers frozen: these stay in the accept queue, unaccepted, until after the TERM.
    let workers = children_of(server.pid());
    workers.iter().for_each(|&pid| signal(pid, "STOP"));
    assert!(eventually(Duration::from_secs(30), || workers.iter().all(|&pid| state_of(pid) == Some('T'))));
    let mut queued: Vec<_> = (0..40).map(|_| connect("/hello?name=queued")).collect();
    queued.iter_mut().for_each(RawRequest::send);
    // Queued too, but the request is written only after the TERM: the workers wait for it
    // (up to server::drain's FIRST_REQUEST_WAIT, 5 s) before they drain.
    let mut late: Vec<_> = (0..2).map(|_| connect(slow)).collect();
    signal(server.pid(), "TERM");
    // The master has closed its copy of the socket and passed the TERM on: the workers
    // find it pending, with the queue full, when they resume.
    assert!(eventually(Duration::from_secs(30), || workers.iter().all(|&pid| signal_pending(pid, 15))));
    workers.iter().for_each(|&pid| signal(pid, "CONT"));
    late.iter_mut().for_each(RawRequest::send);
    let answer = |what: &str, i: usize, request: RawRequest| {
        let reply = request.response().unwrap_or_else(|e| panic!("{what} connection {i} got no answer: {e}"));
        assert_eq!(reply.status, 200, "{what} connection {i}: {}", &reply.body[..reply.body.len().min(500)]);
        reply.body
    };
    for (i, request) in in_flight.into_iter().chain(late).enumerate() {
        assert_eq!(answer("slow", i, request).matches("class=\"card ").count(), 3000, "a whole body");
    }
    for (i, request) in queued.into_iter().enumerate() {
        assert!(answer("queued", i, request).contains("Hello, <span id=\"name\">queued</span>!"));
    }
    assert_eq!(server.wait_exit(Duration::from_secs(45)), Some(0), "master exit code");
    let addr = server.base.trim_start_matches("http://");
    assert!(std::net::TcpStream::connect(addr).is_err(), "nothing listens after the stop");
}

#[test]
fn killing_the_master_stops_its_workers_and_frees_the_port() {
    let app = built_demo();
    let mut server = prefork(&app, "2", &[]);
    let workers = children_of(server.pid());
    let addr = server.base.trim_start_matches("http://").to_owned();
    signal(server.pid(), "KILL");
    assert!(server.wait_exit(Duration::from_secs(10)).is_some(), "the master survived SIGKILL");
    let killed = std::time::Instant::now();
    assert!(
        eventually(Duration::from_secs(20), || workers.iter().all(|&pid| exited(pid))),
        "workers outlived the master: {:?}",
        workers.iter().filter(|&&pid| !exited(pid)).collect::<Vec<_>>()
    );
    eprintln!("workers gone {:?} after the master", killed.elapsed());
    // Nothing holds the port any more: a new master binds it at once.
    let restarted = prefork(&app, "2", &["--bind", &addr]);
    assert_eq!(restarted.base, server.base);
    assert_eq!(get(&restarted.url("/")).status, 200);
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
    // One signal at a time: two of the same kind sent together may arrive as one.
    assert!(eventually(Duration::from_secs(20), || children_of(server.pid()).len() == 2), "first TTOU");
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
    let v = common::health_details(&server);
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
    let server = prefork(&app, "2", &["--timeout", "5"]);
    // Only a worker that has booted (sent a heartbeat) is held to the timeout.
    server.wait_for_log("worker ready");
    server.wait_for_log("worker ready");
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
    server.wait_for_log("worker ready");
    server.wait_for_log("worker ready");
    let old = children_of(server.pid());
    app.write("templates/app.html", "<html>no placeholders</html>");
    let load = Load::start(&server.url("/hello?name=steady"), 2);
    signal(server.pid(), "HUP");
    server.wait_for_log("reload failed");
    load.wait_served(10);
    assert!(
        eventually(Duration::from_secs(20), || children_of(server.pid()) == old),
        "the old workers {old:?} keep serving, not {:?}; the master's log:\n{}",
        children_of(server.pid()),
        server.drain_log().join("\n")
    );
    let report = load.finish();
    assert!(report.failures.is_empty() && report.ok > 10, "{report:?}");
    // A later, fixed reload goes through.
    std::fs::remove_file(app.root().join("templates/app.html")).unwrap();
    signal(server.pid(), "HUP");
    assert!(eventually(Duration::from_secs(20), || {
        let now = children_of(server.pid());
        now.len() == 2 && now.iter().all(|p| !old.contains(p))
    }));
}

/// The executable a process runs, as /proc tells (`… (deleted)` once renamed over).
fn exe_of(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe")).map(|p| p.display().to_string()).unwrap_or_default()
}

/// The demo binary copied into a folder of its own, where a deploy can rename another
/// over it, and a prefork server of `workers` started from there.
fn deployable(app: &TestApp, workers: usize) -> (tempfile::TempDir, std::path::PathBuf, Server) {
    let place = tempfile::tempdir().unwrap();
    let bin = place.path().join("fymo-demo");
    std::fs::copy(DEMO, &bin).unwrap();
    let count = workers.to_string();
    let args = ["--workers", count.as_str(), "--engines", "1", "--python-workers", "1", "--graceful-timeout", "30"];
    let server = Server::start(bin.to_str().unwrap(), app, &args);
    assert!(eventually(Duration::from_secs(30), || children_of(server.pid()).len() == workers));
    (place, bin, server)
}

/// A deploy as `cargo install` or a package upgrade does it: a new file renamed over.
fn deploy(bin: &std::path::Path) {
    let staged = bin.with_extension("new");
    std::fs::copy(DEMO, &staged).unwrap();
    std::fs::rename(&staged, bin).unwrap();
}

#[test]
fn after_an_in_place_upgrade_workers_start_from_the_new_binary_and_sighup_rolls_it_in() {
    let app = built_demo();
    let (_place, bin, server) = deployable(&app, 2);
    deploy(&bin);
    assert!(exe_of(server.pid()).ends_with("(deleted)"), "the master runs the old file");
    // A worker that dies is replaced, from the path: the new file.
    let victim = children_of(server.pid())[0];
    signal(victim, "KILL");
    assert!(
        eventually(Duration::from_secs(30), || {
            let now = children_of(server.pid());
            now.len() == 2 && !now.contains(&victim)
        }),
        "the dead worker was replaced"
    );
    let fresh: Vec<u32> =
        children_of(server.pid()).into_iter().filter(|pid| !exe_of(*pid).ends_with("(deleted)")).collect();
    assert_eq!(fresh.len(), 1, "the replacement runs {}", bin.display());
    // SIGHUP rolls every worker onto it, answering throughout.
    let load = Load::start(&server.url("/products?n=20"), 2);
    load.wait_served(10);
    signal(server.pid(), "HUP");
    assert!(eventually(Duration::from_secs(60), || {
        let now = children_of(server.pid());
        now.len() == 2 && now.iter().all(|pid| exe_of(*pid) == bin.display().to_string())
    }));
    load.wait_served(10);
    let report = load.finish();
    assert!(report.failures.is_empty(), "no request failed while rolling the new binary in: {report:?}");
}

#[test]
fn a_worker_that_cannot_be_spawned_is_retried_with_a_growing_wait_not_a_tight_loop() {
    let app = built_demo();
    let (_place, bin, server) = deployable(&app, 2);
    std::fs::remove_file(&bin).unwrap(); // a botched deploy: no file at all
    signal(children_of(server.pid())[0], "KILL");
    let retry_of = |log: &str| -> u64 {
        let line = log.lines().rev().find(|l| l.contains("cannot spawn a worker")).expect("the line");
        line.split("retry_in_ms=").nth(1).and_then(|v| v.split_whitespace().next()).unwrap().parse().unwrap()
    };
    let waits: Vec<u64> = (0..3).map(|_| retry_of(&server.wait_for_log("cannot spawn a worker"))).collect();
    assert_eq!(waits, [250, 500, 1000], "each failure doubles the wait and is said once");
    // The file comes back: so does the worker.
    deploy(&bin);
    assert!(eventually(Duration::from_secs(60), || children_of(server.pid()).len() == 2), "the worker came back");
}
