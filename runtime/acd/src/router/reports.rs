//! Read-only views for the wallboard and reports: snapshot, KPIs, missed calls.

use super::{Phase, Router};
use crate::agent::AgentState;
use crate::error::AcdError;
use crate::missed::MissedCall;
use crate::stats::{self, AcdSnapshot, AgentKpis, AgentSnapshot, QueueKpis, QueueSnapshot, StateSpan, Window};

impl Router {
    /// The agent's current, unfinished state span up to `now`.
    fn open_span(&self, ai: usize, now: u64) -> StateSpan {
        let a = &self.agents[ai];
        StateSpan { agent_id: a.config.id.clone(), kind: a.state.kind(), from_ms: a.since_ms, to_ms: now }
    }

    /// KPIs of a queue (or all queues) over a window, with the queue's thresholds (defaults for all).
    pub fn queue_kpis(&self, queue: Option<&str>, window: Window) -> Result<QueueKpis, AcdError> {
        let (t, short) = match queue {
            Some(q) => {
                let qi = *self.queue_idx.get(q).ok_or_else(|| AcdError::UnknownQueue(q.to_string()))?;
                let c = &self.queues[qi].cfg;
                (c.service_level_secs, c.short_abandon_secs)
            }
            None => {
                let d = crate::queue::QueueConfig::default();
                (d.service_level_secs, d.short_abandon_secs)
            }
        };
        Ok(stats::queue_kpis(&self.history, queue, window, t, short))
    }

    /// KPIs of an agent over a window (time in the current state counted up to `now`).
    pub fn agent_kpis(&self, agent_id: &str, window: Window, now: u64) -> Result<AgentKpis, AcdError> {
        let ai = *self.agent_idx.get(agent_id).ok_or_else(|| AcdError::UnknownAgent(agent_id.to_string()))?;
        let open = self.open_span(ai, now);
        Ok(stats::agent_kpis(&self.history, agent_id, window, Some(&open)))
    }

    /// Everything the wallboard shows, with today's KPIs (one pass over the history).
    pub fn snapshot(&self, now: u64) -> AcdSnapshot {
        let today = Window { from_ms: self.day_start_ms(now), to_ms: u64::MAX };
        let day = self.day(now);
        let mut waiting = vec![0usize; self.queues.len()];
        let mut offering = vec![0usize; self.queues.len()];
        let mut callbacks = vec![0usize; self.queues.len()];
        let mut longest = vec![0u64; self.queues.len()];
        for (qi, id) in self.order.values() {
            if let Some(c) = self.calls.get(id) {
                waiting[*qi] += 1;
                if matches!(c.phase, Phase::Offering { .. }) {
                    offering[*qi] += 1;
                }
                if c.callback {
                    callbacks[*qi] += 1;
                }
                longest[*qi] = longest[*qi].max(now.saturating_sub(c.enqueued_ms));
            }
        }
        let specs: Vec<(&str, u64, u64)> = self
            .queues
            .iter()
            .map(|q| (q.cfg.name.as_str(), q.cfg.service_level_secs, q.cfg.short_abandon_secs))
            .collect();
        let queue_today = stats::queue_kpis_many(&self.history, today, &specs);
        let queues = queue_today
            .into_iter()
            .enumerate()
            .map(|(qi, kpis)| {
                let serving: Vec<usize> = (0..self.agents.len()).filter(|&ai| self.serves_queue(ai, qi)).collect();
                QueueSnapshot {
                    name: self.queues[qi].cfg.name.clone(),
                    waiting: waiting[qi],
                    offering: offering[qi],
                    callbacks: callbacks[qi],
                    longest_wait_secs: longest[qi] as f64 / 1000.0,
                    agents_ready: serving.iter().filter(|&&ai| self.agents[ai].state == AgentState::Ready).count(),
                    agents_logged_in: serving
                        .iter()
                        .filter(|&&ai| self.agents[ai].state != AgentState::LoggedOut)
                        .count(),
                    today: kpis,
                }
            })
            .collect();
        let ids: Vec<&str> = self.agents.iter().map(|a| a.config.id.as_str()).collect();
        let opens: Vec<StateSpan> = (0..self.agents.len()).map(|ai| self.open_span(ai, now)).collect();
        let agent_today = stats::agent_kpis_many(&self.history, today, &ids, &opens);
        let agents = agent_today
            .into_iter()
            .enumerate()
            .map(|(ai, kpis)| {
                let a = &self.agents[ai];
                AgentSnapshot {
                    agent_id: a.config.id.clone(),
                    name: a.config.name.clone(),
                    extension: a.extension.clone(),
                    state: a.state.clone(),
                    since_ms: a.since_ms,
                    calls_today: if a.calls_day == day { a.calls_today } else { 0 },
                    today: kpis,
                }
            })
            .collect();
        AcdSnapshot { at_ms: now, queues, agents }
    }

    /// Missed calls, newest first.
    pub fn missed_calls(&self, only_open: bool) -> Vec<MissedCall> {
        self.missed.list(only_open)
    }

    /// Mark a missed call as called back.
    pub fn mark_called_back(&mut self, call_id: &str) -> Result<(), AcdError> {
        if self.missed.mark_called_back(call_id) { Ok(()) } else { Err(AcdError::UnknownCall(call_id.to_string())) }
    }
}
