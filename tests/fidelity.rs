//! Svelte fidelity beyond the byte-for-byte fixtures (tests/ssr_differential.rs):
//! - the standard runtime, one test per built-in, on every engine compiled in;
//! - console output reaches Fymo's log with the template named;
//! - async renders that never settle, or wait on a timer past the deadline, are a 500
//!   at the deadline and the instance is replaced;
//! - the differential suites served over HTTP with props from a Python controller:
//!   the page's head and body bytes equal Node's.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::ssr::{reference, reference_with, suite_app};
use common::{get, Server, TestApp, DEMO, FYMO};
use fymo::testing::{Engine, EngineBackend, EnginePool, Manifest, PoolConfig, RenderJob, Rendered};

/// Each built-in's check: a template whose body is the checks' results, and what they
/// must be. Deterministic output only (random values are checked for shape).
const BUILT_INS: &[(&str, &str, &str)] = &[
    (
        "console",
        "console.log('log', 1, { a: [1, 'x'] }); console.warn('warn %s %d', 'w', 2); console.error(new Error('e'));",
        "function function function",
    ),
    ("structured_clone", "const o = { d: new Date(5), m: new Map([[1, new Set(['s'])]]), u: new Uint8Array([1, 2]) }; o.o = o; const c = structuredClone(o); let e = ''; try { structuredClone(() => 1); } catch (x) { e = x.name; } out = [c !== o, c.o === c, c.d.getTime(), c.m.get(1).has('s'), c.u[1], e].join(' ');", "true true 5 true 2 DataCloneError"),
    ("event_target", "const t = new EventTarget(); const seen = []; const f = (e) => seen.push(e.type + ':' + (e.target === t)); t.addEventListener('a', f); t.addEventListener('a', f); t.addEventListener('b', (e) => { e.preventDefault(); seen.push(e.detail); }, { once: true }); t.dispatchEvent(new Event('a')); const ok = t.dispatchEvent(new CustomEvent('b', { cancelable: true, detail: 'd' })); t.dispatchEvent(new CustomEvent('b', { detail: 'again' })); t.removeEventListener('a', f); t.dispatchEvent(new Event('a')); out = seen.join(',') + ' ' + ok;", "a:true,d false"),
    ("url", "const u = new URL('./x/../y?q=a b#h', 'http://EX.com:80/p/q'); u.searchParams.set('r', '1&2'); out = [u.href, u.host, u.origin, new URL('mailto:a@b').pathname, URL.canParse('nope')].join(' ');", "http://ex.com/p/y?q=a+b&amp;r=1%262#h ex.com http://ex.com a@b false"),
    ("url_search_params", "const p = new URLSearchParams('b=2&a=1&a=0&c=%20x+y'); p.sort(); p.delete('b'); out = [p.toString(), p.getAll('a'), p.get('c'), p.has('b'), p.size].join(' ');", "a=1&amp;a=0&amp;c=+x+y 1,0  x y false 3"),
    ("text_encoding", "const b = new TextEncoder().encode('aé€😀'); const d = new TextDecoder().decode(b); let bad = ''; try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff])); } catch (e) { bad = e.name; } out = [b.length, Array.from(b).join('.'), d, new TextDecoder().decode(new Uint8Array([0xc3])), bad].join(' ');", "10 97.195.169.226.130.172.240.159.152.128 aé€😀 \u{fffd} TypeError"),
    ("base64", "let e = ''; try { atob('*'); } catch (x) { e = x.name; } out = [btoa('Fymo!'), atob('RnltbyE='), btoa(''), e].join(' ');", "RnltbyE= Fymo!  InvalidCharacterError"),
    ("queue_microtask", "const seen = []; queueMicrotask(() => seen.push('micro')); seen.push('sync'); await Promise.resolve(); out = seen.join(',');", "sync,micro"),
    ("timers", "const seen = []; const t = setTimeout(() => seen.push('cleared'), 1); clearTimeout(t); await new Promise((r) => setTimeout(() => { seen.push('fired'); r(); }, 3)); out = seen.join(',');", "fired"),
    ("abort_controller", "const c = new AbortController(); let ev = 0; c.signal.onabort = () => ev++; c.signal.addEventListener('abort', () => ev++); c.abort('why'); c.abort('again'); let thrown = ''; try { c.signal.throwIfAborted(); } catch (x) { thrown = x; } out = [c.signal.aborted, c.signal.reason, ev, thrown, AbortSignal.abort().reason.name].join(' ');", "true why 2 why AbortError"),
    ("crypto", "const u = crypto.randomUUID(); const a = crypto.getRandomValues(new Uint32Array(4)); out = [u.length, u[14], '89ab'.includes(u[19]), a.length, a.some((x) => x !== 0), crypto.randomUUID() !== u].join(' ');", "36 4 true 4 true true"),
    ("performance", "const a = performance.now(); await new Promise((r) => setTimeout(r, 2)); const b = performance.now(); out = [typeof a, b > a, performance.timeOrigin > 1.6e12].join(' ');", "number true true"),
];

/// The built-ins app (experimental.async: some checks await), built once.
fn built_ins() -> &'static (TestApp, String) {
    static APP: OnceLock<(TestApp, String)> = OnceLock::new();
    APP.get_or_init(|| {
        let app = TestApp::fixture("empty");
        app.write("svelte.config.js", "export default { compilerOptions: { experimental: { async: true } } };\n");
        for (name, code, _) in BUILT_INS {
            let code = if *name == "console" {
                format!("{code} out = [typeof console.log, typeof console.warn, typeof console.error].join(' ');")
            } else {
                (*code).to_owned()
            };
            app.write(
                &format!("templates/rt_{name}.svelte"),
                &format!("<script>\n\tlet out = '';\n\t{code}\n</script>\n\n<p>{{out}}</p>\n"),
            );
        }
        app.build();
        let bundle = Manifest::load(&app.root().join(".fymo/build")).unwrap().ssr_source().unwrap();
        (app, bundle)
    })
}

fn check_built_in(name: &str) {
    let (app, bundle) = built_ins();
    let (_, _, want) = BUILT_INS.iter().find(|(n, _, _)| *n == name).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let node = reference(app.root());
    let want_body = format!("<!--[--><p>{want}</p><!--]-->");
    if name != "crypto" && name != "performance" {
        assert_eq!(node[&format!("rt_{name}")].body, want_body, "Node agrees with the expectation");
    }
    for &engine in Engine::ALL {
        let pool = EnginePool::start(engine, bundle.clone(), PoolConfig { size: 1, ..PoolConfig::default() }).unwrap();
        let job = RenderJob { page: format!("rt_{name}"), layouts_json: None, props_json: "{}".into(), isolate: false };
        let got = runtime.block_on(pool.render(job)).unwrap_or_else(|e| panic!("{name} on {}: {e}", engine.name()));
        assert_eq!(got.body, want_body, "{name} on {}", engine.name());
    }
}

macro_rules! built_in_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { check_built_in($name); })*
    };
}

built_in_tests! {
    runtime_console => "console",
    runtime_structured_clone => "structured_clone",
    runtime_event_target => "event_target",
    runtime_url => "url",
    runtime_url_search_params => "url_search_params",
    runtime_text_encoder_decoder => "text_encoding",
    runtime_atob_btoa => "base64",
    runtime_queue_microtask => "queue_microtask",
    runtime_set_clear_timeout => "timers",
    runtime_abort_controller => "abort_controller",
    runtime_crypto => "crypto",
    runtime_performance_now => "performance",
}

fn async_app(pages: &[(&str, &str)], routes: &str) -> TestApp {
    let app = TestApp::fixture("empty");
    app.write("svelte.config.js", "export default { compilerOptions: { experimental: { async: true } } };\n");
    for (name, source) in pages {
        app.write(&format!("templates/{name}.svelte"), source);
    }
    app.write("routes.yml", routes);
    app.build();
    app
}

#[test]
fn console_output_goes_to_the_log_with_the_template_named() {
    let app = async_app(
        &[("talks", "<script>\n\tconsole.log('hello from', 'talks', { n: 1 });\n\tconsole.warn('careful');\n</script>\n<p>ok</p>\n")],
        "routes:\n  /talks: talks\n",
    );
    for &engine in Engine::ALL {
        let server = Server::start(FYMO, &app, &["--engines", "1", "--engine", engine.name()]);
        assert_eq!(get(&server.url("/talks")).status, 200);
        let line = server.wait_for_log("hello from talks { n: 1 }");
        assert!(line.lines().last().unwrap().contains("talks"), "{line}");
        server.wait_for_log("careful");
    }
}

#[test]
fn async_renders_that_do_not_settle_in_time_are_timeouts() {
    let app = async_app(
        &[
            ("never", "<script>\n\tconst v = await new Promise(() => {});\n</script>\n<p>{v}</p>\n"),
            ("slow", "<script>\n\tconst v = await new Promise((r) => setTimeout(() => r('late'), 60000));\n</script>\n<p>{v}</p>\n"),
            ("quick", "<p>{await new Promise((r) => setTimeout(() => r('in time'), 5))}</p>\n"),
        ],
        "routes:\n  /never: never\n  /slow: slow\n  /quick: quick\n",
    );
    for &engine in Engine::ALL {
        let server =
            Server::start(FYMO, &app, &["--engines", "1", "--engine", engine.name(), "--render-timeout-ms", "1500"]);
        for page in ["never", "slow"] {
            assert_eq!(get(&server.url(&format!("/{page}"))).status, 500, "{page} on {}", engine.name());
            server.wait_for_log(&format!("render of `{page}` was interrupted"));
            let quick = get(&server.url("/quick"));
            assert_eq!(quick.status, 200, "the replaced instance serves");
            assert!(quick.body.contains("<p>in time</p>"), "{}", quick.body);
        }
        let health = common::health_details(&server);
        assert!(health["engines"]["recycled"].as_u64().unwrap() >= 2, "{health}");
    }
}

/// The head and body Svelte rendered, cut out of a page served with the shell below.
fn cut(page: &str) -> Rendered {
    let head = page.split("<head>\n").nth(1).unwrap().split("\n<!--end-head--></head>").next().unwrap();
    let mut head = head;
    // Fymo's own lines first: the hydration target's style, stylesheets, module preloads.
    while head.starts_with("<style nonce=")
        || head.starts_with("<link rel=\"stylesheet\" href=\"/_fymo/")
        || head.starts_with("<link rel=\"modulepreload\" href=\"/_fymo/")
    {
        head = &head[head.find('\n').unwrap() + 1..];
    }
    let target = page.split("<div id=\"__fymo\" data-page='").nth(1).unwrap();
    let body = &target[target.find("'>").unwrap() + 2..];
    let body = body.rsplit_once("</div>\n<script type=\"module\"").unwrap().0;
    Rendered { head: head.to_owned(), body: body.to_owned() }
}

/// The props a page was served with, from its page object (`data-page`).
fn served_props(page: &str) -> serde_json::Value {
    common::page_object(page)["props"].clone()
}

#[test]
fn suites_served_with_rust_and_python_controllers_match_node() {
    let mut compared = 0;
    for (dirs, skip) in [(&["fixtures", "async"][..], &["await_never"][..]), (&["fixtures", "config"][..], &[][..])] {
        let app = suite_app(dirs, skip);
        let expected = reference(app.root());
        let mut routes = String::from("routes:\n");
        for name in expected.keys() {
            routes.push_str(&format!("  /py/{name}:\n    controller: fixture\n    template: {name}.svelte\n"));
            routes.push_str(&format!("  /rs/{name}:\n    controller: echo\n    template: {name}.svelte\n"));
        }
        app.write("routes.yml", &routes);
        app.write("templates/app.html", "<!doctype html>\n<html>\n<head>\n%fymo.head%\n<!--end-head--></head>\n<body>\n%fymo.body%\n</body>\n</html>\n");
        app.write(
            "controllers/fixture.py",
            "\"\"\"Props of a fixture: templates/NAME.json for GET /py/NAME.\"\"\"\nimport json, os\n\nROOT = os.path.join(os.path.dirname(__file__), '..', 'templates')\n\n\ndef get_context(request):\n    name = request['path'].rsplit('/', 1)[1]\n    try:\n        with open(os.path.join(ROOT, name + '.json'), encoding='utf-8') as f:\n            return json.load(f)\n    except FileNotFoundError:\n        return {}\n",
        );
        app.build();
        for &engine in Engine::ALL {
            // The demo binary: its Rust `echo` controller serves the props it is given.
            let server =
                Server::start(DEMO, &app, &["--engines", "2", "--engine", engine.name(), "--python-workers", "1"]);
            let mut differ = Vec::new();
            for language in ["py", "rs"] {
                // Fymo adds its shared `fymo` prop (CSRF token, flash) to every page's props:
                // Node renders with the props each page was served with, read back from it.
                let mut served = serde_json::Map::new();
                let mut got = BTreeMap::new();
                for name in expected.keys() {
                    let url = match language {
                        "py" => format!("/py/{name}"),
                        _ => {
                            let file = app.root().join("templates").join(format!("{name}.json"));
                            let props = std::fs::read_to_string(file).unwrap_or_else(|_| "{}".into());
                            format!("/rs/{name}?props={}", urlencode(&props))
                        }
                    };
                    let page = get(&server.url(&url));
                    assert_eq!(page.status, 200, "{url} on {}: {}", engine.name(), page.body);
                    served.insert(name.clone(), served_props(&page.body));
                    got.insert(name.clone(), cut(&page.body));
                }
                let props_file = app.root().join(format!("served-props-{language}.json"));
                std::fs::write(&props_file, serde_json::Value::Object(served).to_string()).unwrap();
                let node = reference_with(app.root(), Some(&props_file));
                assert_eq!(node.len(), expected.len());
                for (name, want) in &node {
                    let got = &got[name];
                    if got != want {
                        differ
                            .push(format!("{name} ({language}, {}):\n  node {want:?}\n  fymo {got:?}", engine.name()));
                    }
                    compared += 1;
                }
            }
            assert!(differ.is_empty(), "{} of {} pages differ:\n{}", differ.len(), expected.len(), differ.join("\n"));
        }
    }
    println!("{compared} pages served with Rust and Python controllers compared with Node, 0 differ");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
