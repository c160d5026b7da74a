//! Benchmark (not a test): the same flow (bill-lookup) as a Rust, a Python (componentize-py) and a
//! JavaScript (componentize-js) component on the same host. Prints per component: size, install
//! time (compile + canary), instantiate + first host call (median/p99), simulated calls/s through
//! the flow (8 host calls each: keypad unit entry, the degraded path to a queue, a callback) and
//! memory per in-flight call (RSS growth with calls parked in their first `collect`).
//!
//! `cargo run --release -p courtyard-flows --example bench-polyglot -- A.wasm [B.wasm ...]`
//! (`make examples` and `make plugins` build the three bill-lookup components; see
//! docs/benchmarks.md for the command line and figures).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use courtyard_flows::{CallOutcome, FlowHost, FlowRegistry, HostConfig, InstallSpec, Services};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

#[path = "support/mod.rs"]
mod support;
use support::{FastCall, percentile, rss_kib};

/// Digits of one call: building 1#, entrance 2#, room 3#; then every service is unavailable.
const DIGITS: [&str; 3] = ["1", "2", "3"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        for path in std::env::args().skip(1) {
            bench(&path).await?;
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

async fn bench(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let wasm = std::fs::read(path)?;
    println!("== {path}: {:.1} MiB", wasm.len() as f64 / (1 << 20) as f64);
    let host = FlowHost::new(HostConfig { max_concurrent_instances: 300, ..HostConfig::default() })?;
    let registry = Arc::new(FlowRegistry::new(host.clone()));
    let t = Instant::now();
    let version = registry.deploy(InstallSpec::new("bench", "bench", wasm)).await?;
    println!("install (compile + link + canary, no cache): {:.0} ms", t.elapsed().as_secs_f64() * 1e3);

    const N: usize = 2_000;
    let samples = support::probe_latencies(&version, &host, 100, N).await?;
    println!(
        "instantiate + first host call: median {:.0} µs, p99 {:.0} µs (N = {N})",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );

    const CALLS: usize = 2_000;
    const CONCURRENCY: usize = 16;
    let t = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (r, next) = (registry.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < CALLS {
                let call = Arc::new(FastCall { digits: Mutex::new(VecDeque::from(DIGITS)), gate: None });
                let report = r.run_inbound("bench", call, Services::unavailable()).await.map_err(|e| e.to_string())?;
                if report.outcome != CallOutcome::Completed {
                    return Err(format!("call did not complete: {:?}", report.outcome));
                }
                done += 1;
            }
            Ok::<usize, String>(done)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    println!(
        "simulated calls through the flow: {:.0} calls/s ({total} calls, {CONCURRENCY} concurrent)",
        total as f64 / t.elapsed().as_secs_f64()
    );

    const PARKED: usize = 200;
    let gate = Arc::new(Semaphore::new(0));
    let before = rss_kib();
    let mut tasks = Vec::new();
    for _ in 0..PARKED {
        let call = Arc::new(FastCall { digits: Mutex::new(VecDeque::from(DIGITS)), gate: Some(gate.clone()) });
        let r = registry.clone();
        tasks.push(tokio::spawn(async move { r.run_inbound("bench", call, Services::unavailable()).await }));
    }
    while version.counts().in_flight < PARKED as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let during = rss_kib();
    gate.add_permits(PARKED * DIGITS.len());
    for task in tasks {
        task.await??;
    }
    println!(
        "memory per in-flight call: {:.0} KiB RSS ({PARKED} calls parked in collect; RSS {} -> {} MiB)",
        during.saturating_sub(before) as f64 / PARKED as f64,
        before / 1024,
        during / 1024
    );
    Ok(())
}
