//! KPIs per queue and per agent, with exactly the definitions of the console (issue 10):
//!
//! - **service level** = answered within T ÷ (answered + abandoned after the short-abandon
//!   threshold). "Within T" is wait ≤ T; a short abandon is wait < the short-abandon threshold.
//!   Timeouts, overflows and callback requests are in neither part.
//! - **ASA** = queue wait of answered calls ÷ answered.
//! - **AHT** = (talk + hold + wrap-up) ÷ handled; a call is handled once its wrap-up ended.
//! - **abandonment** = abandoned ÷ queued; callback requests are not abandons. Queued counts every
//!   call that entered the queue and has left it (answered, abandoned, timed out, overflowed,
//!   callback requested).
//! - **occupancy** = handle ÷ (handle + idle); handle = on-call time (talk + hold) + wrap-up time,
//!   idle = ready time including time ringing (the agent was available). Not-ready, break and
//!   logged-out time is in neither.
//!
//! Everything is computed from a [`History`] of [`CallRecord`]s, [`OfferRecord`]s and agent
//! [`StateSpan`]s by pure functions, so a report for any window is reproducible and testable on a
//! constructed history.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Report bucket of an agent state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateKind {
    /// Not logged in.
    LoggedOut,
    /// 示闲.
    Ready,
    /// 示忙.
    NotReady,
    /// 小休.
    Break,
    /// Phone ringing with an offer.
    Ringing,
    /// Talking or holding.
    OnCall,
    /// 话后.
    WrapUp,
}

/// A finished stretch of time an agent spent in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSpan {
    /// Agent id.
    pub agent_id: String,
    /// The state's bucket.
    pub kind: StateKind,
    /// Start (ms since the Unix epoch).
    pub from_ms: u64,
    /// End (exclusive).
    pub to_ms: u64,
}

/// How a call left a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CallOutcome {
    /// An agent answered.
    Answered,
    /// The caller hung up while waiting.
    Abandoned,
    /// Maximum wait passed, or nobody could serve it; no overflow configured.
    Timeout,
    /// Moved on to another queue, voicemail or a callback task after the maximum wait.
    Overflowed,
    /// The caller asked for a callback (not an abandon).
    CallbackRequested,
}

/// One call's passage through one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Call id.
    pub call_id: String,
    /// Queue name.
    pub queue: String,
    /// Caller number.
    pub caller: String,
    /// When the call entered this queue.
    pub enqueued_ms: u64,
    /// When it left the queue (answered, abandoned, timed out ...).
    pub left_ms: u64,
    /// How it left.
    pub outcome: CallOutcome,
    /// Agent who answered.
    pub agent_id: Option<String>,
    /// Talk time (connected time minus hold).
    pub talk_ms: u64,
    /// Hold time.
    pub hold_ms: u64,
    /// Wrap-up time.
    pub wrap_ms: u64,
    /// True once wrap-up has ended: the call counts in AHT.
    pub handled: bool,
    /// An agent's call back of a kept-place callback request. It counts in AHT and the agent's
    /// totals, not in queued/answered/SL/ASA (the request itself was counted as a callback).
    #[serde(default)]
    pub callback: bool,
}

impl CallRecord {
    /// Time spent waiting in the queue.
    pub fn wait_ms(&self) -> u64 {
        self.left_ms.saturating_sub(self.enqueued_ms)
    }
}

/// Result of ringing one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OfferResult {
    /// The agent answered.
    Answered,
    /// Rang until the ring timeout.
    NoAnswer,
    /// The agent declined (busy here / reject button).
    Rejected,
    /// The phone could not be reached (not registered, error).
    Unreachable,
    /// The offer was withdrawn (caller hung up, agent logged out); counts against nobody.
    Withdrawn,
}

/// One offer of a call to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferRecord {
    /// Call id.
    pub call_id: String,
    /// Agent id.
    pub agent_id: String,
    /// When ringing started.
    pub at_ms: u64,
    /// How it ended.
    pub result: OfferResult,
}

/// Everything KPIs are computed from; bounded so a long-running process does not grow forever.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Calls, oldest first.
    pub calls: VecDeque<CallRecord>,
    /// Offers, oldest first.
    pub offers: VecDeque<OfferRecord>,
    /// Agent state spans, oldest first.
    pub spans: VecDeque<StateSpan>,
    /// Maximum entries kept in each list (0 = unbounded).
    pub limit: usize,
}

impl History {
    /// An empty history keeping at most `limit` entries per list.
    pub fn with_limit(limit: usize) -> Self {
        Self { limit, ..Default::default() }
    }

    fn trim<T>(limit: usize, v: &mut VecDeque<T>) {
        while limit > 0 && v.len() > limit {
            v.pop_front();
        }
    }

    /// Add a call record.
    pub fn push_call(&mut self, r: CallRecord) {
        self.calls.push_back(r);
        Self::trim(self.limit, &mut self.calls);
    }

    /// Add an offer record.
    pub fn push_offer(&mut self, r: OfferRecord) {
        self.offers.push_back(r);
        Self::trim(self.limit, &mut self.offers);
    }

    /// Add a state span (zero-length spans are dropped).
    pub fn push_span(&mut self, s: StateSpan) {
        if s.to_ms > s.from_ms {
            self.spans.push_back(s);
            Self::trim(self.limit, &mut self.spans);
        }
    }

    /// The latest record of `call_id` answered by `agent_id` (to fill in talk/hold/wrap-up; a
    /// call transferred to a queue has one answered record per agent).
    pub fn answered_mut(&mut self, call_id: &str, agent_id: &str) -> Option<&mut CallRecord> {
        self.calls.iter_mut().rev().find(|r| {
            r.call_id == call_id && r.outcome == CallOutcome::Answered && r.agent_id.as_deref() == Some(agent_id)
        })
    }
}

/// A half-open time window `[from_ms, to_ms)`; calls belong to it by their enqueue time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Start (inclusive).
    pub from_ms: u64,
    /// End (exclusive).
    pub to_ms: u64,
}

impl Window {
    /// Everything.
    pub const ALL: Window = Window { from_ms: 0, to_ms: u64::MAX };

    fn contains(&self, t: u64) -> bool {
        t >= self.from_ms && t < self.to_ms
    }

    fn overlap(&self, from: u64, to: u64) -> u64 {
        to.min(self.to_ms).saturating_sub(from.max(self.from_ms))
    }
}

/// KPIs of one queue over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct QueueKpis {
    /// Calls that entered (and left) the queue.
    pub queued: u64,
    /// Answered by an agent.
    pub answered: u64,
    /// Answered with wait ≤ T.
    pub answered_within_threshold: u64,
    /// Caller hung up while waiting (all, including short).
    pub abandoned: u64,
    /// Abandons with wait < the short-abandon threshold.
    pub short_abandoned: u64,
    /// Timed out without overflow.
    pub timed_out: u64,
    /// Overflowed elsewhere.
    pub overflowed: u64,
    /// Callback requested.
    pub callbacks: u64,
    /// Answered calls whose wrap-up ended.
    pub handled: u64,
    /// Service level in 0..=1; `None` when the denominator is 0.
    pub service_level: Option<f64>,
    /// Average speed of answer, seconds.
    pub asa_secs: Option<f64>,
    /// Average handle time, seconds.
    pub aht_secs: Option<f64>,
    /// Abandonment rate in 0..=1.
    pub abandonment: Option<f64>,
    /// Longest wait of an answered call, seconds.
    pub longest_answered_wait_secs: f64,
}

fn ratio(n: f64, d: f64) -> Option<f64> {
    if d > 0.0 { Some(n / d) } else { None }
}

/// Running sums for one queue's KPIs.
#[derive(Default)]
struct QueueAcc {
    k: QueueKpis,
    wait_answered: u64,
    handle: u64,
}

impl QueueAcc {
    fn add(&mut self, r: &CallRecord, t_secs: u64, short_secs: u64) {
        let k = &mut self.k;
        if r.callback {
            if r.handled {
                k.handled += 1;
                self.handle += r.talk_ms + r.hold_ms + r.wrap_ms;
            }
            return;
        }
        k.queued += 1;
        let wait = r.wait_ms();
        match r.outcome {
            CallOutcome::Answered => {
                k.answered += 1;
                self.wait_answered += wait;
                k.longest_answered_wait_secs = k.longest_answered_wait_secs.max(wait as f64 / 1000.0);
                if wait <= t_secs * 1000 {
                    k.answered_within_threshold += 1;
                }
                if r.handled {
                    k.handled += 1;
                    self.handle += r.talk_ms + r.hold_ms + r.wrap_ms;
                }
            }
            CallOutcome::Abandoned => {
                k.abandoned += 1;
                if wait < short_secs * 1000 {
                    k.short_abandoned += 1;
                }
            }
            CallOutcome::Timeout => k.timed_out += 1,
            CallOutcome::Overflowed => k.overflowed += 1,
            CallOutcome::CallbackRequested => k.callbacks += 1,
        }
    }

    fn finish(self) -> QueueKpis {
        let mut k = self.k;
        let sl_denominator = k.answered + (k.abandoned - k.short_abandoned);
        k.service_level = ratio(k.answered_within_threshold as f64, sl_denominator as f64);
        k.asa_secs = ratio(self.wait_answered as f64 / 1000.0, k.answered as f64);
        k.aht_secs = ratio(self.handle as f64 / 1000.0, k.handled as f64);
        k.abandonment = ratio(k.abandoned as f64, k.queued as f64);
        k
    }
}

/// Queue KPIs for `queue` (or all queues with `None`) over `window`, with threshold T and the
/// short-abandon threshold in seconds.
pub fn queue_kpis(h: &History, queue: Option<&str>, window: Window, t_secs: u64, short_secs: u64) -> QueueKpis {
    let mut acc = QueueAcc::default();
    for r in h.calls.iter().filter(|r| window.contains(r.enqueued_ms) && queue.is_none_or(|q| r.queue == q)) {
        acc.add(r, t_secs, short_secs);
    }
    acc.finish()
}

/// KPIs of several queues in one pass over the history: `(name, T secs, short-abandon secs)`.
pub fn queue_kpis_many(h: &History, window: Window, queues: &[(&str, u64, u64)]) -> Vec<QueueKpis> {
    let idx: HashMap<&str, usize> = queues.iter().enumerate().map(|(i, q)| (q.0, i)).collect();
    let mut accs: Vec<QueueAcc> = queues.iter().map(|_| QueueAcc::default()).collect();
    for r in h.calls.iter().filter(|r| window.contains(r.enqueued_ms)) {
        if let Some(&i) = idx.get(r.queue.as_str()) {
            accs[i].add(r, queues[i].1, queues[i].2);
        }
    }
    accs.into_iter().map(QueueAcc::finish).collect()
}

/// Per-agent totals and KPIs over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AgentKpis {
    /// Agent id.
    pub agent_id: String,
    /// Offers (rings) started in the window.
    pub offered: u64,
    /// Offers answered.
    pub answered: u64,
    /// Offers that rang out (未接).
    pub no_answer: u64,
    /// Offers the agent rejected.
    pub rejected: u64,
    /// Calls answered by the agent whose wrap-up ended.
    pub handled: u64,
    /// Talk time of handled calls, ms.
    pub talk_ms: u64,
    /// Hold time of handled calls, ms.
    pub hold_ms: u64,
    /// Wrap-up time of handled calls, ms.
    pub wrap_ms: u64,
    /// AHT of handled calls, seconds.
    pub aht_secs: Option<f64>,
    /// Time on call + wrap-up in the window (from state spans), ms.
    pub handle_state_ms: u64,
    /// Time ready or ringing in the window, ms.
    pub idle_ms: u64,
    /// Time not ready, ms.
    pub not_ready_ms: u64,
    /// Time on break, ms.
    pub break_ms: u64,
    /// Occupancy = handle ÷ (handle + idle), from state time in the window.
    pub occupancy: Option<f64>,
}

/// KPIs of `agent_id` over `window`; `open` is the agent's current, unfinished span if any.
pub fn agent_kpis(h: &History, agent_id: &str, window: Window, open: Option<&StateSpan>) -> AgentKpis {
    let opens: Vec<StateSpan> = open.into_iter().cloned().collect();
    agent_kpis_many(h, window, &[agent_id], &opens).pop().unwrap_or_default()
}

/// KPIs of several agents in one pass over the history; `open` are their current spans.
pub fn agent_kpis_many(h: &History, window: Window, agents: &[&str], open: &[StateSpan]) -> Vec<AgentKpis> {
    let idx: HashMap<&str, usize> = agents.iter().enumerate().map(|(i, a)| (*a, i)).collect();
    let mut ks: Vec<AgentKpis> =
        agents.iter().map(|a| AgentKpis { agent_id: a.to_string(), ..Default::default() }).collect();
    for o in h.offers.iter().filter(|o| window.contains(o.at_ms)) {
        let Some(&i) = idx.get(o.agent_id.as_str()) else { continue };
        let k = &mut ks[i];
        k.offered += 1;
        match o.result {
            OfferResult::Answered => k.answered += 1,
            OfferResult::NoAnswer => k.no_answer += 1,
            OfferResult::Rejected => k.rejected += 1,
            OfferResult::Unreachable | OfferResult::Withdrawn => {}
        }
    }
    for r in h.calls.iter().filter(|r| r.handled && window.contains(r.enqueued_ms)) {
        let Some(&i) = r.agent_id.as_deref().and_then(|a| idx.get(a)) else { continue };
        let k = &mut ks[i];
        k.handled += 1;
        k.talk_ms += r.talk_ms;
        k.hold_ms += r.hold_ms;
        k.wrap_ms += r.wrap_ms;
    }
    for s in h.spans.iter().chain(open.iter()) {
        let Some(&i) = idx.get(s.agent_id.as_str()) else { continue };
        let k = &mut ks[i];
        let d = window.overlap(s.from_ms, s.to_ms);
        match s.kind {
            StateKind::OnCall | StateKind::WrapUp => k.handle_state_ms += d,
            StateKind::Ready | StateKind::Ringing => k.idle_ms += d,
            StateKind::NotReady => k.not_ready_ms += d,
            StateKind::Break => k.break_ms += d,
            StateKind::LoggedOut => {}
        }
    }
    for k in &mut ks {
        k.aht_secs = ratio((k.talk_ms + k.hold_ms + k.wrap_ms) as f64 / 1000.0, k.handled as f64);
        k.occupancy = ratio(k.handle_state_ms as f64, (k.handle_state_ms + k.idle_ms) as f64);
    }
    ks
}

/// Live view of one queue for the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    /// Queue name.
    pub name: String,
    /// Calls waiting (including those whose offer is ringing).
    pub waiting: usize,
    /// Of those, calls ringing an agent right now.
    pub offering: usize,
    /// Of those, kept-place callback requests (the caller is not on the line).
    pub callbacks: usize,
    /// Longest current wait, seconds.
    pub longest_wait_secs: f64,
    /// Agents who could serve the queue and are ready.
    pub agents_ready: usize,
    /// Agents who could serve the queue and are logged in.
    pub agents_logged_in: usize,
    /// KPIs of the current local day.
    pub today: QueueKpis,
}

/// Live view of one agent for the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    /// Agent id.
    pub agent_id: String,
    /// Display name.
    pub name: String,
    /// Bound extension, if logged in.
    pub extension: Option<String>,
    /// Current state.
    pub state: crate::agent::AgentState,
    /// Since when (ms since the Unix epoch).
    pub since_ms: u64,
    /// Calls answered today.
    pub calls_today: u32,
    /// KPIs of the current local day.
    pub today: AgentKpis,
}

/// The whole ACD at one moment, for the wallboard's first paint (events update it afterwards).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcdSnapshot {
    /// When taken.
    pub at_ms: u64,
    /// Queues in configuration order.
    pub queues: Vec<QueueSnapshot>,
    /// Agents in registration order.
    pub agents: Vec<AgentSnapshot>,
}
