//! Differential SSR: every fixture is rendered by Fymo (built by `fymo build`, rendered in
//! the engine pool of every engine compiled in: QuickJS, and V8 with `--features v8`) and
//! by Node's own `svelte/server` (tests/ssr/reference.mjs). Head and body must be
//! byte-identical. Three suites, each an app with its own svelte.config.js:
//! - `plain`: tests/ssr/fixtures, no config;
//! - `async`: the same fixtures plus tests/ssr/async (await in markup and scripts,
//!   `$derived(await ...)`, timers, rune modules, the standard runtime) compiled with
//!   `experimental.async`, so every render is awaited;
//! - `config`: the fixtures plus tests/ssr/config, with `css: 'injected'`, a `cssHash`,
//!   `preserveWhitespace` and `runes` from svelte.config.js.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::ssr::{reference, suite_app};
use fymo::testing::Manifest;
use fymo::testing::{Engine, EngineBackend, EnginePool, PoolConfig, RenderJob, Rendered};

#[test]
fn plain_suite_renders_byte_identical_to_node() {
    run_suite("plain", &["fixtures"], &[], 60);
}

#[test]
fn async_suite_renders_byte_identical_to_node() {
    // `{#await never}` never settles under experimental.async, in Node as in Fymo
    // (tests/faults.rs has it as a timeout).
    run_suite("async", &["fixtures", "async"], &["await_never"], 75);
}

#[test]
fn config_suite_renders_byte_identical_to_node() {
    run_suite("config", &["fixtures", "config"], &[], 65);
}

fn run_suite(suite: &str, dirs: &[&str], skip: &[&str], at_least: usize) {
    let app = suite_app(dirs, skip);
    app.build();
    let expected = reference(app.root());
    assert!(expected.len() >= at_least, "at least {at_least} fixtures, found {}", expected.len());

    let manifest = Manifest::load(&app.root().join(".fymo/build")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut mismatches = Vec::new();
    for &engine in Engine::ALL {
        let pool =
            EnginePool::start(engine, manifest.ssr_source().unwrap(), PoolConfig { size: 2, ..PoolConfig::default() })
                .unwrap();
        mismatches.extend(compare(engine, &pool, &runtime, &app.root().join("templates"), &expected));
    }
    println!(
        "suite {suite}: {} components x {} engines compared, {} differ",
        expected.len(),
        Engine::ALL.len(),
        mismatches.len()
    );
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
    fixtures: &Path,
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
