//! What the call detail record says about a call, gathered while the call runs.

use std::collections::BTreeMap;

use serde::Serialize;

/// The facts collected during one call; written to the store when the call ends (and once at
/// answer, so a crash mid-call leaves a record that recovery marks as interrupted).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CallRecord {
    /// Unique call id (also the SIP Call-ID of the inbound leg).
    pub call_id: String,
    /// Caller number.
    pub caller: String,
    /// Called number.
    pub called: String,
    /// "inbound" or "outbound".
    pub direction: String,
    /// Unix ms when the INVITE arrived.
    pub started_ms: i64,
    /// Unix ms when the call was answered.
    pub answered_ms: Option<i64>,
    /// Unix ms when the call ended.
    pub ended_ms: Option<i64>,
    /// Flow that handled the call.
    pub flow: Option<String>,
    /// Version key of the plugin that handled it.
    pub plugin_version: Option<String>,
    /// IVR path: the nodes the flow marked, in order.
    pub path: Vec<String>,
    /// Prompts said, as text (for the transcript on the console).
    pub prompts: Vec<String>,
    /// Call variables set by the flow.
    pub vars: BTreeMap<String, String>,
    /// Queue the caller was put in.
    pub queue: Option<String>,
    /// Agent who answered.
    pub agent: Option<String>,
    /// Who hung up: "caller", "flow", "agent", "system".
    pub hangup_side: Option<String>,
    /// Why the call ended (SIP status or a reason such as "plugin-trap").
    pub cause: Option<String>,
    /// Recording ids made during the call.
    pub recordings: Vec<String>,
    /// Plugin failure, if the flow failed.
    pub failure: Option<String>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
