//! What the campaign remembers per target and reports as progress: the API and console show
//! these, and the store persists them so a restart resumes instead of calling everyone again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::campaign::CampaignConfig;
use crate::dialer::AttemptKind;

/// One call attempt to a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When the call was placed (ms since the Unix epoch).
    pub started_ms: u64,
    /// When the attempt ended (after the flow, for answered calls).
    pub ended_ms: u64,
    /// How it ended.
    pub kind: AttemptKind,
    /// Status/reason or flow outcome, for people reading the record.
    pub detail: String,
}

/// Final result of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TargetResult {
    /// Answered; the outbound flow returned `outcome` (or failed with `flow_error`).
    Answered {
        /// The flow's outcome (`confirmed`, `refused`, `sms-sent`, …); empty when the flow failed.
        outcome: String,
        /// Why the flow failed, if it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flow_error: Option<String>,
    },
    /// The network refused the call (not retried).
    Rejected {
        /// SIP status.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// The number is on the do-not-call list: never dialled.
    Dnc,
    /// Retries used up; `last` says how the final attempt ended (busy, no-answer, failed).
    Exhausted {
        /// Kind of the last attempt.
        last: AttemptKind,
    },
    /// The campaign was cancelled before the target got a final result.
    Cancelled,
}

impl TargetResult {
    /// The kebab-case kind used in [`Progress::results`].
    pub fn kind(&self) -> String {
        match self {
            TargetResult::Answered { .. } => "answered".into(),
            TargetResult::Rejected { .. } => "rejected".into(),
            TargetResult::Dnc => "dnc".into(),
            TargetResult::Exhausted { last } => format!("exhausted-{}", last.as_str()),
            TargetResult::Cancelled => "cancelled".into(),
        }
    }
}

/// Where a target stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TargetState {
    /// Waiting to be called at or after `due_ms`.
    Pending {
        /// Earliest time of the next attempt.
        due_ms: u64,
    },
    /// A call is in progress.
    Dialling,
    /// Finished.
    Done {
        /// The result.
        result: TargetResult,
    },
}

/// Everything remembered about one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// Target id (from the config).
    pub target_id: String,
    /// Number as configured.
    pub number: String,
    /// Current state.
    pub state: TargetState,
    /// Every attempt so far, oldest first.
    pub attempts: Vec<Attempt>,
}

/// Run state of the campaign as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// Placing calls.
    Running,
    /// Placing calls is allowed but the calling hours are closed until `next_call_ms`.
    WaitingForHours,
    /// Paused by the operator (calls in progress finish).
    Paused,
    /// Cancelled (calls in progress finish; pending targets become `cancelled`).
    Cancelled,
    /// Every target has a final result.
    Finished,
}

/// Progress as shown over the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Campaign id.
    pub campaign_id: String,
    /// Run state.
    pub state: RunState,
    /// Targets in the campaign.
    pub total: u32,
    /// Targets with a final result (including do-not-call).
    pub done: u32,
    /// Calls in progress now.
    pub in_flight: u32,
    /// Targets answered.
    pub answered: u32,
    /// answered ÷ (done − dnc − cancelled) × 100: of the targets actually worked to the end, how
    /// many were reached. 0 when none is finished yet.
    pub answered_pct: f64,
    /// Final results by kind (`answered`, `rejected`, `dnc`, `exhausted-busy`,
    /// `exhausted-no-answer`, `exhausted-failed`, `cancelled`).
    pub results: BTreeMap<String, u32>,
    /// Attempts by how they ended (`answered`, `busy`, `no-answer`, `rejected`, `failed`).
    pub attempts: BTreeMap<String, u32>,
    /// Flow outcomes of answered targets (`confirmed`, `refused`, …).
    pub outcomes: BTreeMap<String, u32>,
    /// When the next call may be placed, if one is waiting.
    pub next_call_ms: Option<u64>,
}

/// Everything stored about a campaign: config, operator flags, every target's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSnapshot {
    /// The campaign as configured.
    pub config: CampaignConfig,
    /// Paused by the operator.
    pub paused: bool,
    /// Cancelled by the operator.
    pub cancelled: bool,
    /// One record per target, in config order.
    pub targets: Vec<TargetRecord>,
    /// Progress as last saved (recomputed from `targets` on resume).
    pub progress: Option<Progress>,
}

/// Compute progress from target records. Runs after every event, so it counts into borrowed
/// keys and allocates only for the (few) distinct kinds and outcomes.
pub fn progress_of(campaign_id: &str, state: RunState, targets: &[TargetRecord], next_call_ms: Option<u64>) -> Progress {
    const KINDS: [AttemptKind; 5] =
        [AttemptKind::Answered, AttemptKind::Busy, AttemptKind::NoAnswer, AttemptKind::Rejected, AttemptKind::Failed];
    let mut attempts = [0u32; 5];
    let mut exhausted = [0u32; 5];
    let (mut done, mut in_flight, mut answered, mut rejected, mut dnc, mut cancelled) = (0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    let mut outcomes: BTreeMap<&str, u32> = BTreeMap::new();
    for t in targets {
        for a in &t.attempts {
            attempts[a.kind as usize] += 1;
        }
        match &t.state {
            TargetState::Pending { .. } => {}
            TargetState::Dialling => in_flight += 1,
            TargetState::Done { result } => {
                done += 1;
                match result {
                    TargetResult::Answered { outcome, flow_error } => {
                        answered += 1;
                        let key = if flow_error.is_some() { "flow-error" } else { outcome.as_str() };
                        *outcomes.entry(key).or_default() += 1;
                    }
                    TargetResult::Rejected { .. } => rejected += 1,
                    TargetResult::Dnc => dnc += 1,
                    TargetResult::Cancelled => cancelled += 1,
                    TargetResult::Exhausted { last } => exhausted[*last as usize] += 1,
                }
            }
        }
    }
    let mut results = BTreeMap::new();
    for (k, v) in [("answered", answered), ("rejected", rejected), ("dnc", dnc), ("cancelled", cancelled)] {
        if v > 0 {
            results.insert(k.to_string(), v);
        }
    }
    for k in KINDS {
        if exhausted[k as usize] > 0 {
            results.insert(format!("exhausted-{}", k.as_str()), exhausted[k as usize]);
        }
    }
    let attempts = KINDS.iter().filter(|k| attempts[**k as usize] > 0).map(|k| (k.as_str().to_string(), attempts[*k as usize])).collect();
    let worked = done - dnc - cancelled;
    Progress {
        campaign_id: campaign_id.to_string(),
        state,
        total: targets.len() as u32,
        done,
        in_flight,
        answered,
        answered_pct: if worked > 0 { f64::from(answered) * 100.0 / f64::from(worked) } else { 0.0 },
        results,
        attempts,
        outcomes: outcomes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        next_call_ms,
    }
}
