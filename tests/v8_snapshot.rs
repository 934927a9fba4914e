//! V8 startup snapshots (V8 builds only): the first process to need one makes it, the
//! next ones start from it, a damaged one is made again, and pages render the same
//! (each process still has its own `Math.random`).
#![cfg(feature = "v8")]

mod common;

use std::path::Path;

use common::{get, Server, TestApp, FYMO};

const MADE: &str = "made a V8 startup snapshot";

fn app() -> TestApp {
    let app = TestApp::fixture("empty");
    app.write("routes.yml", "routes:\n  /hello: hello\n");
    app.write(
        "templates/hello.svelte",
        "<script>\n  let { name = 'world' } = $props();\n  const r = Math.random();\n</script>\n\n<h1>Hello {name}</h1>\n<p id=\"r\">{r}</p>\n",
    );
    app.build();
    app
}

fn serve(app: &TestApp, cache: &Path, snapshots: &str) -> Server {
    Server::start_configured(FYMO, app, "serve", &["--engine", "v8", "--engines", "2"], |command| {
        command.env("FYMO_CACHE_DIR", cache).env("FYMO_V8_SNAPSHOT", snapshots);
    })
}

/// The page's heading and its random number.
fn page(server: &Server) -> (String, String) {
    let reply = get(&server.url("/hello"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let between = |from: &str, to: &str| reply.body.split(from).nth(1).unwrap().split(to).next().unwrap().to_owned();
    (between("<h1>", "</h1>"), between("<p id=\"r\">", "</p>"))
}

fn snapshots(cache: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(cache.join("v8-snapshots")) else { return Vec::new() };
    entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "bin")).collect()
}

#[test]
fn processes_start_from_one_snapshot_and_a_damaged_one_is_made_again() {
    let app = app();
    let cache = tempfile::tempdir().unwrap();

    let first = serve(&app, cache.path(), "1");
    assert!(first.startup.iter().any(|l| l.contains(MADE)), "{:#?}", first.startup);
    let made = snapshots(cache.path());
    assert_eq!(made.len(), 1, "{made:?}");
    let (heading, r1) = page(&first);
    assert_eq!(heading, "Hello world");

    let second = serve(&app, cache.path(), "1");
    assert!(!second.startup.iter().any(|l| l.contains(MADE)), "loaded, not made: {:#?}", second.startup);
    let (heading, r2) = page(&second);
    assert_eq!(heading, "Hello world");
    assert_ne!(r1, r2, "every process seeds Math.random afresh");
    drop((first, second));

    // A file cut short (a full disk, an editor) is not used: it is made again.
    let bytes = std::fs::read(&made[0]).unwrap();
    std::fs::write(&made[0], &bytes[..bytes.len() / 2]).unwrap();
    let third = serve(&app, cache.path(), "1");
    assert!(third.startup.iter().any(|l| l.contains(MADE)), "{:#?}", third.startup);
    assert_eq!(std::fs::read(&made[0]).unwrap().len(), bytes.len());
    assert_eq!(page(&third).0, "Hello world");
}

#[test]
fn snapshots_can_be_turned_off() {
    let app = app();
    let cache = tempfile::tempdir().unwrap();
    let server = serve(&app, cache.path(), "0");
    assert_eq!(page(&server).0, "Hello world");
    assert!(snapshots(cache.path()).is_empty());
}

#[test]
fn the_dev_server_evaluates_each_build_without_a_snapshot() {
    // Every edit is a new bundle: a snapshot would only add a child process per reload.
    let app = app();
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start_configured(FYMO, &app, "dev", &["--engine", "v8", "--engines", "1"], |command| {
        command.env("FYMO_CACHE_DIR", cache.path());
    });
    assert_eq!(page(&server).0, "Hello world");
    assert!(snapshots(cache.path()).is_empty());
}
