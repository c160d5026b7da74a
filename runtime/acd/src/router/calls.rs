//! A call's life in the ACD: enqueue, offers ending, abandon, max wait / overflow, end, wrap-up.

use std::collections::HashMap;

use tokio::sync::mpsc;

use super::{Call, Effect, Phase, Router, Timer};
use crate::agent::AgentState;
use crate::announce;
use crate::dialer::RingResult;
use crate::error::AcdError;
use crate::events::AcdEvent;
use crate::missed::{MissedCall, MissedReason};
use crate::queue::{CallRef, OverflowTarget, QueueEvent, QueueTicket, order_key};
use crate::stats::{CallOutcome, CallRecord, OfferRecord, OfferResult};

impl Router {
    /// Put a call in a queue; the ticket streams its events.
    pub fn enqueue(&mut self, call: CallRef, queue: &str, now: u64) -> Result<QueueTicket, AcdError> {
        let qi = *self.queue_idx.get(queue).ok_or_else(|| AcdError::UnknownQueue(queue.to_string()))?;
        if self.calls.contains_key(&call.call_id) {
            return Err(AcdError::DuplicateCall(call.call_id));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let ticket = QueueTicket { call_id: call.call_id.clone(), rx };
        self.seq += 1;
        let key = order_key(&call, now, self.seq);
        let c = Call {
            call,
            queue: qi,
            seq: self.seq,
            key,
            enqueued_ms: now,
            phase: Phase::Waiting,
            excluded: HashMap::new(),
            sticky: None,
            ticket: tx,
            expired: false,
            answered_ms: 0,
            hold_since: None,
            hold_ms: 0,
            callback: false,
        };
        self.place(c, now);
        Ok(ticket)
    }

    /// Insert a call into its (possibly new) queue: sticky reservation, timers, first events.
    fn place(&mut self, mut c: Call, now: u64) {
        let qi = c.queue;
        let q = &self.queues[qi].cfg;
        let reqs = self.requirements(&c);
        let id = c.call.call_id.clone();
        if let Some(secs) = q.sticky_secs {
            let preferred = c.call.preferred_agent.as_ref().and_then(|a| self.agent_idx.get(a).copied());
            let sticky = preferred.or_else(|| self.last_agent.get(&c.call.caller).copied());
            if let Some(ai) = sticky
                && self.can_serve(ai, &c, &reqs)
            {
                c.sticky = Some((ai, now + secs * 1000));
                self.timers.push(now + secs * 1000, Timer::Reroute);
            }
        }
        let anyone = (0..self.agents.len())
            .any(|ai| self.agents[ai].state != AgentState::LoggedOut && self.can_serve(ai, &c, &reqs));
        if q.leave_when_empty && !anyone {
            tracing::info!(call_id = %id, queue = %q.name, "no agent logged in who could serve the call");
            self.calls.insert(id.clone(), c);
            self.leave_queue(&id, CallOutcome::Timeout, now);
            return;
        }
        if let Some(secs) = q.max_wait_secs {
            self.timers.push(now + secs * 1000, Timer::MaxWait { call_id: id.clone(), seq: c.seq });
        }
        if q.announce.enabled {
            self.timers.push(now + q.announce.first_after_secs * 1000, Timer::Announce { call_id: id.clone(), seq: c.seq });
        }
        let (queue, caller, class, priority) = (q.name.clone(), c.call.caller.clone(), c.call.class(), c.call.priority);
        self.order.insert(c.key, (qi, id.clone()));
        self.calls.insert(id.clone(), c);
        let (position, est) = self.position(&id).unwrap_or((1, 0));
        if let Some(c) = self.calls.get(&id) {
            let _ = c.ticket.send(QueueEvent::Queued { position, est_wait_secs: est });
        }
        self.emit(AcdEvent::CallQueued { at_ms: now, call_id: id, queue, caller, class, priority, position });
        self.route(now);
    }

    /// 1-based position of a queued call in its queue, and its estimated wait in seconds.
    pub fn position(&self, call_id: &str) -> Option<(usize, u64)> {
        let c = self.calls.get(call_id)?;
        if !matches!(c.phase, Phase::Waiting | Phase::Offering { .. }) {
            return None;
        }
        let qi = c.queue;
        let position = 1 + self.order.range(..c.key).filter(|(_, (q, _))| *q == qi).count();
        let serving = (0..self.agents.len())
            .filter(|&ai| {
                matches!(
                    self.agents[ai].state,
                    AgentState::Ready | AgentState::Ringing { .. } | AgentState::OnCall { .. } | AgentState::WrapUp { .. }
                ) && self.serves_queue(ai, qi)
            })
            .count();
        let q = &self.queues[qi];
        let aht = q.recent.average_or(q.cfg.default_aht_secs as f64);
        Some((position, announce::estimate_wait_secs(position, aht, serving)))
    }

    /// Remove a call from the queue phase with a final outcome (not `Answered`).
    fn leave_queue(&mut self, id: &str, outcome: CallOutcome, now: u64) {
        let Some(c) = self.calls.remove(id) else { return };
        self.order.remove(&c.key);
        if c.callback {
            return; // the caller left earlier; its passage is already recorded
        }
        self.record_exit(&c, outcome, now);
    }

    /// Record how a caller left the queue: call record, events, missed-call entry.
    fn record_exit(&mut self, c: &Call, outcome: CallOutcome, now: u64) {
        let id = c.call.call_id.as_str();
        let q = &self.queues[c.queue].cfg;
        let queue = q.name.clone();
        let wait_ms = now.saturating_sub(c.enqueued_ms);
        let short = wait_ms < q.short_abandon_secs * 1000;
        self.history.push_call(CallRecord {
            call_id: id.to_string(),
            queue: queue.clone(),
            caller: c.call.caller.clone(),
            enqueued_ms: c.enqueued_ms,
            left_ms: now,
            outcome: outcome.clone(),
            agent_id: None,
            talk_ms: 0,
            hold_ms: 0,
            wrap_ms: 0,
            handled: false,
            callback: false,
        });
        let (call_id, caller) = (id.to_string(), c.call.caller.clone());
        let reason = match outcome {
            CallOutcome::Abandoned => {
                self.emit(AcdEvent::CallAbandoned { at_ms: now, call_id: call_id.clone(), queue: queue.clone(), caller: caller.clone(), wait_ms });
                MissedReason::Abandoned
            }
            CallOutcome::Timeout => {
                let _ = c.ticket.send(QueueEvent::Timeout);
                self.emit(AcdEvent::CallTimedOut { at_ms: now, call_id: call_id.clone(), queue: queue.clone(), wait_ms });
                MissedReason::Timeout
            }
            CallOutcome::CallbackRequested => {
                self.emit(AcdEvent::CallbackRequested { at_ms: now, call_id: call_id.clone(), queue: queue.clone(), caller: caller.clone() });
                MissedReason::CallbackRequested
            }
            CallOutcome::Overflowed => MissedReason::Overflow,
            CallOutcome::Answered => return,
        };
        let missed = MissedCall {
            call_id,
            caller,
            queue,
            at_ms: now,
            waited_ms: wait_ms,
            reason,
            short: reason == MissedReason::Abandoned && short,
            called_back: false,
        };
        self.missed.push(missed.clone());
        self.emit(AcdEvent::MissedCallRecorded { at_ms: now, missed });
    }

    /// Withdraw a ringing offer without counting it against the agent.
    pub(super) fn withdraw_offer(&mut self, id: &str, now: u64) {
        let Some(c) = self.calls.get_mut(id) else { return };
        if let Phase::Offering { agent, attempt } = c.phase {
            c.phase = Phase::Waiting;
            self.effects.push(Effect::CancelRing(attempt));
            self.record_offer(id, agent, OfferResult::Withdrawn, now);
            self.agent_available(agent, now);
        }
    }

    fn record_offer(&mut self, id: &str, ai: usize, result: OfferResult, now: u64) {
        let agent_id = self.agents[ai].config.id.clone();
        // The offer started when the agent entered Ringing.
        let at_ms = self.agents[ai].since_ms;
        self.history.push_offer(OfferRecord { call_id: id.to_string(), agent_id: agent_id.clone(), at_ms, result });
        if result != OfferResult::Answered {
            self.emit(AcdEvent::OfferEnded { at_ms: now, call_id: id.to_string(), agent_id, result });
        }
    }

    /// After an offer that did not connect: the agent's pending state, or ready.
    fn agent_available(&mut self, ai: usize, now: u64) {
        let next = self.agents[ai].pending.take().unwrap_or(AgentState::Ready);
        if next == AgentState::LoggedOut {
            self.set_agent_state(ai, next, now);
            self.agents[ai].extension = None;
        } else {
            self.set_agent_state(ai, next, now);
        }
    }

    /// The caller hung up (while waiting, ringing an agent, or — as a courtesy — while connected).
    pub fn caller_left(&mut self, id: &str, now: u64) -> Result<(), AcdError> {
        let Some(c) = self.calls.get(id) else { return self.ended_already(id) };
        if c.callback && !matches!(c.phase, Phase::Connected { .. }) {
            // The runtime cancels a kept-place callback (e.g. the resident called again).
            self.withdraw_offer(id, now);
            self.leave_queue(id, CallOutcome::CallbackRequested, now);
            self.route(now);
            return Ok(());
        }
        match c.phase {
            Phase::Connected { .. } => return self.call_ended(id, now),
            Phase::Offering { .. } => self.withdraw_offer(id, now),
            Phase::Waiting => {}
        }
        self.leave_queue(id, CallOutcome::Abandoned, now);
        self.route(now);
        Ok(())
    }

    /// A hang-up reported for a call already ended: fine while its agent is still wrapping it up.
    fn ended_already(&self, id: &str) -> Result<(), AcdError> {
        let wrapping = self.agents.iter().any(|a| matches!(&a.state, AgentState::WrapUp { call_id, .. } if call_id == id));
        if wrapping { Ok(()) } else { Err(AcdError::UnknownCall(id.to_string())) }
    }

    /// Transfer a connected call to a queue: the agent's part ends (wrap-up) and the caller is
    /// queued again with the same data; the new ticket replaces the old one.
    pub fn transfer_to_queue(&mut self, id: &str, queue: &str, now: u64) -> Result<QueueTicket, AcdError> {
        let c = self.calls.get(id).ok_or_else(|| AcdError::UnknownCall(id.to_string()))?;
        if !matches!(c.phase, Phase::Connected { .. }) {
            return Err(AcdError::WrongPhase { call_id: id.into(), what: "only a connected call can be transferred".into() });
        }
        if !self.queue_idx.contains_key(queue) {
            return Err(AcdError::UnknownQueue(queue.to_string()));
        }
        let call = c.call.clone();
        self.call_ended(id, now)?;
        self.enqueue(call, queue, now)
    }

    /// The caller chose the callback option: they leave the queue, recorded as a callback, not an abandon.
    ///
    /// With `keep_place` the request stays in line where the caller was: when its turn comes an
    /// agent is rung (`RingRequest::callback`), and on answer the ticket gets `Connected` so the
    /// runtime dials the caller back from the agent's leg. The ticket must be kept for that.
    pub fn request_callback(&mut self, id: &str, keep_place: bool, now: u64) -> Result<(), AcdError> {
        let c = self.calls.get(id).ok_or_else(|| AcdError::UnknownCall(id.to_string()))?;
        if c.callback {
            return Ok(()); // asked twice
        }
        match c.phase {
            Phase::Waiting => {}
            Phase::Offering { .. } => self.withdraw_offer(id, now),
            Phase::Connected { .. } => {
                return Err(AcdError::WrongPhase { call_id: id.into(), what: "already connected to an agent".into() });
            }
        }
        if keep_place {
            let Some(mut c) = self.calls.remove(id) else { return Ok(()) };
            self.record_exit(&c, CallOutcome::CallbackRequested, now);
            c.callback = true;
            self.calls.insert(id.to_string(), c);
        } else {
            self.leave_queue(id, CallOutcome::CallbackRequested, now);
        }
        self.route(now);
        Ok(())
    }

    /// The dialer finished ringing attempt `attempt`.
    pub fn ring_done(&mut self, id: &str, attempt: u64, result: RingResult, now: u64) {
        let current = self
            .calls
            .get(id)
            .and_then(|c| match c.phase {
                Phase::Offering { agent, attempt: a } if a == attempt => Some(agent),
                _ => None,
            });
        let Some(ai) = current else {
            // Stale (timed out or withdrawn already). A leg answered too late must be hung up.
            if let RingResult::Answered(leg) = result {
                self.effects.push(Effect::Release(leg));
            }
            return;
        };
        match result {
            RingResult::Answered(leg) => self.answered(id, ai, leg, now),
            RingResult::NoAnswer => self.fail_offer(id, OfferResult::NoAnswer, now),
            RingResult::Rejected => self.fail_offer(id, OfferResult::Rejected, now),
            RingResult::Unreachable => self.fail_offer(id, OfferResult::Unreachable, now),
        }
    }

    fn answered(&mut self, id: &str, ai: usize, leg: crate::dialer::AgentLeg, now: u64) {
        self.record_offer(id, ai, OfferResult::Answered, now);
        let day = self.day(now);
        let a = &mut self.agents[ai];
        a.consecutive_no_answer = 0;
        a.calls_today(day);
        a.calls_today += 1;
        let (agent_id, extension) = (a.config.id.clone(), a.extension.clone().unwrap_or_default());
        self.set_agent_state(ai, AgentState::OnCall { call_id: id.to_string() }, now);
        let Some(c) = self.calls.get_mut(id) else { return };
        c.phase = Phase::Connected { agent: ai };
        c.answered_ms = now;
        let key = c.key;
        let callback = c.callback;
        let (queue, caller, enq) = (self.queues[c.queue].cfg.name.clone(), c.call.caller.clone(), c.enqueued_ms);
        let sent = c.ticket.send(QueueEvent::Connected { agent_id: agent_id.clone(), extension, leg });
        self.order.remove(&key);
        self.last_agent.insert(caller.clone(), ai);
        self.history.push_call(CallRecord {
            call_id: id.to_string(),
            queue: queue.clone(),
            caller: caller.clone(),
            enqueued_ms: enq,
            left_ms: now,
            outcome: CallOutcome::Answered,
            agent_id: Some(agent_id.clone()),
            talk_ms: 0,
            hold_ms: 0,
            wrap_ms: 0,
            handled: false,
            callback,
        });
        self.emit(AcdEvent::CallAnswered { at_ms: now, call_id: id.to_string(), queue, agent_id, caller, wait_ms: now - enq });
        if let Err(mpsc::error::SendError(QueueEvent::Connected { leg, .. })) = sent {
            // Nobody holds the ticket any more: the caller side is gone. Hang up the agent.
            tracing::warn!(call_id = id, "agent answered but the queue ticket was dropped; ending the call");
            self.effects.push(Effect::Release(leg));
            let _ = self.call_ended(id, now);
        }
    }

    /// An offer ended without connecting: count it, free the agent, try the next one.
    pub(super) fn fail_offer(&mut self, id: &str, result: OfferResult, now: u64) {
        let Some(c) = self.calls.get_mut(id) else { return };
        let Phase::Offering { agent: ai, .. } = c.phase else { return };
        c.phase = Phase::Waiting;
        let retry = self.queues[c.queue].cfg.retry_secs * 1000;
        c.excluded.insert(ai, now + retry);
        let expired = c.expired;
        self.timers.push(now + retry, Timer::Reroute);
        self.record_offer(id, ai, result, now);
        match result {
            OfferResult::NoAnswer => {
                let a = &mut self.agents[ai];
                a.consecutive_no_answer += 1;
                let logging_out = a.pending == Some(AgentState::LoggedOut);
                if self.max_no_answer > 0 && a.consecutive_no_answer >= self.max_no_answer && !logging_out {
                    tracing::info!(agent = %a.config.id, misses = a.consecutive_no_answer, "agent set not-ready after missed offers");
                    a.pending = None;
                    self.set_agent_state(ai, AgentState::NotReady { reason: "no-answer".into() }, now);
                } else {
                    self.agent_available(ai, now);
                }
            }
            OfferResult::Unreachable if self.agents[ai].pending != Some(AgentState::LoggedOut) => {
                self.agents[ai].pending = None;
                self.set_agent_state(ai, AgentState::NotReady { reason: "unreachable".into() }, now);
            }
            _ => {
                self.agents[ai].consecutive_no_answer = 0;
                self.agent_available(ai, now);
            }
        }
        if expired {
            self.max_wait_reached(id, now);
        }
        self.route(now);
    }

    /// The queue's maximum wait passed: overflow or time out (after a ringing offer, if any).
    pub(super) fn max_wait_reached(&mut self, id: &str, now: u64) {
        let Some(c) = self.calls.get_mut(id) else { return };
        if c.callback {
            return; // a callback waits for its turn however long it takes
        }
        match c.phase {
            Phase::Offering { .. } => {
                c.expired = true;
                return;
            }
            Phase::Waiting => {}
            _ => return,
        }
        let qi = c.queue;
        let target = self.queues[qi].cfg.overflow.clone();
        let Some(target) = target else {
            self.leave_queue(id, CallOutcome::Timeout, now);
            return;
        };
        let queue = self.queues[qi].cfg.name.clone();
        self.emit(AcdEvent::CallOverflowed { at_ms: now, call_id: id.to_string(), queue, target: target.clone() });
        match &target {
            OverflowTarget::Queue { name } => {
                // Record the passage through this queue, then continue in the target queue.
                let Some(ni) = self.queue_idx.get(name).copied() else { return };
                let Some(mut c) = self.calls.remove(id) else { return };
                self.order.remove(&c.key);
                self.history.push_call(CallRecord {
                    call_id: id.to_string(),
                    queue: self.queues[qi].cfg.name.clone(),
                    caller: c.call.caller.clone(),
                    enqueued_ms: c.enqueued_ms,
                    left_ms: now,
                    outcome: CallOutcome::Overflowed,
                    agent_id: None,
                    talk_ms: 0,
                    hold_ms: 0,
                    wrap_ms: 0,
                    handled: false,
                    callback: false,
                });
                let _ = c.ticket.send(QueueEvent::Overflow { target: target.clone() });
                self.seq += 1;
                c.seq = self.seq;
                c.queue = ni;
                c.enqueued_ms = now;
                c.expired = false;
                c.sticky = None;
                // Keep the original arrival time: the caller has already waited.
                c.key = (c.key.0, c.key.1, c.key.2, self.seq);
                self.place(c, now);
            }
            OverflowTarget::Voicemail | OverflowTarget::Callback => {
                if let Some(c) = self.calls.get(id) {
                    let _ = c.ticket.send(QueueEvent::Overflow { target: target.clone() });
                }
                self.leave_queue(id, CallOutcome::Overflowed, now);
            }
        }
    }

    /// Hold started or stopped on a connected call (hold time counts in AHT, not in talk).
    pub fn hold(&mut self, id: &str, on: bool, now: u64) -> Result<(), AcdError> {
        let c = self.calls.get_mut(id).ok_or_else(|| AcdError::UnknownCall(id.to_string()))?;
        if !matches!(c.phase, Phase::Connected { .. }) {
            return Err(AcdError::WrongPhase { call_id: id.into(), what: "hold needs a connected call".into() });
        }
        match (on, c.hold_since) {
            (true, None) => c.hold_since = Some(now),
            (false, Some(t)) => {
                c.hold_ms += now - t;
                c.hold_since = None;
            }
            _ => {}
        }
        Ok(())
    }

    /// The bridged call ended: the agent enters wrap-up.
    pub fn call_ended(&mut self, id: &str, now: u64) -> Result<(), AcdError> {
        let Some(c) = self.calls.get_mut(id) else { return self.ended_already(id) };
        let ai = match c.phase {
            Phase::Connected { agent } => agent,
            Phase::Waiting | Phase::Offering { .. } => return self.caller_left(id, now),
        };
        if let Some(t) = c.hold_since.take() {
            c.hold_ms += now - t;
        }
        let hold_ms = c.hold_ms;
        let talk_ms = now.saturating_sub(c.answered_ms).saturating_sub(hold_ms);
        let qi = c.queue;
        // The call leaves the ACD now (its id may be enqueued again, e.g. a transfer to a
        // queue); only the agent's wrap-up remains.
        self.calls.remove(id);
        self.agents[ai].wrap_queue = qi;
        let agent_id = self.agents[ai].config.id.clone();
        if let Some(r) = self.history.answered_mut(id, &agent_id) {
            r.talk_ms = talk_ms;
            r.hold_ms = hold_ms;
        }
        self.emit(AcdEvent::CallEnded { at_ms: now, call_id: id.to_string(), agent_id, talk_ms, hold_ms });
        let wrap_secs = self.agents[ai].config.wrap_up_secs.unwrap_or(self.queues[qi].cfg.wrap_up_secs);
        let held = std::mem::take(&mut self.agents[ai].hold_wrap);
        let until = if held { u64::MAX } else { now + wrap_secs * 1000 };
        self.set_agent_state(ai, AgentState::WrapUp { call_id: id.to_string(), until_ms: until }, now);
        self.agents[ai].wrap_gen += 1;
        if held {
            // Held open by the agent (话后): only a state button ends it.
        } else if wrap_secs == 0 {
            self.finish_wrap_up(ai, None, now);
        } else {
            let generation = self.agents[ai].wrap_gen;
            self.timers.push(until, Timer::WrapUpEnd { agent: ai, generation });
        }
        Ok(())
    }

    /// End an agent's wrap-up (timer, or the agent pressed a state button): record the handled
    /// call and move the agent to `next` (or their pending state, or ready).
    pub(super) fn finish_wrap_up(&mut self, ai: usize, next: Option<AgentState>, now: u64) {
        let AgentState::WrapUp { call_id, .. } = self.agents[ai].state.clone() else { return };
        let wrap_ms = now.saturating_sub(self.agents[ai].since_ms);
        let agent_id = self.agents[ai].config.id.clone();
        if let Some(r) = self.history.answered_mut(&call_id, &agent_id) {
            r.wrap_ms = wrap_ms;
            r.handled = true;
            let handle = r.talk_ms + r.hold_ms + r.wrap_ms;
            let qi = self.agents[ai].wrap_queue;
            self.queues[qi].recent.push(handle);
        }
        let next = next.or_else(|| self.agents[ai].pending.take()).unwrap_or(AgentState::Ready);
        self.agents[ai].pending = None;
        if next == AgentState::LoggedOut {
            self.set_agent_state(ai, next, now);
            self.agents[ai].extension = None;
        } else {
            self.set_agent_state(ai, next, now);
        }
        self.route(now);
    }
}
