//! Scheduler overhead benchmark (not a test): N targets, a placer that answers at once, the
//! in-memory store and a manual clock, so the figure is the dialer's own CPU cost per call
//! (pick, pace, record, persist, progress) rather than SIP or wall-clock pacing.
//!
//! `cargo run --release -p courtyard-campaigns --example bench-scheduler -- [targets]`
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use courtyard_campaigns::*;

struct AnswerAll;
impl CallPlacer for AnswerAll {
    fn place(&self, _req: PlaceRequest) -> BoxFuture<'static, PlaceResult> {
        Box::pin(async { PlaceResult::Answered { run: Box::pin(async { Ok("ok".to_string()) }) } })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let mut cfg = CampaignConfig::from_toml(
        "id = \"bench\"\nflow = \"f\"\n[limits]\nmax_concurrent = 50\ncalls_per_second = 1000.0\n[hours]\nstart = \"00:00\"\nend = \"24:00\"\n",
    )
    .expect("config");
    cfg.targets = (0..n).map(|i| Target { id: format!("t{i}"), number: format!("139{i:08}"), params: Default::default() }).collect();
    let clock = ManualClock::new(1_795_000_000_000);
    let deps = CampaignDeps { placer: Arc::new(AnswerAll), clock: clock.clone(), store: Arc::new(MemoryStore::new()) };
    let t0 = Instant::now();
    let h = start(cfg, deps).expect("start");
    loop {
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
        if h.progress().state == RunState::Finished {
            break;
        }
        clock.advance_to_next_deadline();
    }
    let el = t0.elapsed();
    let p = h.progress();
    eprintln!(
        "{n} targets: {} answered in {:.3} s of CPU-bound scheduling = {:.1} µs per call (manual clock, memory store)",
        p.answered,
        el.as_secs_f64(),
        el.as_secs_f64() * 1e6 / n as f64
    );
}
