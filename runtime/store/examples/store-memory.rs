//! Store memory benchmark (prints figures, asserts nothing): how the process's RSS grows with the
//! number of call records written, for a given page-cache bound — the soak (tests/bench/soak.sh)
//! sees the runtime's RSS rise with the calls it has taken, and this separates the store's share.
//!
//! `cargo run --release -p courtyard-store --example store-memory [-- CALLS [CACHE_MB]]`
//! (defaults 40,000 calls, 128 MiB). Each call is written as the runtime writes it: a CDR at
//! answer, then updated at the end (two durable writes, two index entries each).

use courtyard_store::model::{Cdr, HangupSide};
use courtyard_store::{Store, StoreOptions};
use std::sync::Arc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let calls: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(40_000);
    let cache_mb: u64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(128);
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open_with(dir.path(), StoreOptions { cache_bytes: cache_mb << 20, ..StoreOptions::default() })?);
    let rss0 = rss_kib();
    println!("store-memory: {calls} calls, page cache {cache_mb} MiB; RSS at open {} MiB", rss0 / 1024);
    let step = (calls / 8).max(1);
    let mut last = (0usize, rss0);
    for i in 0..calls {
        let now = store.now();
        let cdr = Cdr {
            call_id: format!("soak-{i:08}-a84f0c2e9b1d4c7e@127.0.0.1"),
            direction: "inbound".into(),
            caller: format!("1380013{:04}", i % 200),
            called: "4008123456".into(),
            start: now,
            answer: Some(now),
            end: None,
            flow: Some("ivr-main".into()),
            plugin_version: Some("1.0.0".into()),
            ivr_path: vec![],
            queue: None,
            agent: None,
            hangup_side: None,
            hangup_cause: None,
            recording_id: None,
            vars: Default::default(),
            interrupted: false,
        };
        store.upsert_cdr(&cdr).await?;
        store
            .update_cdr(&cdr.call_id, |c| {
                c.end = Some(now);
                c.ivr_path = vec!["main:1".into(), "bills".into()];
                c.hangup_side = Some(HangupSide::Caller);
                c.hangup_cause = Some("normal".into());
            })
            .await?;
        if (i + 1) % step == 0 {
            let r = rss_kib();
            println!(
                "{:>7} calls: RSS {:>5} MiB (+{:.2} KiB per call since the last line)",
                i + 1,
                r / 1024,
                (r as f64 - last.1 as f64) / (i + 1 - last.0) as f64
            );
            last = (i + 1, r);
        }
    }
    let disk: u64 = walk(dir.path());
    println!("database on disk: {} MiB; RSS growth {:.2} KiB per call overall", disk >> 20, (rss_kib() - rss0) as f64 / calls as f64);
    Ok(())
}

fn walk(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { e.metadata().map(|m| m.len()).unwrap_or(0) }).sum())
        .unwrap_or(0)
}
