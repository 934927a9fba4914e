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
