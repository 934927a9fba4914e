//! Differential SSR: every fixture in tests/ssr/fixtures is rendered by Fymo (built by
//! `fymo build`, rendered in the engine pool of every engine compiled in: QuickJS, and V8
//! with `--features v8`) and by Node's own `svelte/server` (tests/ssr/reference.mjs).
//! Head and body must be byte-identical.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{repo, TestApp};
use fymo::testing::Manifest;
use fymo::testing::{Engine, EngineBackend, EnginePool, PoolConfig, RenderJob, Rendered};

fn reference(fixtures: &std::path::Path) -> BTreeMap<String, Rendered> {
    let out =
        Command::new("node").arg(repo().join("tests/ssr/reference.mjs")).arg(fixtures).output().expect("running node");
    assert!(out.status.success(), "reference renderer failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("reference output is JSON")
}

#[test]
fn fymo_renders_every_fixture_byte_identical_to_node() {
    let fixtures = repo().join("tests/ssr/fixtures");
    let app = TestApp::fixture("empty");
    copy_tree(&fixtures, &app.root().join("templates"));
    app.build();

    let expected = reference(&fixtures);
    assert!(expected.len() >= 40, "at least 40 fixtures, found {}", expected.len());

    let manifest = Manifest::load(&app.root().join(".fymo/build")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut mismatches = Vec::new();
    for &engine in Engine::ALL {
        let pool =
            EnginePool::start(engine, manifest.ssr_source().unwrap(), PoolConfig { size: 2, ..PoolConfig::default() })
                .unwrap();
        mismatches.extend(compare(engine, &pool, &runtime, &fixtures, &expected));
    }
    assert!(
        mismatches.is_empty(),
        "{} renders of {} fixtures differ:\n{}",
        mismatches.len(),
        expected.len(),
        mismatches.join("\n\n")
    );
}

fn compare(
    engine: Engine,
    pool: &EnginePool,
    runtime: &tokio::runtime::Runtime,
    fixtures: &std::path::Path,
    expected: &BTreeMap<String, Rendered>,
) -> Vec<String> {
    let engine = engine.name();
    let mut mismatches = Vec::new();
    for (name, want) in expected {
        let props = std::fs::read_to_string(fixtures.join(format!("{name}.json"))).unwrap_or_else(|_| "{}".into());
        let props: serde_json::Value = serde_json::from_str(&props).unwrap();
        let job = RenderJob { page: name.clone(), layouts_json: None, props_json: props.to_string(), isolate: false };
        match runtime.block_on(pool.render(job)) {
            Ok(got) if &got == want => {}
            Ok(got) => mismatches.push(format!(
                "{name} ({engine}):\n  node head: {}\n  fymo head: {}\n  node body: {}\n  fymo body: {}",
                want.head, got.head, want.body, got.body
            )),
            Err(e) => mismatches.push(format!("{name} ({engine}): fymo failed: {e}")),
        }
    }
    mismatches
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else if entry.path().extension().is_some_and(|e| e == "svelte") {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
