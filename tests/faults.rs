//! Bad input: runaway renders, throwing components, broken templates, broken routes.yml.
//! Each fails alone, with a clear message, and the server keeps serving.

mod common;

use common::{get, Server, TestApp, FYMO};

fn faults_server(args: &[&str]) -> (TestApp, Server) {
    let app = TestApp::fixture("faults");
    app.build();
    let server = Server::start(FYMO, &app, args);
    (app, server)
}

#[test]
fn infinite_loop_answers_500_within_the_deadline_and_serving_continues() {
    let (_app, server) = faults_server(&["--engines", "1", "--render-timeout-ms", "1500"]);
    for _ in 0..2 {
        // Answered at all: the deadline interrupted the loop (the request would hang otherwise).
        let r = get(&server.url("/loop"));
        assert_eq!(r.status, 500);
        // The single engine instance was interrupted and replaced: the next page renders.
        let ok = get(&server.url("/ok"));
        assert_eq!(ok.status, 200);
        assert!(ok.body.contains("still serving"));
    }
    let health = common::health_details(&server);
    assert!(health["engines"]["recycled"].as_u64().unwrap() >= 2, "{health}");
    server.wait_for_log("render of `loop` was interrupted");
}

#[test]
fn throwing_component_is_a_500_and_the_log_has_the_error() {
    let (_app, server) = faults_server(&["--engines", "1"]);
    let r = get(&server.url("/throws"));
    assert_eq!(r.status, 500);
    let id = r.header("x-request-id").unwrap().to_owned();
    assert!(r.body.contains(&id));
    assert!(!r.body.contains("TypeError"), "no details in production");
    assert_eq!(get(&server.url("/ok")).status, 200);
    let log = server.wait_for_log("render of `throws` threw: TypeError");
    assert!(log.lines().last().unwrap().contains(&id), "request id in the log: {log}");
}

#[test]
fn dev_errors_show_the_details() {
    let (_app, server) = faults_server(&["--engines", "1", "--dev-errors"]);
    let r = get(&server.url("/throws"));
    assert_eq!(r.status, 500);
    assert!(r.body.contains("render error"), "{}", r.body);
    assert!(r.body.contains("TypeError"), "{}", r.body);
}

#[test]
fn template_syntax_error_fails_the_build_with_file_line_column() {
    let app = TestApp::fixture("faults");
    app.write("templates/broken.svelte", "<script>\n\tlet x = 1;\n</script>\n\n<p>{x</p>\n");
    let (code, _out, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("templates/broken.svelte:5:"), "file:line:column in: {err}");
    assert!(err.contains("5: <p>{x</p>") || err.contains("<p>{x</p>"), "code frame in: {err}");
}

#[test]
fn malformed_routes_yml_is_refused_with_file_and_line() {
    let app = TestApp::fixture("faults");
    app.build();
    app.write("routes.yml", "routes:\n  /ok: ok\n  /x:\n    controler: ok\n");
    let (code, _out, err) = app.run(FYMO, &["serve", "--port", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("routes.yml:3:"), "{err}");
    assert!(err.contains("controler"), "{err}");

    app.write("routes.yml", "routes:\n  /ok: ok\n  /ok: loop\n");
    let (code, _, err) = app.run(FYMO, &["routes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("routes.yml:"), "{err}");
    assert!(err.contains("duplicate"), "{err}");

    app.write("routes.yml", "routes:\n  /ok: ok\n  /gone: no.such.page\n");
    let (code, _, err) = app.run(FYMO, &["routes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("routes.yml:3: `no.such.page` has neither a controller nor a template"), "{err}");
}

#[test]
fn a_render_past_the_memory_limit_answers_500_and_serving_continues() {
    // The deadline is far away: the memory limit must be what stops this render.
    let (_app, server) = faults_server(&["--engines", "1", "--engine-memory-mb", "64", "--render-timeout-ms", "20000"]);
    let r = get(&server.url("/hog"));
    assert_eq!(r.status, 500);
    let ok = get(&server.url("/ok"));
    assert_eq!(ok.status, 200, "the instance was replaced");
    server.wait_for_log("render of `hog` ran out of memory (limit 67108864 bytes)");
}

#[test]
fn unbounded_recursion_answers_500_and_the_process_keeps_serving() {
    let (_app, server) = faults_server(&["--engines", "1", "--render-timeout-ms", "20000"]);
    for page in ["/recurse", "/deep"] {
        let r = get(&server.url(page));
        assert_eq!(r.status, 500, "{page}");
        let ok = get(&server.url("/ok"));
        assert_eq!(ok.status, 200, "still serving after {page}");
    }
    server.wait_for_log("render of `recurse` threw");
    server.wait_for_log("render of `deep` threw");
}

#[test]
fn a_template_that_overwrites_built_ins_does_not_poison_later_renders() {
    let (_app, server) = faults_server(&["--engines", "1"]);
    let before = get(&server.url("/items"));
    assert_eq!(before.status, 200);
    assert_eq!(get(&server.url("/poison")).status, 200, "the poisoning render itself completes");
    server.wait_for_log("changed built-ins");
    for _ in 0..3 {
        let after = get(&server.url("/items"));
        assert_eq!(after.status, 200);
        assert!(after.body.contains("<li>A</li><li>B</li>"), "{}", after.body);
        assert!(after.body.contains(r#"<p>{"keys":["x","y"]}</p>"#), "{}", after.body);
        // The rendered markup: inside the hydration target, after its start tag (whose
        // page object carries a per-visitor CSRF token).
        let rendered = |body: &str| {
            let start = body.find("<div id=\"__fymo\"").unwrap();
            let inner = start + body[start..].find("'>").unwrap() + 2;
            body[inner..inner + body[inner..].find("</div>").unwrap()].to_owned()
        };
        assert_eq!(rendered(&after.body), rendered(&before.body), "renders as before the poisoning");
    }
}

#[test]
fn a_never_settling_microtask_chain_is_a_timeout() {
    let (_app, server) = faults_server(&["--engines", "1", "--render-timeout-ms", "1500"]);
    let r = get(&server.url("/spin"));
    assert_eq!(r.status, 500);
    server.wait_for_log("render of `spin` was interrupted");
    let ok = get(&server.url("/ok"));
    assert_eq!(ok.status, 200);
    let health = common::health_details(&server);
    assert!(health["engines"]["recycled"].as_u64().unwrap() >= 1, "instance replaced: {health}");
}

#[test]
fn module_state_is_shared_per_instance_unless_the_route_isolates() {
    let (_app, server) = faults_server(&["--engines", "1"]);
    let count = |path: &str| {
        let body = get(&server.url(path)).body;
        let start = body.find("<p id=\"renders\">").expect("the counter") + "<p id=\"renders\">".len();
        body[start..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(count("/shared"), "1");
    assert_eq!(count("/shared"), "2", "like Node: module state lives as long as the instance");
    for _ in 0..3 {
        assert_eq!(count("/isolated"), "1", "a fresh realm every time");
    }
    assert_eq!(count("/shared"), "3", "isolated renders leave the shared instance alone");
}

#[test]
fn build_reports_every_broken_template_in_one_run() {
    let app = TestApp::fixture("faults");
    app.write("templates/broken_a.svelte", "<p>{a</p>\n");
    app.write("templates/broken_b.svelte", "<script>\n\tlet = ;\n</script>\n");
    let (code, _out, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("templates/broken_a.svelte:1:"), "the first: {err}");
    assert!(err.contains("templates/broken_b.svelte:2:"), "and the second, in the same run: {err}");
}
