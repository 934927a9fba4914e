//! `fymo dev` on a copy of the demo app: edits to templates, CSS, Python controllers and
//! routes.yml are served after the rebuild event; a broken template or routes.yml gives
//! the overlay and an error event, and fixing it brings the page back.

mod common;

use common::{get, EventStream, Server, TestApp, DEMO};

fn dev_server() -> (TestApp, Server) {
    let app = TestApp::demo();
    let server = Server::start_command(DEMO, &app, "dev", &["--engines", "1", "--python-workers", "1"]);
    (app, server)
}

fn edit(app: &TestApp, rel: &str, from: &str, to: &str) {
    let path = app.root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{rel} does not contain {from:?}");
    // Written whole, then renamed over the file, as editors save: a plain write is a
    // truncate and a write, which a busy machine can deliver as two bursts (and a build
    // of the empty file in between).
    let tmp = path.with_extension("fymo-edit.tmp");
    std::fs::write(&tmp, text.replacen(from, to, 1)).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

#[test]
fn pages_carry_the_dev_client_and_edits_are_served_after_the_rebuild() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    let page = get(&server.url("/counter"));
    assert!(page.body.contains("<script type=\"module\" src=\"/_fymo/dev/client.js\" nonce=\""), "{}", page.body);
    assert_eq!(get(&server.url("/_fymo/dev/client.js")).status, 200);

    // A template.
    edit(&app, "templates/counter.svelte", "<h1>Counter</h1>", "<h1>Counter, edited</h1>");
    events.wait("reload");
    assert!(get(&server.url("/counter")).body.contains("<h1>Counter, edited</h1>"));

    // A CSS block only: a css event naming the new stylesheet, served with the new rule.
    edit(&app, "templates/products/show.svelte", "font-size: 1.5rem;", "font-size: 2.25rem;");
    let css = events.wait("css");
    let files: Vec<&str> = css["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    let file = files
        .iter()
        .find(|f| {
            let sheet = get(&server.url(&format!("/_fymo/{f}"))).body;
            sheet.contains("font-size:2.25rem") || sheet.contains("font-size: 2.25rem")
        })
        .unwrap_or_else(|| panic!("no stylesheet of {files:?} has the new rule"));
    assert!(get(&server.url("/products/1")).body.contains(file), "the page links the new sheet");

    // A Python controller.
    edit(&app, "controllers/greetings/show.py", "\"name\": name,", "\"name\": name + \" (edited)\",");
    events.wait("reload");
    assert!(get(&server.url("/greet/Ada")).body.contains("Hello, Ada (edited)."));

    // routes.yml: a new route.
    edit(&app, "routes.yml", "  /hello: hello\n", "  /hello: hello\n  /hi: hello\n");
    events.wait("reload");
    let hi = get(&server.url("/hi?name=Bo"));
    assert_eq!(hi.status, 200);
    assert!(hi.body.contains("Bo"));
}

#[test]
fn a_broken_template_shows_its_overlay_while_the_other_pages_keep_serving() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    edit(&app, "templates/home.svelte", "<h1>{title}</h1>", "<h1>{title</h1>");
    let error = events.wait("error");
    assert_eq!(error["kind"], "compile");
    assert_eq!(error["file"], "templates/home.svelte");
    assert!(error["line"].as_u64().unwrap() > 0 && error["column"].as_u64().unwrap() > 0, "{error}");
    assert!(error["frame"].as_str().unwrap().contains("<h1>{title</h1>"), "{error}");
    events.wait("reload");

    let page = get(&server.url("/"));
    assert_eq!(page.status, 500);
    assert!(page.body.contains("id=\"fymo-error\" data-kind=\"compile\""), "{}", page.body);
    assert!(page.body.contains("templates/home.svelte:"), "{}", page.body);
    assert!(page.body.contains("&lt;h1&gt;{title&lt;/h1&gt;"), "the code frame: {}", page.body);
    assert!(page.body.contains("/_fymo/dev/client.js"), "the overlay reloads itself once fixed");
    let other = get(&server.url("/counter"));
    assert_eq!(other.status, 200, "a page that compiles is served: {}", other.body);
    assert!(other.body.contains("<button"), "{}", other.body);
    edit(&app, "templates/home.svelte", "<h1>{title</h1>", "<h1>{title}</h1>");
    events.wait("reload");
    let page = get(&server.url("/"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Fymo demo</h1>"));
}

#[test]
fn an_import_of_a_missing_file_or_package_is_a_compile_error_at_its_line() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    for (import, missing) in [("./Nope.svelte", "./Nope.svelte"), ("no-such-package", "no-such-package")] {
        edit(&app, "templates/hello.svelte", "<script>\n", &format!("<script>\n\timport Nope from '{import}';\n"));
        let error = events.wait("error");
        assert_eq!(error["kind"], "compile", "{error}");
        assert_eq!(error["file"], "templates/hello.svelte", "{error}");
        assert_eq!(error["line"], 2, "{error}");
        assert!(error["message"].as_str().unwrap().contains(missing), "{error}");
        edit(&app, "templates/hello.svelte", &format!("\timport Nope from '{import}';\n"), "");
        events.wait("reload");
        assert_eq!(get(&server.url("/hello?name=x")).status, 200);
    }
}

#[test]
fn a_broken_routes_file_shows_the_overlay_with_its_line_until_fixed() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    edit(&app, "routes.yml", "  /hello: hello\n", "  /hello: hello\n  /oops:\n    contoller: hello\n");
    let error = events.wait("error");
    assert_eq!(error["kind"], "routes");
    assert_eq!(error["file"], "routes.yml");
    assert!(error["message"].as_str().unwrap().contains("contoller"), "{error}");
    let page = get(&server.url("/"));
    assert!(page.body.contains("data-kind=\"routes\""), "{}", page.body);
    assert!(page.body.contains("routes.yml:"), "{}", page.body);

    edit(&app, "routes.yml", "    contoller: hello\n", "    controller: hello\n");
    events.wait("reload");
    assert_eq!(get(&server.url("/oops")).status, 200);
}

#[test]
fn controller_errors_show_the_overlay_with_the_traceback() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    edit(
        &app,
        "controllers/greetings/show.py",
        "    name = request[\"params\"][\"name\"]\n",
        "    name = request[\"params\"][\"name\"]\n    raise RuntimeError(\"boom in dev\")\n",
    );
    events.wait("reload");
    let page = get(&server.url("/greet/x"));
    assert_eq!(page.status, 500);
    assert!(page.body.contains("data-kind=\"controller\""), "{}", page.body);
    assert!(page.body.contains("RuntimeError: boom in dev"), "{}", page.body);
    assert!(page.body.contains("Traceback (most recent call last)"), "{}", page.body);
    assert!(page.body.contains("greetings/show.py"), "{}", page.body);
}

#[test]
fn rebuilds_under_load_drop_no_request() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    let load = common::Load::start(&server.url("/products?n=50"), 3);
    for n in 1..=3 {
        edit(&app, "templates/products/index.svelte", "<h1>Products", &format!("<h1>Products {n}"));
        events.wait("reload");
    }
    assert!(get(&server.url("/products")).body.contains("Products 3 2 1</h1>"));
    let report = load.finish();
    assert!(report.ok > 10, "{report:?}");
    assert!(report.failures.is_empty(), "a rebuild dropped requests: {report:?}");
}

#[test]
fn a_dead_node_tools_process_is_started_again() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    let node = common::children_of(server.pid())
        .into_iter()
        .find(|pid| std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default().contains("build.mjs"))
        .expect("the long-lived node-tools process");
    common::signal(node, "KILL");
    assert!(common::eventually(std::time::Duration::from_secs(20), || common::exited(node)), "node-tools died");
    edit(&app, "templates/counter.svelte", "<h1>Counter</h1>", "<h1>Counter, after node died</h1>");
    events.wait("reload");
    assert!(get(&server.url("/counter")).body.contains("<h1>Counter, after node died</h1>"));
}

#[test]
fn a_compiler_warning_of_an_edit_names_the_file_and_line_in_the_dev_log() {
    let (app, server) = dev_server();
    let events = EventStream::connect(&server);
    edit(&app, "templates/counter.svelte", "<h1>Counter</h1>", "<h1>Counter</h1>\n<img src=\"/logo.png\" />");
    events.wait("reload");
    let log = server.wait_for_log("[a11y_missing_attribute]");
    assert!(log.contains("templates/counter.svelte:"), "{log}");
}
