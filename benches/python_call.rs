//! The added cost of one Python controller call, in microseconds: sequential calls
//! through the worker pool (serialize the request, two pipe hops, import cache hit, JSON
//! back) beside a Rust controller doing the same work in-process, in the same run.

use std::time::{Duration, Instant};

use fymo::testing::{Controller, Registry};
use fymo::testing::{PythonConfig, PythonController, PythonPool};
use fymo::RequestContext;

const CALLS: usize = 5_000;

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| us(samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)]);
    (at(0.5), at(0.99), us(samples.iter().sum::<Duration>()) / samples.len() as f64)
}

async fn measure(controller: &dyn Controller) -> Vec<Duration> {
    let request = RequestContext { path: "/bench".into(), ..RequestContext::default() };
    for _ in 0..200 {
        controller.call(request.clone()).await.unwrap();
    }
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let outcome = controller.call(request.clone()).await.unwrap();
        samples.push(started.elapsed());
        assert!(matches!(outcome.answer(), fymo::Answer::Json(..) | fymo::Answer::Props(_)));
    }
    samples
}

fn main() {
    let app = tempfile::tempdir().unwrap();
    let file = app.path().join("controllers/bench.py");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "def get_context(request):\n    return {\"title\": \"hello\", \"items\": [1, 2, 3]}\n")
        .unwrap();

    // The calls run on a worker thread of a multi-threaded runtime, as a request's handler
    // does in the server (`block_on`'s own thread would add a hop between threads per call).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let root = app.path().to_owned();
    let work = async move {
        let app = root;
        let config = PythonConfig { workers: 1, ..PythonConfig::default() };
        let pool = PythonPool::start(&app, config).unwrap();
        let python = PythonController::new("bench", file, pool);
        let mut registry = Registry::default();
        registry.add("bench", |_req: RequestContext| async {
            Ok::<_, fymo::BoxError>(serde_json::json!({"title": "hello", "items": [1, 2, 3]}))
        });
        let rust = registry.rust("bench").unwrap();

        let (rp50, rp99, rmean) = percentiles(measure(rust.as_ref()).await);
        let (pp50, pp99, pmean) = percentiles(measure(&python).await);
        println!("{CALLS} sequential calls each, one Python worker");
        println!("{:<10}{:>12}{:>12}{:>12}", "controller", "p50 µs", "p99 µs", "mean µs");
        println!("{:<10}{rp50:>12.1}{rp99:>12.1}{rmean:>12.1}", "rust");
        println!("{:<10}{pp50:>12.1}{pp99:>12.1}{pmean:>12.1}", "python");
        println!("added cost of one Python call: {:.1} µs at p50 (target < 60 µs)", pp50 - rp50);

        // 32 requests at a time on a pool of 2 workers: each call's latency includes
        // waiting for a free worker, so the cost per call is the time a worker spends on
        // it: elapsed time × workers / calls (and the p50 latency for reference).
        let workers = 2;
        let config = PythonConfig { workers, ..PythonConfig::default() };
        let pool = PythonPool::start(&app, config).unwrap();
        let python = std::sync::Arc::new(PythonController::new("bench", app.join("controllers/bench.py"), pool));
        let request = RequestContext { path: "/bench".into(), ..RequestContext::default() };
        for _ in 0..400 {
            python.call(request.clone()).await.unwrap();
        }
        let concurrency = 32;
        let started = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (python, request) = (python.clone(), request.clone());
                tokio::spawn(async move {
                    let mut samples = Vec::with_capacity(CALLS / concurrency);
                    for _ in 0..CALLS / concurrency {
                        let t = Instant::now();
                        python.call(request.clone()).await.unwrap();
                        samples.push(t.elapsed());
                    }
                    samples
                })
            })
            .collect();
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await.unwrap());
        }
        let elapsed = started.elapsed().as_secs_f64() * 1e6;
        let per_call = elapsed * workers as f64 / samples.len() as f64;
        let overall = elapsed / samples.len() as f64;
        let (cp50, cp99, _) = percentiles(samples);
        println!(
            "{concurrency} concurrent, {workers} workers: one call done every {overall:.1} µs, \
             {per_call:.1} µs of a worker per call (latency p50 {cp50:.0} µs, p99 {cp99:.0} µs, \
             including the wait for a worker)"
        );
    };
    runtime.block_on(runtime.spawn(work)).unwrap();
}
