//! The 20 ms send clock. Deadlines are absolute (`start + n·20 ms`): a tick that fires late does
//! not push the following ones, so scheduling delays never accumulate into drift, and the RTP
//! timestamp advances exactly 160 per tick. When the clock fires more than [`MAX_LATE`] behind
//! (an overloaded machine), the missed ticks are skipped — the timestamp jumps by the time that
//! passed, the sequence number (kept by the sender) stays continuous — rather than sent as a
//! burst the receiver's jitter buffer would have to throw away.

use std::time::Duration;

use tokio::time::Instant;

use crate::FRAME;

/// One frame of time.
pub const TICK: Duration = Duration::from_millis(20);
/// Lateness beyond which missed ticks are skipped.
pub const MAX_LATE: Duration = Duration::from_millis(100);

/// What one firing of the clock means for the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// How late after its deadline the clock fired (send jitter).
    pub late: Duration,
    /// Ticks skipped before this one (0 normally).
    pub skipped: u32,
    /// RTP timestamp of the frame to send now.
    pub timestamp: u32,
}

/// Absolute-deadline 20 ms clock with the RTP timestamp it drives.
#[derive(Debug, Clone)]
pub struct Pacer {
    next: Instant,
    ts: u32,
}

impl Pacer {
    /// A clock whose first tick is one frame after `start`, with the initial RTP timestamp `ts`.
    pub fn new(start: Instant, ts: u32) -> Self {
        Self { next: start + TICK, ts }
    }

    /// Moves the clock so its next tick is at `first` (the timestamp is kept): a driver that
    /// serves many clocks puts each on the phase it chose for it.
    pub fn restart_at(&mut self, first: Instant) {
        self.next = first;
    }

    /// When the next tick is due.
    pub fn deadline(&self) -> Instant {
        self.next
    }

    /// The clock fired at `now` (≥ the deadline): returns the frame's timestamp and advances.
    pub fn fire(&mut self, now: Instant) -> Fired {
        let late = now.saturating_duration_since(self.next);
        let mut skipped = 0;
        if late > MAX_LATE {
            skipped = (late.as_micros() / TICK.as_micros()) as u32;
            self.next += TICK * skipped;
            self.ts = self.ts.wrapping_add(skipped * FRAME as u32);
        }
        let f = Fired { late, skipped, timestamp: self.ts };
        self.next += TICK;
        self.ts = self.ts.wrapping_add(FRAME as u32);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_firings_do_not_drift_the_deadlines() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, u32::MAX - 200);
        let mut prev_ts = None;
        // Fire every tick 0-19 ms late (a noisy scheduler): deadlines stay on the 20 ms grid.
        for n in 1..=1000u32 {
            assert_eq!(p.deadline(), t0 + TICK * n);
            let jitter = Duration::from_micros(((n * 7919) % 19_000) as u64);
            let f = p.fire(p.deadline() + jitter);
            assert_eq!(f.skipped, 0);
            assert_eq!(f.late, jitter);
            if let Some(prev) = prev_ts {
                assert_eq!(f.timestamp.wrapping_sub(prev), 160, "timestamp wraps and advances 160");
            }
            prev_ts = Some(f.timestamp);
        }
        assert_eq!(p.deadline(), t0 + TICK * 1001, "after 1000 late ticks, still exactly on the grid");
    }

    #[test]
    fn a_stall_skips_missed_ticks_and_the_timestamp_follows_real_time() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 1000);
        let a = p.fire(p.deadline());
        // The task was stalled for 350 ms.
        let stalled = p.deadline() + Duration::from_millis(350);
        let b = p.fire(stalled);
        assert_eq!(b.skipped, 17);
        assert_eq!(b.timestamp - a.timestamp, 160 * 18, "timestamp reflects the 360 ms between frames");
        assert!(p.deadline() > stalled && p.deadline() <= stalled + TICK);
        assert_eq!((p.deadline() - t0).as_millis() % 20, 0, "back on the grid");
        // 90 ms late is within tolerance: sent, not skipped.
        let c = p.fire(p.deadline() + Duration::from_millis(90));
        assert_eq!(c.skipped, 0);
    }
}
