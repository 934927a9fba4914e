//! The Node side of the differential tests: Svelte's own `svelte/server` renders
//! (tests/ssr/reference.mjs), and apps made of the fixture suites under tests/ssr.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use fymo::testing::Rendered;

use super::{repo, TestApp};

/// Node's renders of every top-level template of the app at `root`.
pub fn reference(root: &Path) -> BTreeMap<String, Rendered> {
    reference_with(root, None)
}

/// As [`reference`], with the props of each page given (`props_file`: {name: props}).
pub fn reference_with(root: &Path, props_file: Option<&Path>) -> BTreeMap<String, Rendered> {
    let out = Command::new("node")
        .arg(repo().join("tests/ssr/reference.mjs"))
        .arg(root)
        .args(props_file)
        .output()
        .expect("running node");
    assert!(out.status.success(), "reference renderer failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("reference output is JSON")
}

/// An app whose templates are the files of the suites `dirs` under tests/ssr (later ones
/// win), with the svelte.config.js found in any of them, `skip` left out.
pub fn suite_app(dirs: &[&str], skip: &[&str]) -> TestApp {
    let app = TestApp::fixture("empty");
    for dir in dirs {
        let from = repo().join("tests/ssr").join(dir);
        copy_templates(&from, &app.root().join("templates"), skip);
        if from.join("svelte.config.js").is_file() {
            std::fs::copy(from.join("svelte.config.js"), app.root().join("svelte.config.js")).unwrap();
        }
    }
    app
}

fn copy_templates(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_templates(&path, &target, skip);
        } else if !path.file_stem().is_some_and(|s| skip.iter().any(|k| s == *k))
            && path.file_name().is_some_and(|n| n != "svelte.config.js")
        {
            std::fs::copy(&path, target).unwrap();
        }
    }
}
