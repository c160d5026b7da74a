//! The router's timers: one heap ordered by deadline, entries checked for staleness when they fire.
//!
//! Cancelling a timer is never needed: each entry names what it was for (call + offer attempt,
//! agent + wrap-up generation, call + queue sequence), and on firing the router ignores entries
//! that no longer match, which is simpler and cheaper than removing them from the heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Phase, Router};
use crate::agent::AgentState;
use crate::announce;
use crate::stats::OfferResult;

/// What a deadline is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The offer `attempt` of the call rang out.
    RingTimeout { call_id: String, attempt: u64 },
    /// The call has waited its queue's maximum (queue sequence `seq`).
    MaxWait { call_id: String, seq: u64 },
    /// Time to announce position / wait to the call (queue sequence `seq`).
    Announce { call_id: String, seq: u64 },
    /// The agent's wrap-up (generation `gen`) is over.
    WrapUpEnd { agent: usize, generation: u64 },
    /// An exclusion or sticky reservation expired: try routing again.
    Reroute,
}

/// Min-heap of (deadline, insertion order, timer).
#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    heap: BinaryHeap<Reverse<(u64, u64, Timer)>>,
    n: u64,
}

impl TimerHeap {
    pub fn push(&mut self, at_ms: u64, t: Timer) {
        self.n += 1;
        self.heap.push(Reverse((at_ms, self.n, t)));
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    fn pop_due(&mut self, now: u64) -> Option<Timer> {
        if self.next_deadline()? <= now { self.heap.pop().map(|Reverse((_, _, t))| t) } else { None }
    }
}

impl Router {
    /// Earliest pending deadline, for the actor's sleep.
    pub fn next_deadline(&self) -> Option<u64> {
        self.timers.next_deadline()
    }

    /// Fire every timer due at `now`.
    pub fn fire_timers(&mut self, now: u64) {
        let mut reroute = false;
        while let Some(t) = self.timers.pop_due(now) {
            match t {
                Timer::RingTimeout { call_id, attempt } => {
                    let ringing = self.calls.get(&call_id).is_some_and(
                        |c| matches!(c.phase, Phase::Offering { attempt: a, .. } if a == attempt),
                    );
                    if ringing {
                        self.effects.push(super::Effect::CancelRing(attempt));
                        self.fail_offer(&call_id, OfferResult::NoAnswer, now);
                    }
                }
                Timer::MaxWait { call_id, seq } => {
                    if self.calls.get(&call_id).is_some_and(|c| c.seq == seq) {
                        self.max_wait_reached(&call_id, now);
                    }
                }
                Timer::Announce { call_id, seq } => self.announce(&call_id, seq, now),
                Timer::WrapUpEnd { agent, generation } => {
                    let a = &self.agents[agent];
                    if a.wrap_gen == generation && matches!(a.state, AgentState::WrapUp { .. }) {
                        self.finish_wrap_up(agent, None, now);
                    }
                }
                Timer::Reroute => reroute = true,
            }
        }
        if reroute {
            self.route(now);
        }
    }

    /// Send a position / wait announcement and schedule the next one.
    fn announce(&mut self, call_id: &str, seq: u64, now: u64) {
        let Some(c) = self.calls.get(call_id) else { return };
        if c.seq != seq || c.callback || !matches!(c.phase, Phase::Waiting | Phase::Offering { .. }) {
            return;
        }
        let cfg = self.queues[c.queue].cfg.announce.clone();
        if let Some((position, est)) = self.position(call_id) {
            let a = announce::announcement(&cfg, position, est);
            let _ = c.ticket.send(crate::queue::QueueEvent::Announcement(a));
        }
        if cfg.every_secs > 0 {
            self.timers.push(now + cfg.every_secs * 1000, Timer::Announce { call_id: call_id.to_string(), seq });
        }
    }
}
