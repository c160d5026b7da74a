//! What happened on calls: call detail records and the recordings index.

use super::Record;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HangupSide {
    /// The caller hung up.
    Caller,
    /// The called side / agent hung up.
    Callee,
    /// The runtime ended it (flow finished, timeout, drain).
    System,
}

/// A call detail record; inserted at call start and updated as the call progresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Cdr {
    /// Call id (also the WIT `call-info.call-id`).
    pub call_id: String,
    /// "inbound" / "outbound".
    pub direction: String,
    /// Caller number.
    pub caller: String,
    /// Called number.
    pub called: String,
    /// INVITE received / placed.
    pub start: DateTime<FixedOffset>,
    /// 200 OK.
    #[serde(default)]
    pub answer: Option<DateTime<FixedOffset>>,
    /// BYE / failure.
    #[serde(default)]
    pub end: Option<DateTime<FixedOffset>>,
    /// Flow name that handled it.
    #[serde(default)]
    pub flow: Option<String>,
    /// Plugin version key of that flow.
    #[serde(default)]
    pub plugin_version: Option<String>,
    /// IVR path marks in order (`call.mark`).
    #[serde(default)]
    pub ivr_path: Vec<String>,
    /// ACD queue entered.
    #[serde(default)]
    pub queue: Option<String>,
    /// Agent who answered.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who hung up.
    #[serde(default)]
    pub hangup_side: Option<HangupSide>,
    /// SIP status / reason.
    #[serde(default)]
    pub hangup_cause: Option<String>,
    /// Recording of the call.
    #[serde(default)]
    pub recording_id: Option<String>,
    /// Call variables set by the flow.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Set on restart for calls that were in progress at a crash.
    #[serde(default)]
    pub interrupted: bool,
}

impl Record for Cdr {
    const PREFIX: &'static str = "cdr/";
    fn key(&self) -> String {
        self.call_id.clone()
    }
}

/// An entry in the recordings index; the audio file lives in the recordings directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recording {
    /// Id given to plugins and attached to orders.
    pub id: String,
    /// Call it belongs to.
    pub call_id: Option<String>,
    /// File name relative to the recordings directory (no path separators).
    pub file: String,
    /// Length.
    pub duration_ms: u32,
    /// When recorded.
    pub created_at: DateTime<FixedOffset>,
    /// MIME type, "audio/wav".
    pub mime: String,
    /// Why: "call", "voicemail", "order-description", "rating-comment".
    pub kind: String,
}

impl Record for Recording {
    const PREFIX: &'static str = "rec/";
    fn key(&self) -> String {
        self.id.clone()
    }
}
