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

    /// Everything the wallboard shows, with today's KPIs.
    pub fn snapshot(&self, now: u64) -> AcdSnapshot {
        let today = Window { from_ms: self.day_start_ms(now), to_ms: u64::MAX };
        let day = self.day(now);
        let queues = self
            .queues
            .iter()
            .enumerate()
            .map(|(qi, q)| {
                let mut waiting = 0;
                let mut offering = 0;
                let mut longest = 0u64;
                for (_, id) in self.order.values().filter(|(i, _)| *i == qi) {
                    if let Some(c) = self.calls.get(id) {
                        waiting += 1;
                        if matches!(c.phase, Phase::Offering { .. }) {
                            offering += 1;
                        }
                        longest = longest.max(now.saturating_sub(c.enqueued_ms));
                    }
                }
                let serving: Vec<usize> = (0..self.agents.len()).filter(|&ai| self.serves_queue(ai, qi)).collect();
                QueueSnapshot {
                    name: q.cfg.name.clone(),
                    waiting,
                    offering,
                    longest_wait_secs: longest as f64 / 1000.0,
                    agents_ready: serving.iter().filter(|&&ai| self.agents[ai].state == AgentState::Ready).count(),
                    agents_logged_in: serving
                        .iter()
                        .filter(|&&ai| self.agents[ai].state != AgentState::LoggedOut)
                        .count(),
                    today: stats::queue_kpis(
                        &self.history,
                        Some(&q.cfg.name),
                        today,
                        q.cfg.service_level_secs,
                        q.cfg.short_abandon_secs,
                    ),
                }
            })
            .collect();
        let agents = (0..self.agents.len())
            .map(|ai| {
                let a = &self.agents[ai];
                let open = self.open_span(ai, now);
                AgentSnapshot {
                    agent_id: a.config.id.clone(),
                    name: a.config.name.clone(),
                    extension: a.extension.clone(),
                    state: a.state.clone(),
                    since_ms: a.since_ms,
                    calls_today: if a.calls_day == day { a.calls_today } else { 0 },
                    today: stats::agent_kpis(&self.history, &a.config.id, today, Some(&open)),
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
