//! HTTP endpoints for agents and supervisors working on live calls: supervision
//! (listen/whisper/barge), blind and attended transfers, and wrap-up codes (话后).
//! Every route sits behind the API's authentication; actions are audited.
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `POST /api/v1/supervise {mode, supervisor_extension, agent_id}` | supervisor | rings the supervisor's phone and attaches it to the agent's call; 200 `{call_id}` once answered, 422 when the agent has no call |
//! | `POST /api/v1/calls/{id}/transfer {queue \| extension \| number, attended}` | staff | blind transfer (the agent leaves at once), or with `attended: true` and an extension: consult first (returns once the consulted phone answered) |
//! | `POST /api/v1/calls/{id}/transfer/complete` / `…/cancel` | staff | finish or abandon an attended transfer |
//! | `POST /api/v1/acd/calls/{id}/wrap-up {agent_id, code, note}` | staff | stores the code on the call record (`vars.wrapup`) and ends the agent's wrap-up |
//! | `GET /api/v1/wrapup-codes` | anyone signed in | the configured codes |

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use courtyard_acd::{AcdError, AgentState, RequestedState, SuperviseMode, SuperviseRequest};
use courtyard_api::auth::STAFF;
use courtyard_api::{ApiError, ApiResult, ApiState, AuthUser};
use courtyard_store::model::Role;
use serde::Deserialize;

use crate::app::Shared;
use crate::call::connect::{Command, TransferTarget};

/// Wrap-up codes offered when `wrapup_codes` is not configured.
pub fn default_wrapup_codes() -> Vec<String> {
    ["resolved", "follow-up", "work-order", "transferred", "complaint", "wrong-number", "no-response"]
        .into_iter()
        .map(String::from)
        .collect()
}

/// The routes, authenticated by the API's middleware.
pub fn router(shared: Arc<Shared>, api: ApiState) -> Router {
    Router::new()
        .route("/api/v1/supervise", post(supervise))
        .route("/api/v1/calls/{id}/transfer", post(transfer))
        .route("/api/v1/calls/{id}/transfer/{step}", post(transfer_step))
        .route("/api/v1/acd/calls/{id}/wrap-up", post(wrap_up))
        .route("/api/v1/wrapup-codes", get(wrapup_codes))
        .with_state(shared)
        .layer(axum::middleware::from_fn_with_state(api, courtyard_api::auth::require_auth))
}

fn unprocessable(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg.into())
}


#[derive(Deserialize)]
struct SuperviseBody {
    mode: SuperviseMode,
    supervisor_extension: String,
    agent_id: String,
}

async fn supervise(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Json(req): Json<SuperviseBody>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[Role::Supervisor], "listen to, whisper to or barge into calls")?;
    let request = SuperviseRequest { mode: req.mode, supervisor_extension: req.supervisor_extension.clone(), agent_id: req.agent_id.clone() };
    match shared.acd.supervise(request).await {
        Ok(()) => {}
        Err(AcdError::UnknownAgent(a)) => return Err(ApiError::new(StatusCode::NOT_FOUND, format!("no agent '{a}'"))),
        Err(e @ AcdError::AgentNotOnCall(_)) => return Err(unprocessable(e.to_string())),
        Err(AcdError::Supervision(why)) => return Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("supervision failed: {why}"))),
        Err(e) => return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
    let call_id = shared.agent_calls.by_agent(&req.agent_id).map(|c| c.call_id.clone()).unwrap_or_default();
    shared.audit(&user.username, "call.supervise", &req.agent_id, Some(format!("{:?} by {} on {call_id}", req.mode, req.supervisor_extension))).await;
    Ok(Json(serde_json::json!({ "call_id": call_id })))
}

#[derive(Deserialize)]
struct TransferBody {
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    extension: Option<String>,
    #[serde(default)]
    number: Option<String>,
    /// Consult the extension before handing the caller over.
    #[serde(default)]
    attended: bool,
}

fn digits_only(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.chars().all(|c| c.is_ascii_digit())
}

async fn transfer(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(call_id): Path<String>,
    Json(req): Json<TransferBody>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(STAFF, "transfer calls")?;
    let conn = shared
        .agent_calls
        .get(&call_id)
        .ok_or_else(|| unprocessable(format!("call {call_id} is not connected to an agent")))?;
    let target = match (req.queue, req.extension, req.number) {
        (Some(q), None, None) => {
            if !shared.cfg.queues.iter().any(|c| c.name == q) {
                return Err(unprocessable(format!("no queue '{q}'")));
            }
            TransferTarget::Queue(q)
        }
        (None, Some(e), None) => {
            if !digits_only(&e) {
                return Err(unprocessable(format!("extension '{e}' is not a number")));
            }
            if shared.sip.registrar().lookup(&e).is_empty() {
                return Err(unprocessable(format!("extension {e} has no registered phone")));
            }
            TransferTarget::Extension(e)
        }
        (None, None, Some(n)) => {
            // The dial-plan guard (toll-fraud protection) decides, and audits a refusal.
            let actor = format!("{}:transfer", user.username);
            let n = crate::outbound::check_destination(&shared, &n, &actor).await.map_err(|r| ApiError::new(StatusCode::FORBIDDEN, r.to_string()))?;
            TransferTarget::External(n)
        }
        _ => return Err(unprocessable("name exactly one of queue, extension or number")),
    };
    let shown = target.to_string();
    let result = match (&target, req.attended) {
        (TransferTarget::Extension(e), true) => {
            let e = e.clone();
            conn.request(|tx| Command::Consult(e, tx)).await
        }
        (_, true) => return Err(unprocessable("an attended transfer consults an extension")),
        (_, false) => conn.request(|tx| Command::Blind(target, tx)).await,
    };
    result.map_err(|e| ApiError::new(StatusCode::CONFLICT, e))?;
    let action = if req.attended { "call.consult" } else { "call.transfer" };
    shared.audit(&user.username, action, &call_id, Some(shown.clone())).await;
    Ok(Json(serde_json::json!({ "ok": true, "call_id": call_id, "target": shown, "attended": req.attended })))
}

async fn transfer_step(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path((call_id, step)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(STAFF, "transfer calls")?;
    let conn = shared
        .agent_calls
        .get(&call_id)
        .ok_or_else(|| unprocessable(format!("call {call_id} is not connected to an agent")))?;
    let r = match step.as_str() {
        "complete" => conn.request(Command::Complete).await,
        "cancel" => conn.request(Command::Cancel).await,
        other => return Err(ApiError::new(StatusCode::NOT_FOUND, format!("unknown transfer step '{other}' (complete, cancel)"))),
    };
    r.map_err(|e| ApiError::new(StatusCode::CONFLICT, e))?;
    shared.audit(&user.username, &format!("call.transfer.{step}"), &call_id, None).await;
    Ok(Json(serde_json::json!({ "ok": true })))
}

#[derive(Deserialize)]
struct WrapUpBody {
    agent_id: String,
    code: String,
    #[serde(default)]
    note: String,
}

async fn wrap_up(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(call_id): Path<String>,
    Json(req): Json<WrapUpBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let own = shared.store.get::<courtyard_store::model::User>(&user.username).ok().flatten().and_then(|u| u.agent_id) == Some(req.agent_id.clone());
    if !own {
        user.require(&[Role::Supervisor], "wrap up another agent's call")?;
    }
    if !shared.cfg.wrapup_codes.contains(&req.code) {
        return Err(unprocessable(format!("unknown wrap-up code '{}' (configured: {})", req.code, shared.cfg.wrapup_codes.join(", "))));
    }
    if req.note.chars().count() > 2000 {
        return Err(unprocessable("the note is longer than 2000 characters"));
    }
    let vars = [("wrapup", req.code.clone()), ("wrapup_agent", req.agent_id.clone()), ("wrapup_note", req.note.clone())];
    let mut stored = true;
    if let Some(leg) = shared.live_get(&call_id) {
        // Still on the line: the final call record carries it …
        let mut r = leg.record.lock();
        for (k, v) in vars.iter().cloned() {
            r.vars.insert(k.into(), v);
        }
        drop(r);
        // … unless the call ended in between and its record was already taken for writing.
        stored = shared.live_get(&call_id).is_none();
    }
    if stored {
        // Ended: change the stored record in one transaction (the host's final write keeps vars
        // it does not know, so the order of the two writes does not matter).
        shared
            .store
            .update_cdr(&call_id, |c| {
                for (k, v) in vars.iter().cloned() {
                    c.vars.insert(k.into(), v);
                }
            })
            .await
            .map_err(|e| match e {
                courtyard_store::StoreError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, format!("no call record {call_id}")),
                e => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            })?;
    }
    // The code is the end of after-call work: an agent wrapping up this call becomes ready.
    let snap = shared.acd.snapshot().await.map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let wrapping = snap
        .agents
        .iter()
        .any(|a| a.agent_id == req.agent_id && matches!(&a.state, AgentState::WrapUp { call_id: c, .. } if *c == call_id));
    if wrapping {
        shared.acd.set_state(&req.agent_id, RequestedState::Ready).await.map_err(|e| unprocessable(e.to_string()))?;
    }
    shared.audit(&user.username, "call.wrap-up", &call_id, Some(format!("{} {}", req.agent_id, req.code))).await;
    Ok(Json(serde_json::json!({ "call_id": call_id, "code": req.code, "wrap_up_ended": wrapping })))
}

async fn wrapup_codes(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(serde_json::json!(shared.cfg.wrapup_codes))
}
