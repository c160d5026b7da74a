//! The seam between the dialer brain and the telephony: the runtime implements [`CallPlacer`]
//! over its SIP trunk (INVITE, ring timeout, CANCEL, answer) and runs the campaign's outbound flow
//! once the callee answers. The scheduler only decides *who* to call *when*; it never sees SIP.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::campaign::Target;
use crate::clock::BoxFuture;

/// Everything the runtime needs to place one attempt and start the flow.
#[derive(Debug, Clone)]
pub struct PlaceRequest {
    /// Campaign id (the flow's `target.campaign-id`).
    pub campaign_id: String,
    /// Outbound flow to run on answer (registry key).
    pub flow: String,
    /// Caller number to present; empty = the trunk's default.
    pub caller_id: String,
    /// The target (id, number as configured, params for the flow).
    pub target: Target,
    /// 1 for the first call to this target, 2 for the first retry, …
    pub attempt: u32,
    /// Cancel the INVITE and return [`PlaceResult::NoAnswer`] when nobody answers within this.
    pub ring_timeout: Duration,
    /// Answering-machine-safe start: keep silent this long after the answer before the flow
    /// speaks (zero = start at once).
    pub answer_delay: Duration,
}

impl PlaceRequest {
    /// The flow's `target` record params (`params` of the WIT `outbound-flow.target`).
    pub fn flow_params(&self) -> Vec<(String, String)> {
        self.target.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// How one attempt ended at the signalling level.
pub enum PlaceResult {
    /// 2xx: the call is up. `run` waits `answer_delay`, runs the outbound flow, hangs up and
    /// yields the flow's outcome (`Ok("confirmed")`, or `Err(reason)` when the flow failed).
    /// The concurrency slot stays taken until `run` finishes.
    Answered {
        /// The rest of the call.
        run: BoxFuture<'static, Result<String, String>>,
    },
    /// 486 Busy Here / 600 Busy Everywhere.
    Busy,
    /// Rang out: ring timeout reached (and CANCEL sent), 408, 480 or 487.
    NoAnswer,
    /// A definite refusal (403, 404, 603 …): never retried.
    Rejected {
        /// SIP status code.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// Trunk/network trouble (5xx, transport error): retried per `retry.failed`.
    Failed(String),
}

impl std::fmt::Debug for PlaceResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlaceResult::Answered { .. } => f.write_str("Answered"),
            PlaceResult::Busy => f.write_str("Busy"),
            PlaceResult::NoAnswer => f.write_str("NoAnswer"),
            PlaceResult::Rejected { status, reason } => write!(f, "Rejected({status} {reason})"),
            PlaceResult::Failed(r) => write!(f, "Failed({r})"),
        }
    }
}

impl PlaceResult {
    /// The usual mapping of a final SIP status to a result (for non-2xx answers).
    pub fn from_sip_status(status: u16, reason: &str) -> PlaceResult {
        match status {
            486 | 600 => PlaceResult::Busy,
            408 | 480 | 487 => PlaceResult::NoAnswer,
            500..=599 => PlaceResult::Failed(format!("{status} {reason}")),
            _ => PlaceResult::Rejected { status, reason: reason.to_string() },
        }
    }
}

/// Places calls for campaigns. Implemented by the runtime over `courtyard_sip::Endpoint::invite`
/// and `FlowRegistry::run_outbound`; tests implement it with scripts or over SIPp.
///
/// Contract: the returned future resolves once the attempt has a final answer (answered, busy,
/// rang out, rejected, failed). If the scheduler drops it (its guard fired at `ring_timeout` +
/// 10 s), the implementation must cancel the INVITE.
pub trait CallPlacer: Send + Sync + 'static {
    /// Dial one target.
    fn place(&self, req: PlaceRequest) -> BoxFuture<'static, PlaceResult>;
}

/// Kind of an attempt's end, as stored and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptKind {
    /// The callee answered.
    Answered,
    /// Busy.
    Busy,
    /// Rang out.
    NoAnswer,
    /// Refused by the network.
    Rejected,
    /// Trunk/network failure.
    Failed,
}

impl AttemptKind {
    /// The kebab-case name used in progress maps and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Answered => "answered",
            AttemptKind::Busy => "busy",
            AttemptKind::NoAnswer => "no-answer",
            AttemptKind::Rejected => "rejected",
            AttemptKind::Failed => "failed",
        }
    }
}
