//! Benchmark (not a test) of the plugin host. Prints:
//! - µs per instantiate + first host call with the pooling allocator (median, p99, N = 10,000),
//!   sequential and with two concurrent tasks;
//! - simulated calls/s through a simple flow (answer, lookup, say, collect, mark, say);
//! - memory per in-flight call (RSS growth with 1,000 calls parked in `collect`).
//!
//! `cargo run --release -p courtyard-flows --example bench-instantiate [-- plugin.wasm]`.
//! Without an argument it builds and uses the test guest `tests/guests/normal`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use courtyard_flows::{CallOutcome, FlowHost, FlowRegistry, HostConfig, InstallSpec, Services};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

#[path = "support/mod.rs"]
mod support;
use support::{FastCall, percentile, rss_kib};

fn guest_path() -> Result<PathBuf, String> {
    if let Some(p) = std::env::args().nth(1) {
        return Ok(PathBuf::from(p));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/Cargo.toml");
    let target = std::env::temp_dir().join("courtyard-flows-bench-guests");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2", "-p", "guest-normal", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err("building the bench guest failed".into());
    }
    Ok(target.join("wasm32-wasip2/release/guest_normal.wasm"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(bench())
}

async fn bench() -> Result<(), Box<dyn std::error::Error>> {
    let wasm_path = guest_path()?;
    let wasm = std::fs::read(&wasm_path)?;
    println!("plugin: {} ({} KiB)", wasm_path.display(), wasm.len() / 1024);
    let host = FlowHost::new(HostConfig { max_concurrent_instances: 2000, ..HostConfig::default() })?;
    let registry = Arc::new(FlowRegistry::new(host.clone()));
    let t = Instant::now();
    let version = registry.deploy(InstallSpec::new("bench", "bench", wasm)).await?;
    println!("install (compile + link + canary): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);

    // 1. instantiate + first host call (check-config calls config.get).
    const N: usize = 10_000;
    let samples = support::probe_latencies(&version, &host, 500, N).await?;
    println!(
        "instantiate + first host call, sequential: median {:.1} µs, p99 {:.1} µs (N = {N})",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (v, h) = (version.clone(), host.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..N / 2 {
                v.probe(&h).await?;
            }
            Ok::<(), String>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    println!(
        "instantiate + first host call, 2 concurrent tasks: {:.1} µs per op (throughput)",
        t.elapsed().as_secs_f64() * 1e6 / N as f64
    );

    // 2. whole simulated calls through the flow.
    const CALLS: usize = 20_000;
    const CONCURRENCY: usize = 64;
    let t = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (r, next) = (registry.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < CALLS {
                let call = Arc::new(FastCall { digits: Mutex::new(VecDeque::from(["8"])), gate: None });
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
    let secs = t.elapsed().as_secs_f64();
    println!(
        "simulated calls through the flow: {:.0} calls/s ({total} calls, {CONCURRENCY} concurrent, ~8 host calls each)",
        total as f64 / secs
    );

    // 3. memory per in-flight call.
    const PARKED: usize = 1000;
    let gate = Arc::new(Semaphore::new(0));
    let before = rss_kib();
    let mut tasks = Vec::new();
    for _ in 0..PARKED {
        let call = Arc::new(FastCall { digits: Mutex::new(VecDeque::from(["8"])), gate: Some(gate.clone()) });
        let r = registry.clone();
        tasks.push(tokio::spawn(async move { r.run_inbound("bench", call, Services::unavailable()).await }));
    }
    while version.counts().in_flight < PARKED as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let during = rss_kib();
    gate.add_permits(PARKED);
    for task in tasks {
        task.await??;
    }
    println!(
        "memory per in-flight call: {:.1} KiB RSS ({PARKED} calls parked in collect; RSS {} -> {} MiB)",
        (during.saturating_sub(before)) as f64 / PARKED as f64,
        before / 1024,
        during / 1024
    );
    Ok(())
}
