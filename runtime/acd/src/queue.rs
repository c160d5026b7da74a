//! Queues: their settings, the calls waiting in them and the order they are served in.
//!
//! Order is emergency callers first, then VIPs, then the numeric priority the flow passed to
//! `enqueue` (higher first), then arrival time. A call overflowing to another queue keeps its
//! original arrival for ordering (it has already waited) but starts a new wait for that queue's
//! statistics, because the KPI definitions are per queue.

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::announce::AnnounceConfig;
use crate::dialer::AgentLeg;
use crate::strategy::Strategy;

/// A skill a queue or call needs, with the minimum level (1..=10) an agent must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillReq {
    /// Skill name, e.g. "报修", "投诉", "缴费", "estate:翠园".
    pub skill: String,
    /// Minimum level; 1 means "has the skill at all".
    #[serde(default = "one")]
    pub min_level: u8,
}

fn one() -> u8 {
    1
}

impl SkillReq {
    /// A requirement of `skill` at `min_level` or better.
    pub fn new(skill: impl Into<String>, min_level: u8) -> Self {
        Self { skill: skill.into(), min_level }
    }
}

/// Where a call goes when it has waited the queue's maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OverflowTarget {
    /// Move to another queue (the ticket keeps delivering events).
    Queue {
        /// Target queue name.
        name: String,
    },
    /// Leave the ACD; the flow records a voicemail.
    Voicemail,
    /// Leave the ACD; the flow creates a callback task.
    Callback,
}

/// A queue's settings; every field has a default so TOML can set only what differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueConfig {
    /// Name flows pass to `enqueue`, e.g. "repairs".
    pub name: String,
    /// How a ready agent is chosen.
    pub strategy: Strategy,
    /// Skills every agent of this queue needs.
    pub skills: Vec<SkillReq>,
    /// If not empty, only these agent ids serve the queue (besides the skill check).
    pub members: Vec<String>,
    /// When true, a call with `estate` set also needs skill `estate:<estate>`.
    pub estate_skill: bool,
    /// How long an agent's phone rings before the next agent is tried.
    pub ring_timeout_secs: u64,
    /// An agent who missed or rejected a call is not offered that same call again for this long.
    pub retry_secs: u64,
    /// Maximum wait before timeout/overflow; `None` waits forever.
    pub max_wait_secs: Option<u64>,
    /// Where a call goes after `max_wait_secs`; `None` ends the wait with `Timeout`.
    pub overflow: Option<OverflowTarget>,
    /// 话后 seconds after each call (an agent's own setting overrides it).
    pub wrap_up_secs: u64,
    /// Sticky agent: a returning caller waits up to this long for the agent who served them last.
    pub sticky_secs: Option<u64>,
    /// Position / estimated-wait announcements.
    pub announce: AnnounceConfig,
    /// Service level threshold T: answered within T seconds counts as "in service level".
    pub service_level_secs: u64,
    /// Abandons before this many seconds are left out of the service level (short abandons).
    pub short_abandon_secs: u64,
    /// With no agent logged in who could serve the call, end the wait at once with `Timeout`.
    pub leave_when_empty: bool,
    /// Handle time assumed for wait estimates until real calls have been handled.
    pub default_aht_secs: u64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            strategy: Strategy::LongestIdle,
            skills: Vec::new(),
            members: Vec::new(),
            estate_skill: false,
            ring_timeout_secs: 20,
            retry_secs: 5,
            max_wait_secs: None,
            overflow: None,
            wrap_up_secs: 10,
            sticky_secs: None,
            announce: AnnounceConfig::default(),
            service_level_secs: 20,
            short_abandon_secs: 5,
            leave_when_empty: true,
            default_aht_secs: 180,
        }
    }
}

impl QueueConfig {
    /// A queue with default settings.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Default::default() }
    }
}

/// The call as the ACD sees it: who is calling and what they need. No SIP in here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CallRef {
    /// The runtime's call id (unique while the call lives).
    pub call_id: String,
    /// Caller number (for sticky agent, missed-call list and screen-pop).
    pub caller: String,
    /// VIP callers are served before ordinary ones.
    pub vip: bool,
    /// Emergency callers (e.g. 漏水/电梯困人) are served before everyone.
    pub emergency: bool,
    /// Priority from the flow's `enqueue(queue, priority)`; higher first within a class.
    pub priority: u32,
    /// The caller's estate, if known (see `QueueConfig::estate_skill`).
    pub estate: Option<String>,
    /// Skills this call needs on top of the queue's.
    pub skills: Vec<crate::queue::SkillReq>,
    /// Reference for the screen-pop (e.g. resident id); passed through in `OfferStarted`.
    pub data_ref: Option<String>,
    /// Agent the flow wants first (e.g. from CDR history); used like the sticky agent.
    pub preferred_agent: Option<String>,
}

impl CallRef {
    /// A plain call from `caller`.
    pub fn new(call_id: impl Into<String>, caller: impl Into<String>) -> Self {
        Self { call_id: call_id.into(), caller: caller.into(), ..Default::default() }
    }

    /// The class part of the ordering: emergency 2, VIP 1, others 0.
    pub fn class(&self) -> u8 {
        if self.emergency {
            2
        } else if self.vip {
            1
        } else {
            0
        }
    }
}

/// Sort key of a waiting call: class, priority, arrival, then a sequence number as tie-breaker.
pub(crate) type OrderKey = (Reverse<u8>, Reverse<u32>, u64, u64);

/// Builds the [`OrderKey`] of a call.
pub(crate) fn order_key(call: &CallRef, arrived_ms: u64, seq: u64) -> OrderKey {
    (Reverse(call.class()), Reverse(call.priority), arrived_ms, seq)
}

/// What the flow waiting on `enqueue` hears from the ACD.
#[derive(Debug)]
pub enum QueueEvent {
    /// The call is in the queue at this position (1 = next).
    Queued {
        /// 1-based position among the queue's waiting calls.
        position: usize,
        /// Estimated wait in seconds.
        est_wait_secs: u64,
    },
    /// Time to tell the caller where they are (play `text` with TTS between music).
    Announcement(crate::announce::Announcement),
    /// An agent's phone is ringing for this call (informational; the caller keeps hearing music).
    Ringing {
        /// Agent id.
        agent_id: String,
        /// The agent's extension.
        extension: String,
    },
    /// The agent answered: bridge the caller to `leg`, then report the end with `call_ended`.
    Connected {
        /// Agent id (the WIT `queue-outcome::answered` payload).
        agent_id: String,
        /// The agent's extension.
        extension: String,
        /// The answered agent leg, as returned by the `AgentDialer`.
        leg: AgentLeg,
    },
    /// Maximum wait passed (or nobody could serve the call) and no overflow is configured. Final.
    Timeout,
    /// The call overflowed. For `Queue` the call keeps waiting there and events continue; for
    /// `Voicemail` / `Callback` it has left the ACD (final).
    Overflow {
        /// Where the call went.
        target: OverflowTarget,
    },
}

/// Handle returned by `enqueue`: the stream of [`QueueEvent`]s for one call.
#[derive(Debug)]
pub struct QueueTicket {
    /// The call this ticket is for.
    pub call_id: String,
    pub(crate) rx: mpsc::UnboundedReceiver<QueueEvent>,
}

impl QueueTicket {
    /// Next event; `None` once the ACD is done with the call (after a final event) or stopped.
    pub async fn next(&mut self) -> Option<QueueEvent> {
        self.rx.recv().await
    }
}
