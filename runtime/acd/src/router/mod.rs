//! The routing brain: matches waiting calls to ready agents and runs every offer to its end.
//!
//! The router is a plain synchronous state machine owned by the ACD actor. Each input (a command,
//! a ring result, a timer) mutates it and leaves [`Effect`]s — "ring this extension", "stop that
//! ring", "hang up this unusable leg" — which the actor performs asynchronously. Keeping the
//! brain free of `await` makes every decision happen atomically at one clock reading, and makes
//! the rules readable in one place:
//!
//! - A routing pass walks waiting calls in queue order (emergency, VIP, priority, arrival). First,
//!   calls reserved for a sticky agent who is ready get that agent; then every other waiting call
//!   gets the agent its queue's strategy picks among the ready, eligible ones.
//! - An offer rings one agent. Ring timeout → the no-answer is counted and the next agent is
//!   tried; after `max_consecutive_no_answer` misses in a row the agent is set 示忙 "no-answer".
//!   Rejected → the next agent. Unreachable → the agent is set 示忙 "unreachable". An agent who
//!   missed or rejected a call is not offered that same call again for the queue's `retry_secs`.
//! - Answered → the ticket receives `Connected` with the leg; when the lead reports the end of
//!   the bridged call the agent enters 话后 wrap-up, then becomes ready again.

mod agents;
mod calls;
mod reports;
mod timers;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use crate::agent::{Agent, AgentState};
use crate::announce::RecentHandles;
use crate::config::AcdConfig;
use crate::dialer::{AgentLeg, RingRequest};
use crate::error::AcdError;
use crate::events::AcdEvent;
use crate::missed::MissedList;
use crate::queue::{CallRef, OrderKey, OverflowTarget, QueueConfig, QueueEvent, SkillReq};
use crate::stats::History;
use crate::strategy::{self, Candidate};

pub(crate) use timers::Timer;

/// Work the actor performs after the router has decided.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Start ringing (spawn `AgentDialer::ring`).
    Ring(Box<RingRequest>),
    /// Stop ringing: drop the ring future of this attempt.
    CancelRing(u64),
    /// Hang up a leg nobody can use.
    Release(AgentLeg),
}

/// A queue with its live routing state.
#[derive(Debug)]
pub(crate) struct QueueRt {
    pub cfg: QueueConfig,
    pub rr_last: Option<u64>,
    pub recent: RecentHandles,
}

/// Where a call is in its life inside the ACD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Waiting,
    Offering { agent: usize, attempt: u64 },
    Connected { agent: usize },
}

/// A call the ACD knows about.
#[derive(Debug)]
pub(crate) struct Call {
    pub call: CallRef,
    pub queue: usize,
    /// Changes when the call moves queue, so timers of the old queue are ignored.
    pub seq: u64,
    pub key: OrderKey,
    /// Entered the current queue (for its statistics).
    pub enqueued_ms: u64,
    pub phase: Phase,
    /// Agents not to offer this call to until the given time.
    pub excluded: HashMap<usize, u64>,
    /// Reserved for this agent until the given time (sticky agent).
    pub sticky: Option<(usize, u64)>,
    pub ticket: mpsc::UnboundedSender<QueueEvent>,
    /// Max wait passed while an offer was ringing: act when the offer fails.
    pub expired: bool,
    pub answered_ms: u64,
    pub hold_since: Option<u64>,
    pub hold_ms: u64,
    /// The caller hung up after asking for a callback that keeps their place in line.
    pub callback: bool,
}

/// The ACD's whole state.
pub(crate) struct Router {
    pub max_no_answer: u32,
    pub utc_offset_ms: i64,
    pub queues: Vec<QueueRt>,
    pub queue_idx: HashMap<String, usize>,
    pub agents: Vec<Agent>,
    pub agent_idx: HashMap<String, usize>,
    pub calls: HashMap<String, Call>,
    /// Calls in the queue phase (waiting or ringing an agent), in service order.
    pub order: BTreeMap<OrderKey, (usize, String)>,
    pub timers: timers::TimerHeap,
    pub history: History,
    pub missed: MissedList,
    /// Caller number → agent who served them last (sticky agent).
    pub last_agent: HashMap<String, usize>,
    pub events: broadcast::Sender<AcdEvent>,
    pub effects: Vec<Effect>,
    pub seq: u64,
    pub attempt_seq: u64,
}

impl Router {
    /// Build from config, validating names and overflow targets.
    pub fn new(cfg: AcdConfig, now: u64, events: broadcast::Sender<AcdEvent>) -> Result<Self, AcdError> {
        let mut r = Router {
            max_no_answer: cfg.max_consecutive_no_answer,
            utc_offset_ms: cfg.utc_offset_hours as i64 * 3_600_000,
            queues: Vec::new(),
            queue_idx: HashMap::new(),
            agents: Vec::new(),
            agent_idx: HashMap::new(),
            calls: HashMap::new(),
            order: BTreeMap::new(),
            timers: timers::TimerHeap::default(),
            history: History::with_limit(cfg.history_limit),
            missed: MissedList::new(cfg.missed_limit),
            last_agent: HashMap::new(),
            events,
            effects: Vec::new(),
            seq: 0,
            attempt_seq: 0,
        };
        for q in cfg.queues {
            if q.name.is_empty() {
                return Err(AcdError::InvalidConfig("a queue has an empty name".into()));
            }
            if r.queue_idx.insert(q.name.clone(), r.queues.len()).is_some() {
                return Err(AcdError::InvalidConfig(format!("queue '{}' is configured twice", q.name)));
            }
            r.queues.push(QueueRt { cfg: q, rr_last: None, recent: RecentHandles::default() });
        }
        for q in &r.queues {
            if let Some(OverflowTarget::Queue { name }) = &q.cfg.overflow
                && !r.queue_idx.contains_key(name)
            {
                return Err(AcdError::InvalidConfig(format!(
                    "queue '{}' overflows to queue '{name}', which is not configured",
                    q.cfg.name
                )));
            }
        }
        let mut seen = HashSet::new();
        for a in cfg.agents {
            if a.id.is_empty() || !seen.insert(a.id.clone()) {
                return Err(AcdError::InvalidConfig(format!("agent id '{}' is empty or duplicated", a.id)));
            }
            r.upsert_agent(a, now);
        }
        Ok(r)
    }

    pub fn emit(&self, e: AcdEvent) {
        // No subscriber is fine: the wallboard may not be open.
        let _ = self.events.send(e);
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Local day number (for "calls today").
    pub fn day(&self, now: u64) -> i64 {
        (now as i64 + self.utc_offset_ms).div_euclid(86_400_000)
    }

    /// Start of the local day containing `now`, ms since the Unix epoch.
    pub fn day_start_ms(&self, now: u64) -> u64 {
        (self.day(now) * 86_400_000 - self.utc_offset_ms).max(0) as u64
    }

    /// Skills a call needs: the queue's, the call's own, and the estate skill if configured.
    fn requirements(&self, c: &Call) -> Vec<SkillReq> {
        let q = &self.queues[c.queue].cfg;
        let mut reqs = q.skills.clone();
        reqs.extend(c.call.skills.iter().cloned());
        if q.estate_skill
            && let Some(e) = &c.call.estate
        {
            reqs.push(SkillReq::new(format!("estate:{e}"), 1));
        }
        reqs
    }

    /// May agent `ai` ever serve this call (membership and skills; state not considered)?
    pub fn can_serve(&self, ai: usize, c: &Call, reqs: &[SkillReq]) -> bool {
        let q = &self.queues[c.queue].cfg;
        let a = &self.agents[ai];
        (q.members.is_empty() || q.members.contains(&a.config.id)) && a.config.meets(reqs)
    }

    /// May agent `ai` serve queue `qi` in general (membership and the queue's own skills)?
    pub fn serves_queue(&self, ai: usize, qi: usize) -> bool {
        let q = &self.queues[qi].cfg;
        let a = &self.agents[ai];
        (q.members.is_empty() || q.members.contains(&a.config.id)) && a.config.meets(&q.skills)
    }

    /// Change an agent's state, recording the span and broadcasting the change.
    pub fn set_agent_state(&mut self, ai: usize, to: AgentState, now: u64) {
        if self.agents[ai].state == to {
            return;
        }
        let (from, span) = self.agents[ai].transition(to.clone(), now);
        self.history.push_span(span);
        let a = &self.agents[ai];
        self.emit(AcdEvent::AgentStateChanged {
            at_ms: now,
            agent_id: a.config.id.clone(),
            extension: a.extension.clone(),
            from,
            to,
        });
    }

    /// One routing pass: offer waiting calls to ready agents.
    pub fn route(&mut self, now: u64) {
        let mut ready: Vec<usize> = (0..self.agents.len())
            .filter(|&i| self.agents[i].state == AgentState::Ready && self.agents[i].extension.is_some())
            .collect();
        if ready.is_empty() || self.order.is_empty() {
            return;
        }
        let day = self.day(now);
        let mut decisions: Vec<(String, usize)> = Vec::new();
        let mut decided: HashSet<&str> = HashSet::new();
        // Pass 1: sticky reservations whose agent is ready take that agent before anyone else.
        for (_, id) in self.order.values() {
            let c = &self.calls[id];
            if c.phase != Phase::Waiting {
                continue;
            }
            if let Some((ai, until)) = c.sticky
                && until > now
                && let Some(pos) = ready.iter().position(|&r| r == ai)
                && c.excluded.get(&ai).is_none_or(|&t| t <= now)
                && self.can_serve(ai, c, &self.requirements(c))
            {
                ready.swap_remove(pos);
                decisions.push((id.clone(), ai));
                decided.insert(id.as_str());
            }
        }
        // Pass 2: everyone else by the queue's strategy.
        let mut rr_last: HashMap<usize, Option<u64>> = HashMap::new();
        // Per queue: does any ready agent serve it at all? A "no" stays true for the whole pass
        // (the ready list only shrinks), which lets calls of fully busy queues be skipped cheaply.
        let mut queue_open: Vec<Option<bool>> = vec![None; self.queues.len()];
        for (qi, id) in self.order.values() {
            if ready.is_empty() {
                break;
            }
            let c = &self.calls[id];
            if c.phase != Phase::Waiting || decided.contains(id.as_str()) {
                continue;
            }
            if c.sticky.is_some_and(|(_, until)| until > now) {
                continue; // reserved for its sticky agent for a little longer
            }
            let open = *queue_open[*qi].get_or_insert_with(|| ready.iter().any(|&ai| self.serves_queue(ai, *qi)));
            if !open {
                continue;
            }
            let reqs = self.requirements(c);
            let mut cand_pos = Vec::new();
            let mut cands = Vec::new();
            for (p, &ai) in ready.iter().enumerate() {
                if c.excluded.get(&ai).is_some_and(|&t| t > now) || !self.can_serve(ai, c, &reqs) {
                    continue;
                }
                let a = &self.agents[ai];
                cand_pos.push(p);
                cands.push(Candidate {
                    ordinal: a.ordinal,
                    idle_since_ms: a.idle_since_ms,
                    calls_today: if a.calls_day == day { a.calls_today } else { 0 },
                    skill_score: a.config.score(&reqs),
                });
            }
            let last = *rr_last.entry(*qi).or_insert(self.queues[*qi].rr_last);
            if let Some(i) = strategy::choose(self.queues[*qi].cfg.strategy, &cands, last) {
                let ai = ready.swap_remove(cand_pos[i]);
                rr_last.insert(*qi, Some(self.agents[ai].ordinal));
                decisions.push((id.clone(), ai));
            }
        }
        for (id, ai) in decisions {
            self.offer(&id, ai, now);
        }
    }

    /// Ring agent `ai` for call `id`.
    fn offer(&mut self, id: &str, ai: usize, now: u64) {
        self.attempt_seq += 1;
        let attempt = self.attempt_seq;
        let Some(c) = self.calls.get_mut(id) else { return };
        c.phase = Phase::Offering { agent: ai, attempt };
        let qi = c.queue;
        let call = c.call.clone();
        let callback = c.callback;
        let waited_secs = now.saturating_sub(c.enqueued_ms) / 1000;
        let q = &mut self.queues[qi];
        q.rr_last = Some(self.agents[ai].ordinal);
        let timeout = Duration::from_secs(q.cfg.ring_timeout_secs);
        let queue = q.cfg.name.clone();
        let extension = self.agents[ai].extension.clone().unwrap_or_default();
        let agent_id = self.agents[ai].config.id.clone();
        self.set_agent_state(ai, AgentState::Ringing { call_id: id.to_string() }, now);
        tracing::debug!(call_id = id, agent = %agent_id, %extension, attempt, "offer");
        self.emit(AcdEvent::OfferStarted {
            at_ms: now,
            call_id: id.to_string(),
            queue: queue.clone(),
            agent_id: agent_id.clone(),
            extension: extension.clone(),
            caller: call.caller.clone(),
            data_ref: call.data_ref.clone(),
            waited_secs,
        });
        if let Some(c) = self.calls.get(id) {
            let _ = c.ticket.send(QueueEvent::Ringing { agent_id: agent_id.clone(), extension: extension.clone() });
        }
        self.timers.push(now + timeout.as_millis() as u64, Timer::RingTimeout { call_id: id.to_string(), attempt });
        self.effects.push(Effect::Ring(Box::new(RingRequest { attempt, agent_id, extension, queue, call, timeout, callback })));
    }
}
