//! Time for the ACD, injected so tests drive every timer deterministically.
//!
//! The ACD never calls `tokio::time` or `SystemTime` directly: ring timeouts, wrap-up, maximum
//! wait, sticky-agent windows and announcements all ask a [`Clock`]. Production uses
//! [`TokioClock`]; tests use [`ManualClock`] and move time with [`ManualClock::advance`], so a
//! "20 s ring timeout" test takes microseconds and cannot flake on a loaded machine.
//!
//! Time is milliseconds since the Unix epoch (`u64`): one number that serializes plainly into
//! events and reports, and that a manual clock can start at any date.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// A boxed, sendable future; the object-safe return type of the ACD's seams.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Source of "now" and of timers for the ACD actor.
pub trait Clock: Send + Sync + 'static {
    /// Current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// A future that resolves once `now_ms() >= deadline_ms`.
    fn sleep_until(&self, deadline_ms: u64) -> BoxFuture<'static, ()>;
}

/// Real time: wall-clock epoch at start, advanced by tokio's monotonic clock (no jumps on NTP steps).
#[derive(Debug, Clone)]
pub struct TokioClock {
    base_instant: tokio::time::Instant,
    base_ms: u64,
}

impl TokioClock {
    /// A clock anchored at the current wall-clock time.
    pub fn new() -> Arc<Self> {
        let base_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Arc::new(Self { base_instant: tokio::time::Instant::now(), base_ms })
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        self.base_ms + self.base_instant.elapsed().as_millis() as u64
    }

    fn sleep_until(&self, deadline_ms: u64) -> BoxFuture<'static, ()> {
        let offset = Duration::from_millis(deadline_ms.saturating_sub(self.base_ms));
        let at = self.base_instant + offset;
        Box::pin(tokio::time::sleep_until(at))
    }
}

/// Test time: stands still until [`advance`](ManualClock::advance) moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<u64>,
}

impl ManualClock {
    /// A clock standing at `start_ms` (milliseconds since the Unix epoch).
    pub fn new(start_ms: u64) -> Arc<Self> {
        let (now, _) = watch::channel(start_ms);
        Arc::new(Self { now })
    }

    /// Move time forward; every sleeper whose deadline has passed wakes.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|t| *t += by.as_millis() as u64);
    }

    /// Move time forward by whole seconds (the unit most ACD settings use).
    pub fn advance_secs(&self, secs: u64) {
        self.advance(Duration::from_secs(secs));
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline_ms: u64) -> BoxFuture<'static, ()> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            loop {
                if *rx.borrow_and_update() >= deadline_ms {
                    return;
                }
                if rx.changed().await.is_err() {
                    // The clock is gone: time will never move again.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_only_when_advanced_past_deadline() {
        let clock = ManualClock::new(1_000);
        let mut sleep = clock.sleep_until(1_500);
        // Not yet due: polling once must leave it pending.
        assert!(futures_poll_once(&mut sleep).await.is_none());
        clock.advance(Duration::from_millis(499));
        assert!(futures_poll_once(&mut sleep).await.is_none());
        clock.advance(Duration::from_millis(1));
        sleep.await;
        assert_eq!(clock.now_ms(), 1_500);
    }

    async fn futures_poll_once(f: &mut BoxFuture<'static, ()>) -> Option<()> {
        tokio::select! {
            biased;
            _ = f => Some(()),
            _ = tokio::task::yield_now() => None,
        }
    }
}
