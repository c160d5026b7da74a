//! Errors a caller of the ACD handle can cause, each saying what was wrong.

/// What went wrong with an ACD request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    /// The configuration is inconsistent.
    #[error("invalid ACD configuration: {0}")]
    InvalidConfig(String),
    /// `enqueue` named a queue that is not configured.
    #[error("queue '{0}' does not exist; configure it under [[acd.queues]]")]
    UnknownQueue(String),
    /// No agent with this id.
    #[error("agent '{0}' does not exist; add it to the configuration or with upsert_agent")]
    UnknownAgent(String),
    /// No call with this id in the ACD.
    #[error("call '{0}' is not in the ACD (already answered and ended, abandoned, or never queued)")]
    UnknownCall(String),
    /// `enqueue` with an id already in the ACD.
    #[error("call '{0}' is already in the ACD")]
    DuplicateCall(String),
    /// The agent must log in first.
    #[error("agent '{0}' is not logged in")]
    NotLoggedIn(String),
    /// Another agent sits at this extension.
    #[error("extension '{extension}' is already used by agent '{agent_id}'; log that agent out first")]
    ExtensionInUse {
        /// The extension.
        extension: String,
        /// Who has it.
        agent_id: String,
    },
    /// The request does not fit the call's current phase.
    #[error("call '{call_id}': {what}")]
    WrongPhase {
        /// Call id.
        call_id: String,
        /// Explanation.
        what: String,
    },
    /// 话后 was requested by an agent who has no call to wrap up.
    #[error("agent '{0}' has no call to wrap up (话后 applies during or right after a call)")]
    NoCallToWrapUp(String),
    /// Supervision needs the agent to be on a call.
    #[error("agent '{0}' is not on a call; supervision needs a connected call")]
    AgentNotOnCall(String),
    /// The lead's supervisor media refused.
    #[error("supervision failed: {0}")]
    Supervision(String),
    /// The ACD actor has stopped.
    #[error("the ACD has stopped")]
    Stopped,
}
