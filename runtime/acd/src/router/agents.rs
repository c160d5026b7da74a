//! Agent commands: profile updates, login at an extension, logout, state buttons.

use super::{Phase, Router};
use crate::agent::{Agent, AgentConfig, AgentState, RequestedState};
use crate::error::AcdError;
use crate::supervisor::{SuperviseRequest, SuperviseTarget};

impl Router {
    fn agent(&self, id: &str) -> Result<usize, AcdError> {
        self.agent_idx.get(id).copied().ok_or_else(|| AcdError::UnknownAgent(id.to_string()))
    }

    /// Add an agent or replace an existing agent's profile (skills, wrap-up); state is kept.
    pub fn upsert_agent(&mut self, cfg: AgentConfig, now: u64) {
        match self.agent_idx.get(&cfg.id) {
            Some(&ai) => self.agents[ai].config = cfg,
            None => {
                let ai = self.agents.len();
                self.agent_idx.insert(cfg.id.clone(), ai);
                self.agents.push(Agent::new(cfg, ai as u64, now));
            }
        }
        self.route(now);
    }

    /// Bind the agent to an extension and make them ready (示闲).
    pub fn login(&mut self, id: &str, extension: &str, now: u64) -> Result<(), AcdError> {
        let ai = self.agent(id)?;
        if let Some(other) = self.agents.iter().find(|a| {
            a.config.id != id && a.state != AgentState::LoggedOut && a.extension.as_deref() == Some(extension)
        }) {
            return Err(AcdError::ExtensionInUse { extension: extension.to_string(), agent_id: other.config.id.clone() });
        }
        let a = &mut self.agents[ai];
        if a.state.is_busy_with_call() {
            return Err(AcdError::WrongPhase {
                call_id: a.state_call().unwrap_or_default(),
                what: format!("agent '{id}' is busy with this call; log in again after it"),
            });
        }
        a.extension = Some(extension.to_string());
        a.consecutive_no_answer = 0;
        a.pending = None;
        tracing::info!(agent = id, extension, "agent logged in");
        self.set_agent_state(ai, AgentState::Ready, now);
        self.route(now);
        Ok(())
    }

    /// Log the agent out; during a call, after it (a ringing offer is withdrawn at once).
    pub fn logout(&mut self, id: &str, now: u64) -> Result<(), AcdError> {
        let ai = self.agent(id)?;
        match self.agents[ai].state.clone() {
            AgentState::LoggedOut => Ok(()),
            AgentState::Ringing { call_id } => {
                self.agents[ai].pending = Some(AgentState::LoggedOut);
                self.withdraw_for_agent(&call_id, now);
                Ok(())
            }
            AgentState::OnCall { .. } | AgentState::WrapUp { .. } => {
                self.agents[ai].pending = Some(AgentState::LoggedOut);
                Ok(())
            }
            _ => {
                self.set_agent_state(ai, AgentState::LoggedOut, now);
                self.agents[ai].extension = None;
                Ok(())
            }
        }
    }

    fn withdraw_for_agent(&mut self, call_id: &str, now: u64) {
        if self.calls.get(call_id).is_some_and(|c| matches!(c.phase, Phase::Offering { .. })) {
            self.withdraw_offer(call_id, now);
            self.route(now);
        }
    }

    /// An agent's state button. While the ACD owns the agent the request waits for the call's
    /// end; during wrap-up it ends the wrap-up now.
    pub fn set_state(&mut self, id: &str, req: RequestedState, now: u64) -> Result<(), AcdError> {
        let ai = self.agent(id)?;
        let Some(to) = req.into_state() else { return self.hold_wrap_up(ai, id) };
        match self.agents[ai].state {
            AgentState::LoggedOut => return Err(AcdError::NotLoggedIn(id.to_string())),
            AgentState::Ringing { .. } | AgentState::OnCall { .. } => {
                self.agents[ai].pending = if to == AgentState::Ready { None } else { Some(to) };
                return Ok(());
            }
            AgentState::WrapUp { .. } => {
                self.finish_wrap_up(ai, Some(to), now);
                return Ok(());
            }
            _ => {}
        }
        if to == AgentState::Ready {
            self.agents[ai].consecutive_no_answer = 0;
        }
        self.set_agent_state(ai, to, now);
        self.route(now);
        Ok(())
    }

    /// 话后 button: keep the current (or the coming) wrap-up open until the agent picks a state.
    fn hold_wrap_up(&mut self, ai: usize, id: &str) -> Result<(), AcdError> {
        let a = &mut self.agents[ai];
        match &mut a.state {
            AgentState::WrapUp { until_ms, .. } => {
                *until_ms = u64::MAX;
                // The pending wrap-up timer is now stale.
                a.wrap_gen += 1;
                Ok(())
            }
            AgentState::OnCall { .. } => {
                a.hold_wrap = true;
                Ok(())
            }
            AgentState::LoggedOut => Err(AcdError::NotLoggedIn(id.to_string())),
            _ => Err(AcdError::NoCallToWrapUp(id.to_string())),
        }
    }

    /// Validate a supervision request: the agent must be on a call.
    pub fn supervise_target(&self, req: SuperviseRequest) -> Result<SuperviseTarget, AcdError> {
        let ai = self.agent(&req.agent_id)?;
        let a = &self.agents[ai];
        match &a.state {
            AgentState::OnCall { call_id } => Ok(SuperviseTarget {
                agent_extension: a.extension.clone().unwrap_or_default(),
                call_id: call_id.clone(),
                request: req,
            }),
            _ => Err(AcdError::AgentNotOnCall(req.agent_id)),
        }
    }

    /// Remember who served a caller (e.g. seeded from CDR history at start-up).
    pub fn remember_agent(&mut self, caller: &str, agent_id: &str) -> Result<(), AcdError> {
        let ai = self.agent(agent_id)?;
        self.last_agent.insert(caller.to_string(), ai);
        Ok(())
    }
}

impl Agent {
    fn state_call(&self) -> Option<String> {
        match &self.state {
            AgentState::Ringing { call_id } | AgentState::OnCall { call_id } | AgentState::WrapUp { call_id, .. } => {
                Some(call_id.clone())
            }
            _ => None,
        }
    }
}
