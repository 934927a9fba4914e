//! Every compiled-in engine side by side on the demo's SSR bundle, in one run:
//! cold start of one instance (create + evaluate the bundle), render time of the
//! product list with 10 and 1000 items (props parsed from JSON each time, inside the
//! layout, as `fymo serve` renders it), and resident memory per instance.
//!
//! Needs the demo built (`cargo run --release --bin fymo-demo -- build`); run with
//! `cargo bench --bench engines` (QuickJS alone) or `--features v8` (both).
//! `bench/engines.py` runs this and then the same engines through `fymo serve`.

use std::path::Path;
use std::time::{Duration, Instant};

use fymo::testing::Manifest;
use fymo::testing::{Engine, EngineBackend, EngineInstance, Limits, RenderJob};

const INSTANCES_FOR_RSS: usize = 4;

// As in Fymo's binaries (QuickJS allocates through it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// The demo's own controller module, so the bench renders exactly the props the demo serves.
#[allow(dead_code)]
#[path = "../controllers/products.rs"]
mod products;

fn job(n: u32) -> RenderJob {
    RenderJob {
        page: "products/index".into(),
        layouts_json: Some(r#"[{"component":"layouts/main","props":{}}]"#.into()),
        props_json: products::list(n).to_string(),
        isolate: false,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn render_median(instance: &mut dyn EngineInstance, job: &RenderJob, runs: usize) -> Duration {
    let far = || Instant::now() + Duration::from_secs(60);
    let body = instance.render(job, far()).expect("render").body;
    assert!(body.contains("Product 1"), "the page rendered: {}", &body[..body.len().min(200)]);
    for _ in 0..runs / 5 {
        instance.render(job, far()).unwrap();
    }
    let samples = (0..runs)
        .map(|_| {
            let started = Instant::now();
            instance.render(job, far()).unwrap();
            started.elapsed()
        })
        .collect();
    median(samples)
}

struct Row {
    engine: &'static str,
    cold_start: Duration,
    render_10: Duration,
    render_1000: Duration,
    /// The built-ins check run after every render (`EngineInstance::tampered`).
    guard: Duration,
    /// A render of 10 items in a fresh instance (`isolate: true`).
    isolated_10: Duration,
    rss_per_instance_mib: f64,
}

/// Each engine runs on its own thread, as in the pool: V8 isolates belong to a thread.
fn measure(engine: Engine, bundle: &str) -> Row {
    let limits = Limits { deadline: Duration::from_secs(60), memory_bytes: 0 };
    let small = job(10);
    let large = job(1000);
    drop(engine.instantiate(bundle, limits).expect("the bundle loads")); // one-time engine setup
    let cold_start = median(
        (0..5)
            .map(|_| {
                let started = Instant::now();
                let instance = engine.instantiate(bundle, limits).unwrap();
                let took = started.elapsed();
                drop(instance);
                took
            })
            .collect(),
    );
    let mut instance = engine.instantiate(bundle, limits).unwrap();
    let render_10 = render_median(instance.as_mut(), &small, 2000);
    let render_1000 = render_median(instance.as_mut(), &large, 60);
    let guard = median(
        (0..2000)
            .map(|_| {
                let started = Instant::now();
                assert_eq!(instance.tampered(), None);
                started.elapsed()
            })
            .collect(),
    );
    drop(instance);
    let isolated_10 = median(
        (0..9)
            .map(|_| {
                let started = Instant::now();
                let mut fresh = engine.instantiate(bundle, limits).unwrap();
                fresh.render(&small, Instant::now() + Duration::from_secs(60)).unwrap();
                let took = started.elapsed();
                drop(fresh);
                took
            })
            .collect(),
    );

    // Resident memory of warm instances: each has rendered both pages.
    let before = rss_kib();
    let mut instances = Vec::new();
    for _ in 0..INSTANCES_FOR_RSS {
        let mut instance = engine.instantiate(bundle, limits).unwrap();
        render_median(instance.as_mut(), &small, 50);
        render_median(instance.as_mut(), &large, 5);
        instances.push(instance);
    }
    let after = rss_kib();
    // V8 isolates must be dropped in reverse order of creation.
    while let Some(instance) = instances.pop() {
        drop(instance);
    }
    let rss_per_instance_mib = (after.saturating_sub(before)) as f64 / 1024.0 / INSTANCES_FOR_RSS as f64;
    Row { engine: engine.name(), cold_start, render_10, render_1000, guard, isolated_10, rss_per_instance_mib }
}

fn main() {
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join(".fymo/build");
    let manifest = Manifest::load(&build)
        .unwrap_or_else(|e| panic!("{e}: build the demo first: cargo run --release --bin fymo-demo -- build"));
    let bundle = manifest.ssr_source().unwrap();

    println!("\ndemo SSR bundle: {} KiB; product list inside the main layout; medians", bundle.len() / 1024);
    println!(
        "{:<10}{:>16}{:>18}{:>20}{:>20}{:>22}{:>22}",
        "engine",
        "cold start ms",
        "render 10 µs",
        "render 1000 µs",
        "built-ins check µs",
        "isolated render 10 µs",
        "RSS/instance MiB"
    );
    for &engine in Engine::ALL {
        let bundle = bundle.clone();
        let row = std::thread::spawn(move || measure(engine, &bundle)).join().expect("engine bench thread");
        println!(
            "{:<10}{:>16.1}{:>18.0}{:>20.0}{:>20.1}{:>22.0}{:>22.1}",
            row.engine,
            row.cold_start.as_secs_f64() * 1e3,
            us(row.render_10),
            us(row.render_1000),
            us(row.guard),
            us(row.isolated_10),
            row.rss_per_instance_mib
        );
    }
}
