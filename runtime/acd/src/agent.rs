//! Agents: who they are (skills with levels), which phone they sit at, and their state machine.
//!
//! States follow the console's buttons: 示闲 [`Ready`](AgentState::Ready), 示忙
//! [`NotReady`](AgentState::NotReady) with a reason, 小休 [`Break`](AgentState::Break), plus the
//! states the ACD drives: [`Ringing`](AgentState::Ringing), [`OnCall`](AgentState::OnCall), 话后
//! [`WrapUp`](AgentState::WrapUp) and [`LoggedOut`](AgentState::LoggedOut). Every change is
//! timestamped and becomes a [`StateSpan`](crate::stats::StateSpan) in the history, which is what
//! occupancy and per-agent reports are computed from.
//!
//! A state the agent asks for while the ACD owns them (ringing, on a call, in wrap-up) is kept as
//! *pending* and applied when the call is done: pressing 示忙 during a call means "no new calls
//! after this one", not "drop this one".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::queue::SkillReq;
use crate::stats::{StateKind, StateSpan};

/// What an agent is doing; serialized for the wallboard as `{"state":"not-ready","reason":".."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum AgentState {
    /// Not logged in: never offered calls.
    LoggedOut,
    /// 示闲: available for the next call.
    Ready,
    /// 示忙: logged in but not taking calls, with a reason (e.g. "会议", "no-answer").
    NotReady {
        /// Why; "no-answer" and "unreachable" are set by the ACD itself.
        reason: String,
    },
    /// 小休: a short break.
    Break,
    /// The agent's phone is ringing with this call.
    Ringing {
        /// The offered call.
        call_id: String,
    },
    /// Talking (or holding) with this call's caller.
    OnCall {
        /// The connected call.
        call_id: String,
    },
    /// 话后: after-call work; becomes ready at `until_ms` unless the agent presses 示闲 earlier.
    WrapUp {
        /// The call being wrapped up.
        call_id: String,
        /// When wrap-up ends by itself (ms since the Unix epoch); `u64::MAX` while the agent
        /// holds it open (话后 button).
        until_ms: u64,
    },
}

impl AgentState {
    /// The report bucket this state's time falls into.
    pub fn kind(&self) -> StateKind {
        match self {
            AgentState::LoggedOut => StateKind::LoggedOut,
            AgentState::Ready => StateKind::Ready,
            AgentState::NotReady { .. } => StateKind::NotReady,
            AgentState::Break => StateKind::Break,
            AgentState::Ringing { .. } => StateKind::Ringing,
            AgentState::OnCall { .. } => StateKind::OnCall,
            AgentState::WrapUp { .. } => StateKind::WrapUp,
        }
    }

    /// True while the ACD owns the agent (a call is offered, connected or being wrapped up).
    pub fn is_busy_with_call(&self) -> bool {
        matches!(self, AgentState::Ringing { .. } | AgentState::OnCall { .. } | AgentState::WrapUp { .. })
    }
}

/// States an agent (or supervisor) may request; the ACD-driven states are not settable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RequestedState {
    /// 示闲.
    Ready,
    /// 示忙 with a reason.
    NotReady {
        /// Why, shown on the wallboard and in reports.
        reason: String,
    },
    /// 小休.
    Break,
    /// 话后 held open: stay in after-call work until another state is chosen (the wrap-up timer
    /// no longer ends it). During a call it applies to that call's wrap-up.
    WrapUp,
}

impl RequestedState {
    /// The agent state this request becomes (`None` for [`WrapUp`](Self::WrapUp), which
    /// extends the wrap-up of a call rather than being a state of its own).
    pub fn into_state(self) -> Option<AgentState> {
        match self {
            RequestedState::Ready => Some(AgentState::Ready),
            RequestedState::NotReady { reason } => Some(AgentState::NotReady { reason }),
            RequestedState::Break => Some(AgentState::Break),
            RequestedState::WrapUp => None,
        }
    }
}

/// An agent's static profile (from config or the admin console).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AgentConfig {
    /// Stable id (work number), e.g. "1001".
    pub id: String,
    /// Display name for the wallboard.
    pub name: String,
    /// Skills with levels 1..=10 (higher = better), e.g. {"报修": 8, "estate:翠园": 5}.
    pub skills: BTreeMap<String, u8>,
    /// Wrap-up seconds overriding the queue's, for agents with longer after-call work.
    pub wrap_up_secs: Option<u64>,
}

impl AgentConfig {
    /// An agent with an id and no skills.
    pub fn new(id: impl Into<String>) -> Self {
        let id = id.into();
        Self { name: id.clone(), id, ..Default::default() }
    }

    /// Builder: add a skill at a level.
    pub fn skill(mut self, name: impl Into<String>, level: u8) -> Self {
        self.skills.insert(name.into(), level);
        self
    }

    /// True if every requirement is met at or above its minimum level.
    pub fn meets(&self, reqs: &[SkillReq]) -> bool {
        reqs.iter().all(|r| self.skills.get(&r.skill).is_some_and(|l| *l >= r.min_level))
    }

    /// Sum of the agent's levels over the required skills (higher = better match).
    pub fn score(&self, reqs: &[SkillReq]) -> u32 {
        reqs.iter().map(|r| self.skills.get(&r.skill).copied().unwrap_or(0) as u32).sum()
    }
}

/// Live per-agent record kept by the router.
#[derive(Debug)]
pub(crate) struct Agent {
    pub config: AgentConfig,
    /// Registration order; round-robin walks agents in this order.
    pub ordinal: u64,
    pub extension: Option<String>,
    pub state: AgentState,
    pub since_ms: u64,
    /// When the agent last became available after handling (or after login / 示闲).
    pub idle_since_ms: u64,
    pub pending: Option<AgentState>,
    pub consecutive_no_answer: u32,
    pub calls_today: u32,
    pub calls_day: i64,
    /// Bumped on every wrap-up start so a stale wrap-up timer is ignored.
    pub wrap_gen: u64,
    /// Queue of the call being wrapped up (its handle time feeds that queue's wait estimate).
    pub wrap_queue: usize,
    /// The agent asked (during the call) to hold the coming wrap-up open.
    pub hold_wrap: bool,
}

impl Agent {
    pub fn new(config: AgentConfig, ordinal: u64, now_ms: u64) -> Self {
        Self {
            config,
            ordinal,
            extension: None,
            state: AgentState::LoggedOut,
            since_ms: now_ms,
            idle_since_ms: now_ms,
            pending: None,
            consecutive_no_answer: 0,
            calls_today: 0,
            calls_day: i64::MIN,
            wrap_gen: 0,
            wrap_queue: 0,
            hold_wrap: false,
        }
    }

    /// Move to `to`, returning the finished span of the old state (for history) and the old state.
    pub fn transition(&mut self, to: AgentState, now_ms: u64) -> (AgentState, StateSpan) {
        let span = StateSpan {
            agent_id: self.config.id.clone(),
            kind: self.state.kind(),
            from_ms: self.since_ms,
            to_ms: now_ms,
        };
        if to == AgentState::Ready && !matches!(self.state, AgentState::Ringing { .. }) {
            // A failed offer does not reset idle time: the agent did not get a call.
            self.idle_since_ms = now_ms;
        }
        let old = std::mem::replace(&mut self.state, to);
        self.since_ms = now_ms;
        (old, span)
    }

    /// Calls answered today, resetting the counter when the local day changes.
    pub fn calls_today(&mut self, day: i64) -> u32 {
        if self.calls_day != day {
            self.calls_day = day;
            self.calls_today = 0;
        }
        self.calls_today
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skill_levels_gate_eligibility_and_score() {
        let a = AgentConfig::new("1").skill("报修", 3).skill("投诉", 9);
        assert!(a.meets(&[SkillReq::new("报修", 3)]));
        assert!(!a.meets(&[SkillReq::new("报修", 4)]));
        assert!(!a.meets(&[SkillReq::new("缴费", 1)]));
        assert_eq!(a.score(&[SkillReq::new("报修", 1), SkillReq::new("投诉", 1)]), 12);
    }

    #[test]
    fn transition_produces_timestamped_span_and_keeps_idle_time_after_failed_offer() {
        let mut a = Agent::new(AgentConfig::new("1"), 0, 1_000);
        let (_, span) = a.transition(AgentState::Ready, 2_000);
        assert_eq!((span.kind, span.from_ms, span.to_ms), (StateKind::LoggedOut, 1_000, 2_000));
        assert_eq!(a.idle_since_ms, 2_000);
        a.transition(AgentState::Ringing { call_id: "c".into() }, 5_000);
        let (old, span) = a.transition(AgentState::Ready, 7_000);
        assert_eq!(old, AgentState::Ringing { call_id: "c".into() });
        assert_eq!((span.kind, span.from_ms, span.to_ms), (StateKind::Ringing, 5_000, 7_000));
        assert_eq!(a.idle_since_ms, 2_000, "a missed offer must not make the agent 'newly idle'");
    }
}
