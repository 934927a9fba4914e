//! An Inertia app on Fymo: tests/inertia/app owns its entries (`client.js`, `ssr.js`, as
//! Inertia's guides write them) and depends on the pinned @inertiajs/svelte from npm. Its
//! pages render through Inertia's own App on every engine, in process, and Inertia's client
//! hydrates and navigates them in Chromium (tests/browser/inertia.mjs).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{repo, Server, FYMO};
use fymo::testing::{Engine, EngineBackend, EnginePool, Manifest, PoolConfig, RenderJob};

/// The app, built in place once (its node_modules is where a user's would be).
fn app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| {
        let root = repo().join("tests/inertia/app");
        assert!(
            root.join("node_modules/@inertiajs/svelte").is_dir(),
            "the Inertia app's packages are missing: run `npm ci` in tests/inertia/app (scripts/test does)"
        );
        let out = std::process::Command::new(FYMO).arg("--root").arg(&root).arg("build").output().unwrap();
        assert!(out.status.success(), "fymo build failed:\n{}", String::from_utf8_lossy(&out.stderr));
        root
    })
}

/// What Inertia's own SSR renders in Node for `page` (tests/ssr/inertia-reference.mjs: Node's
/// `svelte/server`, the app's @inertiajs/svelte, no Fymo code).
fn node_reference(page: &serde_json::Value) -> (String, String) {
    let out = std::process::Command::new("node")
        .arg(repo().join("tests/ssr/inertia-reference.mjs"))
        .arg(app())
        .arg(page.to_string())
        .output()
        .expect("running node");
    assert!(out.status.success(), "the reference failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["head"].as_str().unwrap().to_owned(), v["body"].as_str().unwrap().to_owned())
}

#[test]
fn ssr_js_renders_as_inertias_own_node_ssr_on_every_engine() {
    let manifest = Manifest::load(&app().join(".fymo/build")).unwrap();
    assert!(manifest.app, "the manifest says the app owns its entries");
    let page = |component: &str, props: serde_json::Value| {
        serde_json::json!({
            "component": component, "props": props, "url": "/", "version": "v1",
            "encryptHistory": false, "clearHistory": false, "flash": {}
        })
    };
    let pages = [
        page("Home", serde_json::json!({ "greeting": "Hi", "items": ["</script>", "<!-- -->", "\u{2028}é"] })),
        page("About", serde_json::json!({ "title": "About" })),
        page("Notes", serde_json::json!({ "notes": ["one"], "errors": { "text": "Write something first" } })),
        page("Feed", serde_json::json!({ "page": 1, "items": ["item 1"] })),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut differ = Vec::new();
    for &engine in Engine::ALL {
        let pool = EnginePool::start(engine, manifest.ssr_source().unwrap(), PoolConfig::default()).unwrap();
        for page in &pages {
            let component = page["component"].as_str().unwrap();
            let job =
                RenderJob { page: component.into(), layouts_json: None, props_json: page.to_string(), isolate: false };
            let got = runtime.block_on(pool.render(job)).unwrap_or_else(|e| panic!("{}: {e}", engine.name()));
            let (head, body) = node_reference(page);
            if got.head != head || got.body != body {
                differ.push(format!(
                    "{component} on {}:\n  fymo {}\n  node {head}\n  fymo {}\n  node {body}",
                    engine.name(),
                    got.head,
                    got.body
                ));
            }
        }
        // Inertia's buildSSRBody: the page object in a JSON script (`/` and `<` escaped),
        // then the element its client hydrates.
        let job =
            RenderJob { page: "Home".into(), layouts_json: None, props_json: pages[0].to_string(), isolate: false };
        let got = runtime.block_on(pool.render(job)).unwrap();
        let (script, rest) = got.body.split_once("</script>").expect("a page-object script");
        let json = script.strip_prefix(r#"<script data-page="app" type="application/json">"#).expect(&got.body);
        assert!(!json.contains("</"), "escaped: {json}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(json).unwrap(), pages[0], "{}", engine.name());
        assert!(rest.starts_with(r#"<div data-server-rendered="true" id="app">"#), "{rest}");
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn the_document_and_the_protocol_are_inertias() {
    let server = Server::start_at(FYMO, app(), "serve", &["--engines", "1"], |_| {});
    let page = common::get(&server.url("/")).body;
    let script =
        r#"<script data-page="app" type="application/json">{"component":"Home","props":{"greeting":"Hello from Fymo""#;
    assert!(page.contains(script), "{page}");
    assert!(page.contains(r#"<meta name="csp-nonce" content=""#), "the nonce for Inertia's progress bar: {page}");
    assert!(!page.contains("__fymo") && !page.contains("\"fymo\""), "nothing of Fymo's own client or props: {page}");
    let version = page.split(r#""version":""#).nth(1).and_then(|v| v.split('"').next()).unwrap().to_owned();

    let inertia = |path: &str, version: &str| {
        ureq::get(&server.url(path)).set("X-Inertia", "true").set("X-Inertia-Version", version).call().map_err(Box::new)
    };
    let about = inertia("/about", &version).unwrap();
    assert_eq!(about.header("x-inertia"), Some("true"));
    let object: serde_json::Value = about.into_json().unwrap();
    assert_eq!(object["component"], "About");
    assert_eq!(object["props"], serde_json::json!({ "title": "About Inertia on Fymo" }));
    assert_eq!(object["url"], "/about");
    for key in ["encryptHistory", "clearHistory", "flash"] {
        assert!(object.get(key).is_some(), "{key} in {object}");
    }
    // Leaving: Inertia's client gets 409 and the URL to load whole, a browser a redirect.
    match inertia("/leave", &version).map_err(|e| *e) {
        Err(ureq::Error::Status(409, r)) => assert_eq!(r.header("x-inertia-location"), Some("/about?from=leave")),
        other => panic!("location() answers Inertia 409: {other:?}"),
    }
    let plain = ureq::AgentBuilder::new().redirects(0).build().get(&server.url("/leave")).call().unwrap();
    assert_eq!((plain.status(), plain.header("location")), (303, Some("/about?from=leave")));
    // Deferred and merged props (fymo.defer, fymo.merge): a visit announces them, a partial
    // reload loads a deferred one, X-Inertia-Reset stops a merge.
    let feed: serde_json::Value = inertia("/feed", &version).unwrap().into_json().unwrap();
    assert_eq!(
        feed["props"],
        serde_json::json!({ "page": 1, "items": ["item 1", "item 2", "item 3"], "plans": ["free", "pro"] })
    );
    assert_eq!(feed["onceProps"], serde_json::json!({ "plans": { "prop": "plans", "expiresAt": null } }));
    assert_eq!(feed["deferredProps"], serde_json::json!({ "default": ["stats"] }));
    assert_eq!(feed["mergeProps"], serde_json::json!(["items"]));
    let partial = |extra: (&str, &str)| -> serde_json::Value {
        ureq::get(&server.url("/feed?page=2"))
            .set("X-Inertia", "true")
            .set("X-Inertia-Version", &version)
            .set("X-Inertia-Partial-Component", "Feed")
            .set(extra.0, extra.1)
            .call()
            .unwrap()
            .into_json()
            .unwrap()
    };
    let stats = partial(("X-Inertia-Partial-Data", "stats"));
    assert_eq!(stats["props"], serde_json::json!({ "stats": { "count": 42 } }), "only what was asked");
    assert!(stats.get("deferredProps").is_none(), "{stats}");
    let kept = partial(("X-Inertia-Except-Once-Props", "plans"));
    assert!(kept["props"].get("plans").is_none(), "the client keeps its copy: {kept}");
    assert_eq!(kept["onceProps"]["plans"]["prop"], "plans", "and is told it is a once prop");
    let reset = partial(("X-Inertia-Reset", "items"));
    assert!(reset.get("mergeProps").is_none() && reset["props"]["items"][0] == "item 4", "{reset}");
    match inertia("/about", "stale").map_err(|e| *e) {
        Err(ureq::Error::Status(409, r)) => assert_eq!(r.header("x-inertia-location"), Some("/about")),
        other => panic!("a stale version answers 409: {other:?}"),
    }
}

#[test]
fn inertias_client_hydrates_and_navigates_in_chromium() {
    let root = app();
    let server = Server::start_at(FYMO, root, "serve", &["--engines", "2"], |_| {});
    common::run_browser_script("inertia.mjs", &[std::ffi::OsStr::new(&server.base)], 5);
}

/// CSRF the Axios way: the `XSRF-TOKEN` cookie holds the session's token for scripts, and
/// `X-XSRF-TOKEN` carries it back.
#[test]
fn the_xsrf_token_cookie_and_header_pass_the_csrf_check() {
    let server = Server::start_at(FYMO, app(), "serve", &["--engines", "1"], |_| {});
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let first = agent.get(&server.url("/notes")).call().unwrap();
    let cookies: Vec<String> = first.all("set-cookie").into_iter().map(str::to_owned).collect();
    let xsrf = cookies.iter().find(|c| c.starts_with("XSRF-TOKEN=")).unwrap_or_else(|| panic!("{cookies:?}"));
    assert!(xsrf.contains("SameSite=Lax") && !xsrf.contains("HttpOnly"), "readable by scripts: {xsrf}");
    let token = xsrf["XSRF-TOKEN=".len()..].split(';').next().unwrap().to_owned();
    let jar: Vec<&str> = cookies.iter().filter_map(|c| c.split(';').next()).collect();
    let jar = jar.join("; ");

    let again = agent.get(&server.url("/notes")).set("Cookie", &jar).call().unwrap();
    assert!(!again.all("set-cookie").iter().any(|c| c.starts_with("XSRF-TOKEN=")), "sent once, not on every response");

    let post = |token: Option<&str>| {
        let mut request = agent.post(&server.url("/notes")).set("Cookie", &jar).set("X-Inertia", "true");
        if let Some(token) = token {
            request = request.set("X-XSRF-TOKEN", token);
        }
        match request.send_json(serde_json::json!({ "text": "hello" })) {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r.status(),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(post(None), 403, "no token");
    assert_eq!(post(Some("not-the-token")), 403, "a wrong one");
    assert_eq!(post(Some(&token)), 303, "the cookie's token, and the redirect");

    // A form with errors, Inertia's way: 303 back to the page, which shows them once (in
    // the error bag the client named).
    let invalid = agent
        .post(&server.url("/notes"))
        .set("Cookie", &jar)
        .set("X-Inertia", "true")
        .set("X-XSRF-TOKEN", &token)
        .set("X-Inertia-Error-Bag", "createNote")
        .send_json(serde_json::json!({ "text": " " }))
        .unwrap();
    assert_eq!((invalid.status(), invalid.header("location")), (303, Some("/notes")));
    let version = {
        let page = agent.get(&server.url("/notes")).set("Cookie", &jar).call().unwrap().into_string().unwrap();
        page.split(r#""version":""#).nth(1).and_then(|v| v.split('"').next()).unwrap().to_owned()
    };
    let page = || -> serde_json::Value {
        let request = agent.get(&server.url("/notes")).set("Cookie", &jar).set("X-Inertia", "true");
        request.set("X-Inertia-Version", &version).call().unwrap().into_json().unwrap()
    };
    // (The GET above for the version took them: post again.)
    let again = agent.post(&server.url("/notes")).set("Cookie", &jar).set("X-Inertia", "true");
    let again = again.set("X-XSRF-TOKEN", &token).set("X-Inertia-Error-Bag", "createNote");
    assert_eq!(again.send_json(serde_json::json!({ "text": "" })).unwrap().status(), 303);
    let shown = page();
    assert_eq!(shown["props"]["errors"], serde_json::json!({ "createNote": { "text": "Write something first" } }));
    assert_eq!(shown["props"]["notes"], serde_json::json!(["hello"]), "the page's own props");
    assert!(page()["props"].get("errors").is_none(), "shown once");
}

/// `fymo dev` on an Inertia app: the entries are relinked after an edit, and the next page
/// is the edited one, still Inertia's.
#[test]
fn fymo_dev_serves_an_edited_template_of_an_inertia_app() {
    let copy = common::TestApp::copy_of(app());
    let server = Server::start_command(FYMO, &copy, "dev", &["--engines", "1"]);
    let events = common::EventStream::connect(&server);
    let before = common::get(&server.url("/")).body;
    assert!(before.contains(r#"<script data-page="app""#) && before.contains("/_fymo/dev/client.js"), "{before}");
    let file = copy.root().join("templates/Home.svelte");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace(r#"<h1 id="greeting">"#, r#"<h1 id="greeting" class="edited">"#);
    let tmp = file.with_extension("edit.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, &file).unwrap();
    events.wait("reload");
    let after = common::get(&server.url("/")).body;
    assert!(after.contains(r#"<h1 id="greeting" class="edited">"#), "{after}");
}

#[test]
fn an_app_entry_without_its_other_half_is_a_build_error() {
    let app = common::TestApp::fixture("empty");
    app.write("routes.yml", "routes:\n  /: home\n");
    app.write("templates/home.svelte", "<p>home</p>\n");
    app.write("client.js", "import pages from 'fymo:pages';\nconsole.log(pages);\n");
    let (code, _, err) = app.run(FYMO, &["build"]);
    assert_eq!(code, 1);
    assert!(err.contains("client.js is the app's browser entry, and it needs ssr.js beside it"), "{err}");
}
