//! Campaigns wired into the node: the [`CallPlacer`] that dials through a trunk and runs the
//! campaign's outbound flow on answer, and the node's campaign table (create, resume at start,
//! stored in the node's sled store through `SledCampaignStore`).
//!
//! The scheduler (pacing, calling hours, retries, DNC) is `courtyard-campaigns`; this module only
//! supplies the telephony and the wall clock. Calling hours are judged by the scheduler on
//! [`TokioClock`] time in the campaign's configured UTC offset.

use std::sync::Arc;
use std::time::Duration;

use courtyard_campaigns::{
    BoxFuture, CallPlacer, CampaignConfig, CampaignDeps, CampaignError, CampaignHandle, CampaignStore, PlaceRequest,
    PlaceResult, RunState, SledCampaignStore, StoredCampaign, TokioClock,
};
use courtyard_flows::wit::Target as FlowTarget;

use super::guard::strip_visual_separators;
use super::leg::{FlowRun, run_flow};
use super::trunk::DialOutcome;
use crate::app::Shared;
use crate::call::record::{CallRecord, now_ms};

/// Places one campaign's calls through its trunk.
pub struct TrunkPlacer {
    shared: Arc<Shared>,
    trunk: String,
}

impl CallPlacer for TrunkPlacer {
    fn place(&self, req: PlaceRequest) -> BoxFuture<'static, PlaceResult> {
        let shared = self.shared.clone();
        let trunk = self.trunk.clone();
        Box::pin(async move {
            // Only visual separators go: an injected dial string must reach the guard as written.
            let number = strip_visual_separators(&req.target.number);
            let actor = format!("campaign:{}", req.campaign_id);
            let started_ms = now_ms();
            let outcome = super::dial_external(&shared, &trunk, &number, &req.caller_id, &actor, req.ring_timeout).await;
            tracing::debug!(campaign = %req.campaign_id, target = %req.target.id, attempt = req.attempt, "dialled");
            let caller_id = if req.caller_id.is_empty() {
                shared.outbound.trunk(&trunk).map(|t| t.cfg.caller_id.clone()).unwrap_or_default()
            } else {
                req.caller_id.clone()
            };
            let unanswered = |cause: String| unanswered_record(&shared, &req, &caller_id, &number, started_ms, cause);
            match outcome {
                DialOutcome::Answered(call, slot) => {
                    let run = FlowRun {
                        flow: req.flow.clone(),
                        caller_id,
                        target: FlowTarget {
                            campaign_id: req.campaign_id.clone(),
                            target_id: req.target.id.clone(),
                            number,
                            params: req.flow_params(),
                        },
                        answer_delay: req.answer_delay,
                        started_ms,
                    };
                    PlaceResult::Answered {
                        run: Box::pin(async move {
                            let _slot = slot;
                            run_flow(shared, call, run).await
                        }),
                    }
                }
                DialOutcome::Busy => {
                    unanswered("busy".into()).await;
                    PlaceResult::Busy
                }
                DialOutcome::NoAnswer => {
                    unanswered("no-answer".into()).await;
                    PlaceResult::NoAnswer
                }
                DialOutcome::Rejected { status, reason } => {
                    unanswered(format!("rejected {status} {reason}")).await;
                    PlaceResult::Rejected { status, reason }
                }
                DialOutcome::Failed(reason) => {
                    unanswered(format!("failed: {reason}")).await;
                    PlaceResult::Failed(reason)
                }
            }
        })
    }
}

/// The call record of an attempt nobody answered (busy, no answer, refused by the far end or the
/// trunk): the operator's call list shows every call the campaign made, with why it did not
/// connect, not only the answered ones.
async fn unanswered_record(shared: &Arc<Shared>, req: &PlaceRequest, caller_id: &str, number: &str, started_ms: i64, cause: String) {
    let mut rec = CallRecord {
        call_id: format!("out-{}", uuid::Uuid::new_v4().simple()),
        caller: caller_id.to_string(),
        called: number.to_string(),
        direction: "outbound".into(),
        started_ms,
        ended_ms: Some(now_ms()),
        flow: Some(req.flow.clone()),
        hangup_side: Some("system".into()),
        cause: Some(cause),
        ..Default::default()
    };
    rec.vars.insert("campaign_id".into(), req.campaign_id.clone());
    rec.vars.insert("target_id".into(), req.target.id.clone());
    rec.vars.insert("attempt".into(), req.attempt.to_string());
    rec.vars.insert("outcome".into(), "not-connected".into());
    shared.cdr_write(&rec, true).await;
}

/// Why a campaign could not be created or controlled (mapped to HTTP statuses by the API).
#[derive(Debug, thiserror::Error)]
pub enum CampaignRefused {
    /// The request is wrong (the text says what to fix).
    #[error("{0}")]
    Invalid(String),
    /// A campaign with this id exists.
    #[error("campaign '{0}' already exists")]
    Exists(String),
    /// No such campaign.
    #[error("no campaign '{0}'")]
    NotFound(String),
    /// The scheduler or store failed.
    #[error("{0}")]
    Internal(String),
}

fn deps(shared: &Arc<Shared>, trunk: &str) -> CampaignDeps {
    CampaignDeps {
        placer: Arc::new(TrunkPlacer { shared: shared.clone(), trunk: trunk.to_string() }),
        clock: TokioClock::new(),
        store: Arc::new(SledCampaignStore::new(shared.store.clone())),
    }
}

/// Checks a campaign against this node (flow installed as outbound, trunk exists, every number
/// passes the dial plan) and starts it on its own task; `paused` stores it paused first, so not
/// a single call goes out until it is started.
pub async fn create(shared: &Arc<Shared>, config: CampaignConfig, paused: bool) -> Result<CampaignHandle, CampaignRefused> {
    config.validate().map_err(|e| CampaignRefused::Invalid(e.to_string()))?;
    if config.targets.is_empty() {
        return Err(CampaignRefused::Invalid("the campaign has no targets".into()));
    }
    if shared.outbound.trunk(&config.trunk).is_none() {
        return Err(CampaignRefused::Invalid(if config.trunk.is_empty() {
            "no [[trunk]] is configured on this node".into()
        } else {
            format!("trunk '{}' is not configured ([[trunk]] name)", config.trunk)
        }));
    }
    if shared.flows.active(&config.flow).is_none() {
        return Err(CampaignRefused::Invalid(format!("flow '{}' is not installed on this node", config.flow)));
    }
    let mut bad = Vec::new();
    for (i, t) in config.targets.iter().enumerate() {
        if let Err(r) = shared.outbound.plan().check(&strip_visual_separators(&t.number)) {
            bad.push(format!("target {} ('{}'): {}", i + 1, t.id, r.reason));
        }
    }
    if !bad.is_empty() {
        return Err(CampaignRefused::Invalid(format!("dial plan refuses {} target(s): {}", bad.len(), bad.join("; "))));
    }
    let store = SledCampaignStore::new(shared.store.clone());
    if store.load(&config.id).map_err(|e| CampaignRefused::Internal(e.to_string()))?.is_some()
        || shared.outbound.campaigns.lock().contains_key(&config.id)
    {
        return Err(CampaignRefused::Exists(config.id));
    }
    if paused {
        let stored = StoredCampaign { config: config.clone(), paused: true, cancelled: false };
        store.save_campaign(&stored).await.map_err(|e| CampaignRefused::Internal(e.to_string()))?;
    }
    let id = config.id.clone();
    let trunk = config.trunk.clone();
    let handle = courtyard_campaigns::start(config, deps(shared, &trunk)).map_err(|e| match e {
        CampaignError::Config(m) => CampaignRefused::Invalid(m),
        e => CampaignRefused::Internal(e.to_string()),
    })?;
    shared.outbound.campaigns.lock().insert(id, handle.clone());
    Ok(handle)
}

/// A running campaign's handle.
pub fn handle(shared: &Shared, id: &str) -> Result<CampaignHandle, CampaignRefused> {
    shared.outbound.campaigns.lock().get(id).cloned().ok_or_else(|| CampaignRefused::NotFound(id.to_string()))
}

/// Resumes every stored campaign that was running, waiting for hours or paused at the last stop.
pub fn resume_stored(shared: &Arc<Shared>) {
    let store = SledCampaignStore::new(shared.store.clone());
    let list = match store.list() {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "stored campaigns could not be listed; none resumed");
            return;
        }
    };
    for p in list {
        if matches!(p.state, RunState::Finished) || (p.state == RunState::Cancelled && p.in_flight == 0) {
            continue;
        }
        let Ok(Some(snap)) = store.load(&p.campaign_id) else { continue };
        let trunk = snap.config.trunk.clone();
        match courtyard_campaigns::start(snap.config, deps(shared, &trunk)) {
            Ok(h) => {
                tracing::info!(campaign = %p.campaign_id, "campaign resumed from the store");
                shared.outbound.campaigns.lock().insert(p.campaign_id.clone(), h);
            }
            Err(e) => tracing::error!(campaign = %p.campaign_id, error = %e, "stored campaign could not be resumed"),
        }
    }
}

/// Ring timeout for calls placed from the API (click-to-call, call-back).
pub const API_RING_TIMEOUT: Duration = Duration::from_secs(30);
