//! ACD-wide settings: queues, agents and the few knobs that are not per queue.

use serde::{Deserialize, Serialize};

use crate::agent::AgentConfig;
use crate::queue::QueueConfig;

/// Everything `Acd::spawn` needs; deserializable from the `[acd]` table of the TOML config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AcdConfig {
    /// Queues; names must be unique, overflow targets must exist.
    pub queues: Vec<QueueConfig>,
    /// Agents known at start (more via `AcdHandle::upsert_agent`); ids must be unique.
    pub agents: Vec<AgentConfig>,
    /// An agent is set 示忙 ("no-answer") after this many consecutive unanswered offers; 0 = never.
    pub max_consecutive_no_answer: u32,
    /// Local time zone offset for "today" (calls today, daily KPIs); 8 = China Standard Time.
    pub utc_offset_hours: i32,
    /// Call, offer and state-span records kept in memory for KPIs (per list).
    pub history_limit: usize,
    /// Missed calls kept in memory.
    pub missed_limit: usize,
    /// Capacity of the event broadcast channel.
    pub event_capacity: usize,
}

impl Default for AcdConfig {
    fn default() -> Self {
        Self {
            queues: Vec::new(),
            agents: Vec::new(),
            max_consecutive_no_answer: 3,
            utc_offset_hours: 8,
            history_limit: 200_000,
            missed_limit: 10_000,
            event_capacity: 4096,
        }
    }
}
