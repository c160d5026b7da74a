//! What happens to the caller when a plugin fails.
//!
//! A plugin failure (trap, runaway loop, memory hog, returned error, failed instantiation) must
//! never leave a caller in silence: the instance is ended and the flow's [`FailurePolicy`] runs
//! on the same call through [`CallControl`] — typically an apology, then an agent queue, or a
//! hand-off to a fallback flow that the runtime starts.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::host_api::CallControl;
use crate::wit::{CallError, NamedPrompt, QueueOutcome, Segment};

/// Prompt-library key of the apology, so operators can record it.
pub const APOLOGY_PROMPT_KEY: &str = "flow-failure-apology";

/// How a flow's calls continue after its plugin failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailurePolicy {
    /// Said first (prompt key [`APOLOGY_PROMPT_KEY`], this text when no recording exists).
    pub apology: Option<String>,
    /// Hand the call to this flow (the runtime starts it); takes precedence over `queue`.
    pub fallback_flow: Option<String>,
    /// Otherwise enqueue to this ACD queue.
    pub queue: Option<String>,
    /// Queue priority used for `queue`.
    pub priority: u32,
}

impl Default for FailurePolicy {
    fn default() -> Self {
        FailurePolicy {
            apology: Some("系统繁忙,正在为您转接人工客服".to_string()),
            fallback_flow: None,
            queue: Some("default".to_string()),
            priority: 0,
        }
    }
}

/// Kind of plugin failure, the label counted per plugin version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// A wasm trap or panic (unreachable, out-of-bounds, stack overflow, abort).
    Trap,
    /// CPU budget, guest wall-clock or total call time exceeded.
    Timeout,
    /// The memory cap was hit.
    Memory,
    /// The plugin returned an error from its export.
    Error,
    /// The instance could not be created (pool exhausted, instantiation trap).
    Instantiate,
}

impl FailureKind {
    /// Stable lowercase name (`trap`, `timeout`, `memory`, `error`, `instantiate`).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::Timeout => "timeout",
            FailureKind::Memory => "memory",
            FailureKind::Error => "error",
            FailureKind::Instantiate => "instantiate",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plugin failure with a human-readable explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFailure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// What happened, for logs and the simulator transcript.
    pub message: String,
}

impl fmt::Display for FlowFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// What the failure policy did with the call.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyAction {
    /// The caller was enqueued; the queue's outcome.
    Enqueued(QueueOutcome),
    /// The runtime must hand the call to this flow now.
    FallbackFlow(String),
    /// No queue or fallback (or enqueue failed): the call was hung up.
    HungUp,
    /// The caller had already gone; nothing was done.
    CallerGone,
}

impl FailurePolicy {
    /// Run the policy on the call whose plugin failed.
    pub async fn apply(&self, call: &dyn CallControl) -> PolicyAction {
        if let Some(text) = &self.apology {
            let prompt = [Segment::Prompt(NamedPrompt {
                key: APOLOGY_PROMPT_KEY.to_string(),
                fallback_text: text.clone(),
            })];
            if let Err(CallError::Hangup) = call.say(&prompt, false).await {
                return PolicyAction::CallerGone;
            }
        }
        if let Some(flow) = &self.fallback_flow {
            return PolicyAction::FallbackFlow(flow.clone());
        }
        if let Some(queue) = &self.queue {
            match call.enqueue(queue, self.priority).await {
                Ok(outcome) => return PolicyAction::Enqueued(outcome),
                Err(CallError::Hangup) => return PolicyAction::CallerGone,
                Err(e) => {
                    tracing::warn!(queue = %queue, error = ?e, "failure policy could not enqueue; hanging up");
                }
            }
        }
        call.hangup().await;
        PolicyAction::HungUp
    }
}
