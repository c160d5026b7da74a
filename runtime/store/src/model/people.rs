//! People and governance: agents, queues, users with roles, the audit log, retention.

use super::Record;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A call-center agent (坐席) bound to a SIP extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    /// Agent id / extension, e.g. "8001".
    pub id: String,
    /// Display name.
    pub name: String,
    /// Skills with levels 1–10 (e.g. ["报修", 8]).
    #[serde(default)]
    pub skills: Vec<(String, u8)>,
    /// Queues the agent serves.
    #[serde(default)]
    pub queues: Vec<String>,
}

impl Record for Agent {
    const PREFIX: &'static str = "ag/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// An ACD queue's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    /// Id, e.g. "repair".
    pub id: String,
    /// Display name, e.g. "报修".
    pub name: String,
    /// "longest-idle", "round-robin", "fewest-calls", "skills", "sticky".
    pub strategy: String,
    /// Required skills.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Max wait before overflow, seconds.
    #[serde(default)]
    pub max_wait_s: Option<u32>,
    /// Overflow target queue.
    #[serde(default)]
    pub overflow: Option<String>,
}

impl Record for Queue {
    const PREFIX: &'static str = "q/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Handles calls and orders; sees masked phones.
    Agent,
    /// Watches agents, manages orders and content.
    Supervisor,
    /// Everything, including users and plugins.
    Admin,
    /// A plugin vendor: plugin management only, masked data.
    PluginVendor,
}

/// A console/API user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Argon2 PHC string; never sent over the API.
    #[serde(default)]
    pub password_hash: String,
    /// Agent id when the user is an agent.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Disabled users cannot log in.
    #[serde(default)]
    pub disabled: bool,
}

impl Record for User {
    const PREFIX: &'static str = "usr/";
    fn key(&self) -> String {
        self.username.clone()
    }
}

/// One audit log entry: who changed what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Monotonic sequence (zero-padded in the key so the log sorts by time).
    pub seq: u64,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who (user name, "plugin:<name>", "system").
    pub actor: String,
    /// What, e.g. "order.transition", "user.delete", "phone.unmask".
    pub action: String,
    /// Target id.
    pub target: String,
    /// Details.
    #[serde(default)]
    pub detail: Option<String>,
}

impl Record for AuditEntry {
    const PREFIX: &'static str = "au/";
    fn key(&self) -> String {
        format!("{:020}", self.seq)
    }
}

/// How long each data category is kept before the purge task deletes it (days; 0 = forever).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetentionPolicy {
    /// Call detail records.
    pub cdr_days: u32,
    /// Recordings index entries (and their files, deleted by the caller of the purge).
    pub recording_days: u32,
    /// Audit log.
    pub audit_days: u32,
    /// Finished callback tasks.
    pub callback_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy { cdr_days: 365, recording_days: 180, audit_days: 730, callback_days: 365 }
    }
}
