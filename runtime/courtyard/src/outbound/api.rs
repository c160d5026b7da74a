//! HTTP routes of the outbound side, behind the API's authentication; every mutating route
//! checks the role and writes an audit entry.
//!
//! | route | role | what |
//! |---|---|---|
//! | `GET /api/v1/trunks` | any | trunks: health (OPTIONS keep-alive), calls up now |
//! | `POST /api/v1/campaigns` | supervisor | create (and start, unless `"start": false`) a campaign; targets as JSON `targets` and/or CSV `targets_csv` |
//! | `GET /api/v1/campaigns` | any | progress of every campaign |
//! | `GET /api/v1/campaigns/{id}` | any | progress (done/total, answered %, per-result counts) |
//! | `GET /api/v1/campaigns/{id}/targets` | supervisor | per-target state, attempts and result |
//! | `POST /api/v1/campaigns/{id}/{start,pause,cancel}` | supervisor | control |
//! | `POST /api/v1/calls/originate` | agent, supervisor | click-to-call `{agent_id, number}` |
//! | `POST /api/v1/acd/missed/{call_id}/call-back` | agent, supervisor | call a missed caller back `{agent_id}` |

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use courtyard_api::auth::{MANAGERS, STAFF};
use courtyard_api::{ApiError, ApiResult, ApiState, AuthUser};
use courtyard_campaigns::{CampaignConfig, CampaignStore, Progress, SledCampaignStore};
use serde::Deserialize;
use serde_json::{Value, json};

use super::campaigns::{self, CampaignRefused};
use super::originate::{Origin, OriginateRefused, originate};
use crate::app::Shared;

/// The outbound routes, authenticated by the API's middleware.
pub fn router(shared: Arc<Shared>, api: ApiState) -> Router {
    Router::new()
        .route("/api/v1/trunks", get(list_trunks))
        .route("/api/v1/campaigns", get(list_campaigns).post(create_campaign))
        .route("/api/v1/campaigns/{id}", get(campaign_progress))
        .route("/api/v1/campaigns/{id}/targets", get(campaign_targets))
        .route("/api/v1/campaigns/{id}/{action}", post(control_campaign))
        .route("/api/v1/calls/originate", post(originate_call))
        .route("/api/v1/acd/missed/{call_id}/call-back", post(call_back))
        .with_state(shared)
        .layer(axum::middleware::from_fn_with_state(api, courtyard_api::auth::require_auth))
}


fn refused(e: CampaignRefused) -> ApiError {
    let status = match e {
        CampaignRefused::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        CampaignRefused::Exists(_) => StatusCode::CONFLICT,
        CampaignRefused::NotFound(_) => StatusCode::NOT_FOUND,
        CampaignRefused::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.to_string())
}

async fn list_trunks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let trunks: Vec<Value> = shared
        .outbound
        .trunks()
        .iter()
        .map(|t| {
            let h = t.health.get();
            json!({
                "name": t.cfg.name, "host": t.cfg.host, "state": h.state,
                "last_checked": h.last_checked, "last_response_code": h.last_response_code, "rtt_ms": h.rtt_ms,
                "options_interval_secs": t.cfg.options_interval_secs,
                "active_calls": t.active_calls(), "max_concurrent": t.cfg.max_concurrent,
                "calls_per_second": t.cfg.calls_per_second,
            })
        })
        .collect();
    Json(json!({ "trunks": trunks }))
}

/// Creates a campaign from JSON: the campaign keys of `docs/campaigns.md`, plus `targets_csv`
/// (a CSV list, see `target_list.rs`) and `start` (default true).
async fn create_campaign(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Json(mut body): Json<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    user.require(MANAGERS, "create campaigns")?;
    let obj = body.as_object_mut().ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    let csv = obj.remove("targets_csv");
    let start = obj.remove("start").map(|v| v.as_bool().unwrap_or(true)).unwrap_or(true);
    let mut config: CampaignConfig = serde_json::from_value(body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("campaign: {e}")))?;
    if let Some(csv) = csv {
        let text = csv.as_str().ok_or_else(|| ApiError::bad_request("targets_csv must be a string"))?;
        let targets = super::target_list::parse_csv(text, shared.outbound.plan()).map_err(|errors| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("targets_csv: {}", errors.join("; ")))
        })?;
        config.targets.extend(targets);
    }
    let id = config.id.clone();
    let total = config.targets.len();
    let result = campaigns::create(&shared, config, !start).await;
    match result {
        Ok(h) => {
            shared.audit(&user.username, "campaign.create", &id, Some(format!("{total} targets, started: {start}"))).await;
            Ok((StatusCode::CREATED, Json(json!({ "id": id, "progress": h.progress() }))))
        }
        Err(e) => {
            shared.audit(&user.username, "campaign.create.refused", &id, Some(e.to_string())).await;
            Err(refused(e))
        }
    }
}

fn progress_of(shared: &Shared, id: &str) -> Result<Progress, ApiError> {
    if let Ok(h) = campaigns::handle(shared, id) {
        return Ok(h.progress());
    }
    let store = SledCampaignStore::new(shared.store.clone());
    match store.load(id) {
        Ok(Some(s)) => s.progress.ok_or_else(|| ApiError::not_found(format!("campaign '{id}' has no progress yet"))),
        Ok(None) => Err(ApiError::not_found(format!("no campaign '{id}'"))),
        Err(e) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn list_campaigns(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Value>> {
    let store = SledCampaignStore::new(shared.store.clone());
    let mut list = store.list().map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    for p in &mut list {
        if let Ok(h) = campaigns::handle(&shared, &p.campaign_id) {
            *p = h.progress();
        }
    }
    Ok(Json(json!({ "campaigns": list })))
}

async fn campaign_progress(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Json<Progress>> {
    Ok(Json(progress_of(&shared, &id)?))
}

async fn campaign_targets(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    user.require(MANAGERS, "see campaign targets")?;
    let targets = match campaigns::handle(&shared, &id) {
        Ok(h) => h.targets(),
        Err(_) => match SledCampaignStore::new(shared.store.clone()).load(&id) {
            Ok(Some(s)) => s.targets,
            Ok(None) => return Err(ApiError::not_found(format!("no campaign '{id}'"))),
            Err(e) => return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        },
    };
    Ok(Json(json!({ "id": id, "targets": targets })))
}

async fn control_campaign(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    user.require(MANAGERS, "control campaigns")?;
    let h = campaigns::handle(&shared, &id).map_err(refused)?;
    let r = match action.as_str() {
        "start" | "resume" => h.resume(),
        "pause" => h.pause(),
        "cancel" => h.cancel(),
        other => return Err(ApiError::not_found(format!("unknown campaign action '{other}' (start, pause, cancel)"))),
    };
    r.map_err(|e| ApiError::new(StatusCode::CONFLICT, e.to_string()))?;
    shared.audit(&user.username, &format!("campaign.{action}"), &id, None).await;
    Ok(Json(json!({ "id": id, "action": action })))
}

#[derive(Deserialize)]
struct OriginateRequest {
    agent_id: String,
    number: String,
}

fn originate_error(e: OriginateRefused) -> ApiError {
    let status = match e {
        OriginateRefused::DialPlan(_) => StatusCode::UNPROCESSABLE_ENTITY,
        OriginateRefused::Agent(_) => StatusCode::CONFLICT,
        OriginateRefused::NoTrunk(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    ApiError::new(status, e.to_string())
}

async fn originate_call(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Json(req): Json<OriginateRequest>,
) -> ApiResult<Json<Value>> {
    user.require(STAFF, "place calls")?;
    let r = originate(&shared, &req.agent_id, &req.number, &user.username, Origin::ClickToCall).await;
    let detail = format!("agent {} → {}", req.agent_id, req.number.escape_debug());
    let call_id = r.map_err(originate_error)?;
    shared.audit(&user.username, "call.originate", &call_id, Some(detail)).await;
    Ok(Json(json!({ "call_id": call_id })))
}

#[derive(Deserialize)]
struct CallBackRequest {
    agent_id: String,
}

async fn call_back(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(missed_id): Path<String>,
    Json(req): Json<CallBackRequest>,
) -> ApiResult<Json<Value>> {
    user.require(STAFF, "call back missed calls")?;
    let missed = shared.acd.missed_calls(false).await.map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let Some(m) = missed.into_iter().find(|m| m.call_id == missed_id) else {
        return Err(ApiError::not_found(format!("no missed call '{missed_id}'")));
    };
    let call_id = originate(&shared, &req.agent_id, &m.caller, &user.username, Origin::MissedCallBack(missed_id.clone()))
        .await
        .map_err(originate_error)?;
    shared.audit(&user.username, "call.call-back", &call_id, Some(format!("missed {missed_id}, agent {}", req.agent_id))).await;
    Ok(Json(json!({ "call_id": call_id })))
}
