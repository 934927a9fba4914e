//! The load side of `bench/live_soak.py`: N live connections to one server process, a
//! publish every INTERVAL ms for SECONDS, then publish→delivered latency (p50/p99),
//! lost and duplicated messages, the server's memory per idle connection and its CPU.
//!
//! usage: live_soak BASE_URL SERVER_PID SECRET [CONNECTIONS] [SECONDS] [INTERVAL_MS]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[derive(Default)]
struct Tally {
    latencies_us: Mutex<Vec<u32>>,
    lost: AtomicU64,
    duplicated: AtomicU64,
    stale: AtomicU64,
    received: AtomicU64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).expect("BASE_URL").clone();
    let pid: u32 = args.get(2).expect("SERVER_PID").parse().unwrap();
    let secret = args.get(3).expect("SECRET").clone();
    let connections: usize = args.get(4).map_or(1000, |a| a.parse().unwrap());
    let seconds: u64 = args.get(5).map_or(60, |a| a.parse().unwrap());
    let interval = Duration::from_millis(args.get(6).map_or(100, |a| a.parse().unwrap()));

    // The page's signed topic list (every connection follows the same page).
    let page: Value =
        ureq::get(&format!("{base}/pulse")).set("accept", "application/json").call().unwrap().into_json().unwrap();
    let live = &page["props"]["fymo"]["live"];
    let sub =
        json!({ "t": "sub", "page": "/pulse", "topics": live["topics"], "sig": live["sig"], "csrf": "" }).to_string();
    let start_seq = live["topics"]["pulse"].as_u64().unwrap();

    let rss_before = rss_kib(pid);
    let tally = Arc::new(Tally::default());
    let subscribed = Arc::new(tokio::sync::Semaphore::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let url = base.replace("http://", "ws://") + "/_fymo/live";
    let mut tasks = Vec::new();
    for chunk in 0..connections.div_ceil(50) {
        let mut opening = Vec::new();
        for _ in 0..50.min(connections - chunk * 50) {
            let mut request = url.clone().into_client_request().unwrap();
            request.headers_mut().insert("origin", base.parse().unwrap());
            opening.push(tokio_tungstenite::connect_async(request));
        }
        for opened in futures_util::future::join_all(opening).await {
            let (mut socket, _) = opened.expect("a live connection");
            socket.send(Message::Text(sub.clone().into())).await.unwrap();
            let (tally, subscribed, stop) = (tally.clone(), subscribed.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut last = start_seq;
                let mut counted = false;
                loop {
                    let frame = tokio::select! {
                        frame = socket.next() => frame,
                        () = stop.notified() => break,
                    };
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => continue, // pings (answered by the library), pongs
                    };
                    let v: Value = serde_json::from_str(&text).unwrap();
                    match v["t"].as_str() {
                        Some("presence") if !counted => {
                            counted = true; // our own subscription is in place
                            subscribed.add_permits(1);
                        }
                        Some("ev") => {
                            let seq = v["seq"].as_u64().unwrap();
                            if seq <= last {
                                tally.duplicated.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            tally.lost.fetch_add(seq - last - 1, Ordering::Relaxed);
                            last = seq;
                            tally.received.fetch_add(1, Ordering::Relaxed);
                            if let Some(sent) = v["data"]["sent_us"].as_u64() {
                                let us = now_us().saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
                                tally.latencies_us.lock().unwrap().push(us);
                            }
                        }
                        Some("stale") => {
                            tally.stale.fetch_add(1, Ordering::Relaxed);
                            last = v["seq"].as_u64().unwrap();
                        }
                        _ => {}
                    }
                }
                last
            }));
        }
    }
    let _ = subscribed.acquire_many(connections as u32).await.unwrap();
    // Idle: let the server settle (presence notices drained) before measuring memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid);
    println!(
        "{connections} idle live connections: server RSS {:.1} MiB -> {:.1} MiB, {:.1} KiB per connection",
        rss_before as f64 / 1024.0,
        rss_idle as f64 / 1024.0,
        (rss_idle.saturating_sub(rss_before)) as f64 / connections as f64
    );

    // Publish every `interval` for `seconds`, from a blocking thread (an outside process's view).
    let ticks_before = cpu_ticks(pid);
    let started = Instant::now();
    let publish_url = format!("{base}/_fymo/live/publish");
    let published = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().build();
        let mut n = 0u64;
        let mut next = Instant::now();
        while started.elapsed() < Duration::from_secs(seconds) {
            next += interval;
            n += 1;
            agent
                .post(&publish_url)
                .set("authorization", &format!("Bearer {secret}"))
                .send_json(json!({ "topic": "pulse", "event": "soak", "data": { "n": n, "sent_us": now_us() } }))
                .expect("publishing");
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
        n
    })
    .await
    .unwrap();
    let window = started.elapsed();
    // Every connection has everything once the last message has reached them all.
    let want = published * connections as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.received.load(Ordering::Relaxed) + tally.lost.load(Ordering::Relaxed) < want
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ticks = cpu_ticks(pid) - ticks_before;
    let clk_tck = 100.0; // sysconf(_SC_CLK_TCK) on Linux
    stop.notify_waiters();

    let mut latencies = std::mem::take(&mut *tally.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    println!(
        "{published} publishes over {:.1}s to {connections} connections ({} deliveries expected)",
        window.as_secs_f64(),
        want
    );
    println!(
        "publish -> delivered: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.99),
        latencies.last().map_or(0.0, |&us| f64::from(us) / 1000.0)
    );
    println!(
        "delivered {}, lost {}, duplicated {}, stale notices {}",
        tally.received.load(Ordering::Relaxed),
        want.saturating_sub(tally.received.load(Ordering::Relaxed)),
        tally.duplicated.load(Ordering::Relaxed),
        tally.stale.load(Ordering::Relaxed)
    );
    println!("server CPU while publishing: {:.1}% of one core", ticks as f64 / clk_tck / window.as_secs_f64() * 100.0);
    println!("server RSS at the end: {:.1} MiB", rss_kib(pid) as f64 / 1024.0);
}
