//! Time for the dialer, injected so tests drive pacing, retries and calling hours deterministically.
//!
//! The scheduler never calls `tokio::time` or `SystemTime` directly: the gap between call starts,
//! retry spacing, the ring-timeout guard and "wait until 09:00" all ask a [`Clock`]. Production
//! uses [`TokioClock`]; tests use [`ManualClock`], which also remembers what sleepers wait for so a
//! test can jump straight to the next deadline ([`ManualClock::advance_to_next_deadline`]) and
//! cross a 13-hour night in a handful of steps.
//!
//! Time is milliseconds since the Unix epoch (`u64`), the same convention as `courtyard-acd`.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::watch;

/// A boxed, sendable future; the object-safe return type of the dialer's seams.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Source of "now" and of timers for the campaign scheduler.
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
        let base_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        Arc::new(Self { base_instant: tokio::time::Instant::now(), base_ms })
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        self.base_ms + self.base_instant.elapsed().as_millis() as u64
    }

    fn sleep_until(&self, deadline_ms: u64) -> BoxFuture<'static, ()> {
        let offset = Duration::from_millis(deadline_ms.saturating_sub(self.base_ms));
        Box::pin(tokio::time::sleep_until(self.base_instant + offset))
    }
}

/// Test time: stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<u64>,
    deadlines: Mutex<BTreeSet<u64>>,
}

impl ManualClock {
    /// A clock standing at `start_ms` (milliseconds since the Unix epoch).
    pub fn new(start_ms: u64) -> Arc<Self> {
        let (now, _) = watch::channel(start_ms);
        Arc::new(Self { now, deadlines: Mutex::new(BTreeSet::new()) })
    }

    /// Move time forward; every sleeper whose deadline has passed wakes.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|t| *t += by.as_millis() as u64);
    }

    /// Jump to the earliest deadline some sleeper asked for that is still in the future; returns
    /// the new time, or `None` when nobody waits on the clock. Deadlines of sleepers that were
    /// dropped may cause a jump where nothing happens, which is harmless.
    pub fn advance_to_next_deadline(&self) -> Option<u64> {
        let now = self.now_ms();
        let next = {
            let mut d = self.deadlines.lock();
            let later = d.split_off(&(now + 1));
            *d = later;
            d.first().copied()
        }?;
        self.now.send_modify(|t| *t = next);
        Some(next)
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline_ms: u64) -> BoxFuture<'static, ()> {
        if deadline_ms > self.now_ms() {
            self.deadlines.lock().insert(deadline_ms);
        }
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
    async fn manual_clock_jumps_to_the_earliest_pending_deadline() {
        let clock = ManualClock::new(1_000);
        let late = clock.sleep_until(5_000);
        let early = clock.sleep_until(1_500);
        assert_eq!(clock.advance_to_next_deadline(), Some(1_500));
        early.await;
        assert_eq!(clock.advance_to_next_deadline(), Some(5_000));
        late.await;
        assert_eq!(clock.advance_to_next_deadline(), None);
        assert_eq!(clock.now_ms(), 5_000);
    }
}
