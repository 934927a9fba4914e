//! The command line: `fymo new` makes an app that builds, serves and passes `fymo doctor`.

mod common;

use std::process::Command;

use common::{get, Server, TestApp, FYMO};

#[test]
fn new_app_builds_serves_and_passes_doctor() {
    // An empty directory is fine for `fymo new`.
    let app = TestApp { dir: tempfile::tempdir().unwrap() };
    let out = Command::new(FYMO).arg("new").arg(app.root()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = app.root().to_str().unwrap();

    let doctor = Command::new(FYMO).args(["--root", root, "doctor"]).output().unwrap();
    assert_eq!(doctor.status.code(), Some(1), "no build yet");
    assert!(String::from_utf8_lossy(&doctor.stdout).contains("FAIL  build output"));

    let build = Command::new(FYMO).args(["--root", root, "build"]).output().unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let doctor = Command::new(FYMO).args(["--root", root, "doctor"]).output().unwrap();
    assert!(doctor.status.success(), "{}", String::from_utf8_lossy(&doctor.stdout));

    assert!(app.root().join("svelte.config.js").is_file(), "fymo new writes svelte.config.js");
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(app.root().join("package.json")).unwrap()).unwrap();
    assert_eq!(package["type"], "module", "svelte.config.js is an ES module");
    let node_tools: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::repo().join("node-tools/package.json")).unwrap())
            .unwrap();
    assert_eq!(package["dependencies"]["svelte"], node_tools["dependencies"]["svelte"], "pinned to Fymo's Svelte");
    let routes = Command::new(FYMO).args(["--root", root, "routes"]).output().unwrap();
    let table = String::from_utf8_lossy(&routes.stdout);
    assert!(table.contains("/counter") && table.contains("python"), "{table}");

    let server = Server::start(FYMO, &app, &["--engines", "1", "--python-workers", "1"]);
    let home = get(&server.url("/"));
    assert_eq!(home.status, 200);
    assert!(home.body.contains("<h1>Hello from Fymo</h1>"), "{}", home.body);
    assert!(home.body.contains("1 visit(s)"), "{}", home.body);
    assert_eq!(get(&server.url("/counter")).status, 200);

    let again = Command::new(FYMO).arg("new").arg(app.root()).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "refuses a non-empty directory");
}

/// `fymo new --inertia`: the same app driven by Inertia's adapter (pinned to the version
/// tests/inertia runs; its packages are linked from there rather than installed again).
#[test]
fn new_inertia_app_builds_and_renders_through_inertias_app() {
    let app = TestApp { dir: tempfile::tempdir().unwrap() };
    let out = Command::new(FYMO).args(["new", "--inertia"]).arg(app.root()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("npm install && fymo dev"));
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(app.root().join("package.json")).unwrap()).unwrap();
    let tested = common::repo().join("tests/inertia/app");
    let pins: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tested.join("package.json")).unwrap()).unwrap();
    assert_eq!(package["dependencies"]["@inertiajs/svelte"], pins["dependencies"]["@inertiajs/svelte"]);
    assert!(app.root().join("client.js").is_file() && app.root().join("ssr.js").is_file());
    std::os::unix::fs::symlink(tested.join("node_modules"), app.root().join("node_modules")).unwrap();

    let root = app.root().to_str().unwrap();
    let build = Command::new(FYMO).args(["--root", root, "build"]).output().unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let server = Server::start(FYMO, &app, &["--engines", "1", "--python-workers", "1"]);
    let home = get(&server.url("/"));
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains(r#"<script data-page="app" type="application/json">{"component":"Home""#),
        "{}",
        home.body
    );
    assert!(
        home.body.contains("<h1>Hello from Fymo</h1>") && home.body.contains("<nav>"),
        "in its Layout: {}",
        home.body
    );
    let counter = get(&server.url("/counter"));
    assert!(counter.body.contains("0 (doubled: 0)") && counter.body.contains("<nav>"), "{}", counter.body);
}

/// An installed binary needs no checkout: a copy of `fymo` elsewhere, in an empty
/// folder, with its own cache, unpacks its embedded node-tools, builds and serves.
#[test]
fn installed_binary_builds_a_new_app_from_an_empty_folder() {
    let place = tempfile::tempdir().unwrap();
    let bin = place.path().join("bin/fymo");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(FYMO, &bin).unwrap();
    let cache = place.path().join("cache");
    let work = place.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let fymo = |dir: &std::path::Path, args: &[&str]| {
        let out = Command::new(&bin)
            .args(args)
            .current_dir(dir)
            .env("FYMO_CACHE_DIR", &cache)
            .env_remove("FYMO_NODE_TOOLS")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "fymo {args:?} failed:\n{text}");
        text
    };
    fymo(&work, &["new", "blog"]);
    let blog = work.join("blog");
    let built = fymo(&blog, &["build"]);
    assert!(built.contains("installing node-tools packages"), "{built}");
    let unpacked: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(unpacked.len(), 1, "one folder per version: {unpacked:?}");
    assert!(unpacked[0].join("node-tools/build.mjs").is_file() && unpacked[0].join("js/ssr-host.js").is_file());
    assert!(blog.join(".fymo/build/manifest.json").is_file());
    let again = fymo(&blog, &["build"]);
    assert!(!again.contains("installing node-tools packages"), "unpacked once: {again}");
    let doctor = fymo(&blog, &["doctor"]);
    assert!(doctor.contains(&unpacked[0].join("node-tools").display().to_string()), "{doctor}");

    let app = TestApp { dir: tempfile::tempdir().unwrap() };
    std::fs::remove_dir(app.root()).unwrap();
    std::fs::rename(&blog, app.root()).unwrap();
    let server = Server::start(bin.to_str().unwrap(), &app, &["--engines", "1", "--python-workers", "1"]);
    assert!(get(&server.url("/")).body.contains("<h1>Hello from Fymo</h1>"));
}

/// `npm init -y` writes a package.json that makes `.js` CommonJS; the scaffold's ES module
/// svelte.config.js is still read (as Vite reads its config), its options applied.
#[test]
fn an_esm_svelte_config_loads_beside_a_commonjs_package_json() {
    let app = TestApp::fixture("empty");
    app.write("package.json", "{\n  \"name\": \"notes\",\n  \"version\": \"1.0.0\",\n  \"main\": \"index.js\",\n  \"type\": \"commonjs\"\n}\n");
    app.write("svelte.config.js", "export default { compilerOptions: { cssHash: () => 'fixed-hash' } };\n");
    app.write("templates/a.svelte", "<p>styled</p>\n\n<style>\n\tp {\n\t\tcolor: red;\n\t}\n</style>\n");
    app.write("routes.yml", "routes:\n  /a: a\n");
    app.build();
    let server = Server::start(FYMO, &app, &["--engines", "1"]);
    assert!(get(&server.url("/a")).body.contains("<p class=\"fixed-hash\">styled</p>"));
    assert!(
        !app.root().read_dir().unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("timestamp")),
        "no copy left behind"
    );
}

/// Svelte's warnings (a11y included) name the user's file, line and column, once per
/// build of the file; svelte.config.js's `onwarn` decides, as in vite-plugin-svelte.
#[test]
fn compiler_warnings_name_the_file_and_line_and_onwarn_filters_them() {
    let app = TestApp::fixture("empty");
    app.write(
        "templates/w.svelte",
        "<h1>Warnings</h1>\n<img src=\"/logo.png\" />\n<div onclick={() => {}}>click</div>\n",
    );
    app.write("routes.yml", "routes:\n  /w: w\n");
    let (code, _, log) = app.run(FYMO, &["build"]);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("templates/w.svelte:2:1: `<img>` element should have an alt attribute [a11y_missing_attribute]"),
        "{log}"
    );
    assert_eq!(log.matches("[a11y_missing_attribute]").count(), 1, "once, not per bundle: {log}");
    assert!(log.contains("templates/w.svelte:3:1:") && log.contains("[a11y_click_events_have_key_events]"), "{log}");
    assert!(!log.contains("LayoutRoot.svelte"), "Fymo's own files are not the user's to fix: {log}");

    app.write(
        "svelte.config.js",
        "export default {\n\tonwarn(warning, handler) {\n\t\tif (warning.code === 'a11y_missing_attribute') return;\n\t\thandler(warning);\n\t}\n};\n",
    );
    let (code, _, log) = app.run(FYMO, &["build"]);
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("a11y_missing_attribute") && log.contains("a11y_click_events_have_key_events"), "{log}");
}

/// What `fymo serve` refuses, `fymo build` refuses first (a CI build step fails there);
/// a node-tools/ copied without Fymo's js/ beside it is named, with what to do.
#[test]
fn build_refuses_a_bad_routes_file_and_a_node_tools_without_its_js() {
    let app = TestApp::fixture("empty");
    app.write("templates/a.svelte", "<p>a</p>\n");
    app.write("routes.yml", "routes:\n  /a:\n    controler: a\n");
    let (code, _, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("routes.yml:") && err.contains("controler"), "{err}");
    assert!(!app.root().join(".fymo/build/manifest.json").exists());

    app.write("routes.yml", "routes:\n  /a: a\n");
    app.write("node-tools/build.mjs", "// a copy without ../js\n");
    let (code, _, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("has no js/ folder beside it") && err.contains("remove node-tools/"), "{err}");
}
