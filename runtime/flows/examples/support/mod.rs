//! What the plugin-host benchmarks share: a caller that answers instantly, RSS and percentiles.
//! Included by each bench with `#[path = "support/mod.rs"] mod support;`.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use courtyard_flows::CallControl;
use courtyard_flows::wit::{
    CallError, CallInfo, CollectEnd, CollectOptions, Collected, Direction, QueueOutcome, RecordOptions, Recording,
    Segment,
};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

/// A caller that answers instantly: presses the queued digits, optionally waits at a gate.
pub struct FastCall {
    /// Digits returned by successive collects; none left = the caller hangs up.
    pub digits: Mutex<VecDeque<&'static str>>,
    /// When set, each collect waits for a permit (parks the call).
    pub gate: Option<Arc<Semaphore>>,
}

#[async_trait]
impl CallControl for FastCall {
    fn info(&self) -> CallInfo {
        CallInfo {
            call_id: "bench".into(),
            caller: "13800138000".into(),
            called: "4008123456".into(),
            direction: Direction::Inbound,
            estate_id: None,
            language: "zh".into(),
        }
    }
    async fn answer(&self) -> Result<(), CallError> {
        Ok(())
    }
    async fn say(&self, _: &[Segment], _: bool) -> Result<(), CallError> {
        Ok(())
    }
    async fn collect(&self, _: &[Segment], _: &CollectOptions) -> Result<Collected, CallError> {
        if let Some(g) = &self.gate {
            g.acquire().await.map_err(|_| CallError::Hangup)?.forget();
        }
        match self.digits.lock().pop_front() {
            Some(d) => Ok(Collected { digits: d.into(), ended_by: CollectEnd::MaxDigits }),
            None => Err(CallError::Hangup),
        }
    }
    async fn record(&self, _: &RecordOptions) -> Result<Recording, CallError> {
        Ok(Recording { id: "r".into(), duration_ms: 0 })
    }
    async fn transfer(&self, _: &str) -> Result<(), CallError> {
        Ok(())
    }
    async fn enqueue(&self, _: &str, _: u32) -> Result<QueueOutcome, CallError> {
        Ok(QueueOutcome::Timeout)
    }
    async fn hangup(&self) {}
    async fn set_var(&self, _: &str, _: &str) {}
    async fn get_var(&self, _: &str) -> Option<String> {
        None
    }
    async fn mark(&self, _: &str) {}
}

/// Resident set size of this process, KiB (Linux /proc).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map(|pages| pages * 4)
        .unwrap_or(0)
}

/// The `p` quantile (0–1) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Latencies (µs, sorted) of `n` instantiate-and-first-host-call probes of `version`, after
/// `warmup` unmeasured ones.
pub async fn probe_latencies(
    version: &courtyard_flows::FlowVersion,
    host: &courtyard_flows::FlowHost,
    warmup: usize,
    n: usize,
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    for _ in 0..warmup {
        version.probe(host).await?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        version.probe(host).await?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples)
}
