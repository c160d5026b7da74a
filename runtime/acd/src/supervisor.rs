//! Supervisor listen / whisper / barge, requested through the ACD and performed by the lead.
//!
//! The ACD only knows which call an agent is on; the bridge and the media belong to the lead. So
//! a supervisor request is validated here (the agent exists and is on a call), announced on the
//! event stream, and passed to the lead's [`SupervisorMedia`] with the call id, which finds the
//! bridge and calls the supervisor's extension (`courtyard_media::BridgeHandle::listen`,
//! `link_audio` ...). Kept deliberately thin.

use serde::{Deserialize, Serialize};

use crate::clock::BoxFuture;

/// What the supervisor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuperviseMode {
    /// Silent monitor: the supervisor hears both sides.
    Listen,
    /// Coach: only the agent hears the supervisor.
    Whisper,
    /// Three-way: everyone hears everyone.
    Barge,
}

/// A supervisor action on an agent's current call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuperviseRequest {
    /// Listen, whisper or barge.
    pub mode: SuperviseMode,
    /// Extension of the supervisor's phone (to be called).
    pub supervisor_extension: String,
    /// Agent whose call is supervised.
    pub agent_id: String,
}

/// What the lead needs to set up supervision media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperviseTarget {
    /// The request.
    pub request: SuperviseRequest,
    /// The agent's extension.
    pub agent_extension: String,
    /// The call the agent is on (key of the lead's bridge).
    pub call_id: String,
}

/// Performs supervision media; implemented by the lead.
pub trait SupervisorMedia: Send + Sync + 'static {
    /// Call the supervisor and attach them to the call; `Err` carries a message for the console.
    fn supervise(&self, target: SuperviseTarget) -> BoxFuture<'static, Result<(), String>>;
}

/// Default for an ACD without supervision wired: refuses every request.
#[derive(Debug, Default)]
pub struct NoSupervision;

impl SupervisorMedia for NoSupervision {
    fn supervise(&self, _target: SuperviseTarget) -> BoxFuture<'static, Result<(), String>> {
        Box::pin(async { Err("supervision is not configured on this server".to_string()) })
    }
}
