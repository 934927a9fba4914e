//! Hydration in Chromium: runs tests/browser/hydration.mjs (playwright-core driving
//! Debian's Chromium) against the demo app on an ephemeral port.

mod common;

use common::{eventually, run_browser_script, try_get, Redis, Server, TestApp, DEMO, FYMO};

#[test]
fn demo_pages_hydrate_in_chromium() {
    let app = TestApp::demo();
    app.build();
    let server = Server::start(DEMO, &app, &["--engines", "2"]);
    run_browser_script("hydration.mjs", &[server.base.as_ref()], 5);
}

#[test]
fn async_pages_hydrate_in_chromium() {
    let app = TestApp::fixture("empty");
    app.write("svelte.config.js", "export default { compilerOptions: { experimental: { async: true } } };\n");
    app.write("routes.yml", "routes:\n  /square: square\n  /post: post\n");
    app.write(
        "templates/square.svelte",
        "<script>\n\tlet { start = 3 } = $props();\n\tlet count = $state(start);\n\tconst square = (x) => new Promise((r) => setTimeout(() => r(x * x), 10));\n\tlet squared = $derived(await square(count));\n</script>\n\n<p id=\"value\">{count} squared is {squared}</p>\n<button id=\"inc\" onclick={() => count++}>+1</button>\n",
    );
    app.write(
        "templates/lib/visits.svelte.js",
        "export const visits = $state({ count: 1 });\nexport const visit = () => visits.count++;\n",
    );
    app.write(
        "templates/post.svelte",
        "<script>\n\timport { visits, visit } from './lib/visits.svelte.js';\n\tconst post = await new Promise((r) => setTimeout(() => r({ title: 'Post 42' }), 10));\n\tconst greet = (n) => Promise.resolve(`Hello, ${n}!`);\n</script>\n\n<svelte:head><title>{await Promise.resolve('Async title')}</title></svelte:head>\n<h1 id=\"title\">{post.title}</h1>\n<p id=\"greeting\">{await greet('Ada')}</p>\n<p id=\"visits\">shared {visits.count}</p>\n<button id=\"visit\" onclick={visit}>visit</button>\n",
    );
    app.build();
    let server = Server::start(FYMO, &app, &["--engines", "1"]);
    run_browser_script("async.mjs", &[server.base.as_ref()], 2);
}

#[test]
fn dev_server_reloads_and_swaps_css_in_chromium() {
    let app = TestApp::demo();
    let server = Server::start_command(DEMO, &app, "dev", &["--engines", "1", "--python-workers", "1"]);
    run_browser_script("dev.mjs", &[server.base.as_ref(), app.root().as_os_str()], 4);
}

#[test]
fn demo_forms_sign_in_and_upload_in_chromium() {
    let app = TestApp::demo();
    app.build();
    let server = Server::start(DEMO, &app, &["--engines", "1", "--python-workers", "1"]);
    run_browser_script("forms.mjs", &[server.base.as_ref()], 2);
}

#[test]
fn client_navigation_keeps_layouts_and_history_in_chromium() {
    let app = TestApp::demo();
    app.build();
    let server = Server::start(DEMO, &app, &["--engines", "2", "--python-workers", "1"]);
    run_browser_script("navigation.mjs", &[server.base.as_ref()], 5);
}

#[test]
fn live_chat_across_two_servers_sharing_redis_in_chromium() {
    let redis = Redis::start();
    let app = TestApp::demo();
    app.build();
    let url = redis.url();
    let one = Server::start(DEMO, &app, &["--engines", "1", "--python-workers", "1", "--broker", &url]);
    let two =
        Server::start(DEMO, &app, &["--engines", "1", "--python-workers", "1", "--broker", &url, "--workers", "2"]);
    assert!(eventually(std::time::Duration::from_secs(30), || try_get(&two.url("/_fymo/health"))
        .is_some_and(|r| r.status == 200)));
    run_browser_script("live.mjs", &[one.base.as_ref(), two.base.as_ref()], 6);
}

#[test]
fn client_navigation_never_leaves_the_origin_in_chromium() {
    let app = TestApp::demo();
    app.build();
    let server = Server::start(DEMO, &app, &["--engines", "1", "--python-workers", "1"]);
    run_browser_script("security.mjs", &[server.base.as_ref()], 3);
}
