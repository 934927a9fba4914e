//! Svelte 5 libraries from npm in a Fymo app: tests/ecosystem/app depends on pinned
//! versions (its package.json and lockfile; scripts/test installs them from the registry)
//! and its own `svelte`, one page per library. Each page builds, renders on every engine
//! compiled in byte for byte as Node's `svelte/server` renders the same components
//! (tests/ssr/reference.mjs, compiling by the same rules), and hydrates in Chromium with
//! no console error and one interaction that works (tests/browser/ecosystem.mjs).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::ssr::reference;
use common::{repo, Server, FYMO};
use fymo::testing::{Engine, EngineBackend, EnginePool, Manifest, PoolConfig, RenderJob};

/// The pages, one per library (and context across components; TypeScript and SCSS through
/// svelte.config.js's `vitePreprocess()`; Tailwind CSS v4 through PostCSS).
const PAGES: &[&str] = &["bits", "context", "i18n", "icons", "intl", "mode", "runed", "styles", "table", "toast", "tw"];

/// The app, built in place once (its node_modules is where a user's would be).
fn app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| {
        let root = repo().join("tests/ecosystem/app");
        assert!(
            root.join("node_modules/bits-ui").is_dir(),
            "the ecosystem app's packages are missing: run `npm ci` in tests/ecosystem/app (scripts/test does)"
        );
        let out = std::process::Command::new(FYMO).arg("--root").arg(&root).arg("build").output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "fymo build failed:\n{log}");
        assert!(
            log.contains("svelte      5.60.1 (the app's node_modules/svelte)"),
            "built with the app's Svelte:\n{log}"
        );
        root
    })
}

#[test]
fn every_page_renders_as_node_renders_it_on_every_engine() {
    let root = app();
    let expected = reference(root);
    let manifest = Manifest::load(&root.join(".fymo/build")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut differ = Vec::new();
    for &engine in Engine::ALL {
        let pool = EnginePool::start(engine, manifest.ssr_source().unwrap(), PoolConfig::default()).unwrap();
        for page in PAGES {
            let job = RenderJob { page: (*page).into(), layouts_json: None, props_json: "{}".into(), isolate: false };
            let got = runtime.block_on(pool.render(job)).unwrap_or_else(|e| panic!("{page} on {}: {e}", engine.name()));
            let want = &expected[*page];
            if got.body != want.body || comparable(&got.head) != comparable(&want.head) {
                differ.push(format!(
                    "{page} on {}:\n  fymo head {}\n  node head {}\n  fymo body {}\n  node body {}",
                    engine.name(),
                    got.head,
                    want.head,
                    got.body,
                    want.body
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// `head` with the bodies of inline scripts left out: mode-watcher writes one from a
/// function's own source text (`setInitialMode.toString()`), whose local names any bundler
/// may change (esbuild's flat scope renames `themeColors` to `themeColors2`; Vite's
/// Rollup does the same). The browser test checks that the script runs.
fn comparable(head: &str) -> String {
    let mut out = String::new();
    let mut rest = head;
    while let Some(open) = rest.find("<script") {
        let Some(start) = rest[open..].find('>').map(|i| open + i + 1) else { break };
        let Some(end) = rest[start..].find("</script>").map(|i| start + i) else { break };
        out.push_str(&rest[..start]);
        out.push('…');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_page_hydrates_and_works_in_chromium() {
    let root = app();
    let server = Server::start_at(FYMO, root, "serve", &["--engines", "2"], |_| {});
    common::run_browser_script("ecosystem.mjs", &[std::ffi::OsStr::new(&server.base)], PAGES.len());
}

#[test]
fn doctor_and_build_name_the_svelte_they_use_and_refuse_an_unsupported_one() {
    let root = app();
    let out = std::process::Command::new(FYMO).arg("--root").arg(root).arg("doctor").output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("ok    svelte (the app's, else Fymo's): 5.60.1 (the app's"), "{report}");

    let old = common::TestApp::fixture("empty");
    old.write("templates/a.svelte", "<p>a</p>\n");
    old.write("routes.yml", "routes:\n  /a: a\n");
    old.write("node_modules/svelte/package.json", r#"{ "name": "svelte", "version": "4.2.19" }"#);
    let (code, out, err) = old.run(FYMO, &["build"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("svelte 4.2.19 in node_modules/svelte is not supported") && err.contains("npm install svelte@5"),
        "{err}"
    );
    let (_, report, _) = old.run(FYMO, &["doctor"]);
    assert!(report.contains("FAIL  svelte (the app's, else Fymo's): 4.2.19"), "{report}");
}

/// The stylesheets a page links, concatenated.
fn stylesheets_of(server: &Server, path: &str) -> String {
    let page = common::get(&server.url(path)).body;
    page.split("<link rel=\"stylesheet\" href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|href| common::get(&server.url(href)).body)
        .collect()
}

#[test]
fn fymo_dev_runs_tailwind_again_when_a_template_gains_a_class() {
    let copy = common::TestApp::copy_of(&repo().join("tests/ecosystem/app"));
    let server = Server::start_command(FYMO, &copy, "dev", &["--engines", "1"]);
    let events = common::EventStream::connect(&server);
    let before = stylesheets_of(&server, "/tw");
    assert!(before.contains("bg-sky-500") && !before.contains("bg-rose-700"), "{before}");
    let file = copy.root().join("templates/tw.svelte");
    let text = std::fs::read_to_string(&file).unwrap().replace("bg-sky-500 p-2", "bg-rose-700 p-2");
    let tmp = file.with_extension("edit.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, &file).unwrap();
    events.wait("reload");
    let after = stylesheets_of(&server, "/tw");
    assert!(after.contains("bg-rose-700"), "the new class is in the stylesheet: {after}");
}

/// QuickJS's `Intl.Collator` (js/shims/intl-collator.js; FormatJS has none) orders strings as
/// Node's ICU does: accents, case, punctuation, digits, `numeric`, `sensitivity`.
#[test]
fn the_collator_of_engines_without_icu_compares_as_icu_does() {
    let out = std::process::Command::new("node").arg(repo().join("tests/ssr/collator.mjs")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("0 of "), "{stdout}");
}

/// The polyfills go into the server bundle only when it names `Intl`, and a locale without
/// data is a build error naming fymo.yml.
#[test]
fn the_intl_polyfills_are_bundled_only_for_an_app_that_uses_intl() {
    let app = common::TestApp::fixture("empty");
    app.write("routes.yml", "routes:\n  /: home\n");
    app.write("templates/home.svelte", "<p>{(1234.5).toFixed(1)}</p>\n");
    let ssr = || std::fs::read_to_string(app.root().join(".fymo/build/ssr.js")).unwrap();
    let (code, out, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!ssr().contains("typeof Intl === 'undefined'"), "no prelude without Intl");

    app.write("templates/home.svelte", "<p>{new Intl.NumberFormat('de').format(1234.5)}</p>\n");
    app.write("fymo.yml", "intl:\n  locales: [de]\n");
    let (code, out, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(ssr().starts_with("if (typeof Intl === 'undefined') {"), "the prelude, guarded");
    let manifest = Manifest::load(&app.root().join(".fymo/build")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for &engine in Engine::ALL {
        let pool = EnginePool::start(engine, manifest.ssr_source().unwrap(), PoolConfig::default()).unwrap();
        let job = RenderJob { page: "home".into(), layouts_json: None, props_json: "{}".into(), isolate: false };
        let got = runtime.block_on(pool.render(job)).unwrap();
        assert!(got.body.contains("<p>1.234,5</p>"), "{} {}", engine.name(), got.body);
    }

    app.write("fymo.yml", "intl:\n  locales: [de, xx-YY]\n");
    let (code, _, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 1);
    assert!(err.contains("fymo.yml:1:1: intl.locales: no locale data for xx-YY"), "{err}");
}
