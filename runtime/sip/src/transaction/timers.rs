//! RFC 3261 timer values and one queue that fires every transaction and dialog timer.
//!
//! One task serves an ordered map of deadlines, so tens of thousands of pending timers
//! (Timer J/D/L keep transactions for 32 s on UDP) cost one map entry each, not one task each.
//! Timers are never cancelled: the handler checks the owner's state/generation when they fire.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// T1/T2/T4 (RFC 3261 §17.1.1.1); tests may shorten them.
#[derive(Debug, Clone, Copy)]
pub struct TimerConfig {
    /// RTT estimate, default 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, default 5 s.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64*T1: Timer B, F, H, J, L, M and the 2xx-without-ACK limit.
    pub fn t64(&self) -> Duration {
        self.t1 * 64
    }
}

/// Which timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// INVITE client retransmit.
    A,
    /// INVITE client timeout.
    B,
    /// INVITE client wait for response retransmits after a non-2xx.
    D,
    /// Non-INVITE client retransmit.
    E,
    /// Non-INVITE client timeout.
    F,
    /// INVITE server response retransmit.
    G,
    /// INVITE server wait for ACK.
    H,
    /// INVITE server absorb ACK retransmits.
    I,
    /// Non-INVITE server absorb request retransmits.
    J,
    /// Non-INVITE client absorb response retransmits.
    K,
    /// INVITE server Accepted state end (RFC 6026).
    L,
    /// INVITE client Accepted state end (RFC 6026).
    M,
    /// Dialog: retransmit our 2xx until the ACK arrives (RFC 3261 §13.3.1.4).
    Retransmit2xx,
    /// Dialog: give up waiting for the ACK of our 2xx.
    AckTimeout,
}

/// What a timer refers to.
#[derive(Debug, Clone)]
pub enum TimerTarget {
    /// A server transaction.
    Server(crate::transaction::server::ServerKey),
    /// A client transaction.
    Client(crate::transaction::client::ClientKey),
    /// A dialog (by its id).
    Dialog(crate::dialog::DialogId),
}

/// A scheduled timer.
#[derive(Debug, Clone)]
pub struct TimerEvent {
    /// Owner.
    pub target: TimerTarget,
    /// Kind.
    pub kind: TimerKind,
    /// Owner generation at scheduling time, to ignore stale timers.
    pub epoch: u64,
}

type Queue = BTreeMap<(Instant, u64), TimerEvent>;

/// Handle to the timer task. Scheduling takes a lock and inserts; the task is only woken when
/// the new deadline is earlier than every pending one, which at steady load is rare (most new
/// timers lie 0.5–32 s ahead of the oldest pending one), so a call costs no extra thread wake-ups.
#[derive(Clone)]
pub struct TimerQueue {
    queue: Arc<Mutex<(Queue, u64)>>,
    wake: Arc<Notify>,
}

impl TimerQueue {
    /// Starts the timer task; `fire` runs on it for every due timer.
    pub fn start(fire: Arc<dyn Fn(TimerEvent) + Send + Sync>) -> Self {
        let queue: Arc<Mutex<(Queue, u64)>> = Arc::default();
        let wake = Arc::new(Notify::new());
        let (q, w) = (Arc::downgrade(&queue), wake.clone());
        tokio::spawn(async move {
            let mut due = Vec::new();
            loop {
                let next = match q.upgrade() {
                    Some(q) => q.lock().0.keys().next().map(|k| k.0),
                    None => break,
                };
                tokio::select! {
                    _ = w.notified() => {}
                    _ = async { match next { Some(t) => tokio::time::sleep_until(t).await, None => tokio::time::sleep(std::time::Duration::from_secs(1)).await } } => {}
                }
                let Some(q) = q.upgrade() else { break };
                let now = Instant::now();
                {
                    let mut g = q.lock();
                    while let Some(entry) = g.0.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        due.push(entry.remove());
                    }
                }
                for ev in due.drain(..) {
                    fire(ev);
                }
            }
        });
        TimerQueue { queue, wake }
    }

    /// Schedules `ev` to fire after `after`.
    pub fn schedule(&self, after: Duration, ev: TimerEvent) {
        let at = Instant::now() + after;
        let mut g = self.queue.lock();
        let earliest = g.0.keys().next().is_none_or(|k| at < k.0);
        g.1 += 1;
        let seq = g.1;
        g.0.insert((at, seq), ev);
        drop(g);
        if earliest {
            self.wake.notify_one();
        }
    }
}
