//! HTTP endpoints the web console needs that only the running node can answer (see
//! `runtime/console/API-NEEDS.md`): overdue work orders by escalation level, one agent's ACD
//! KPIs, the route table, package inspection before install, QA scores of recordings; and the
//! background task that attaches a call's recording to the work orders opened during the call.
//! Every route sits behind the API's authentication.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, FixedOffset};
use courtyard_acd::Window;
use courtyard_api::{ApiError, ApiResult, ApiState, AuthUser};
use courtyard_store::model::{Cdr, Record, Role, User};
use courtyard_store::{PlainRecord, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::Shared;
use crate::ops_api::internal;

/// State of the console routes: the node (its running work-order workflow answers the SLA
/// overview).
#[derive(Clone)]
struct ConsoleApi {
    shared: Arc<Shared>,
}

/// The console's runtime routes, authenticated by the API's middleware; also starts the task
/// that attaches recordings to orders (call inside the tokio runtime).
pub fn router(shared: Arc<Shared>, api: ApiState) -> Router {
    spawn_recording_linker(shared.clone());
    Router::new()
        .route("/api/v1/sla/overdue", get(sla_overdue))
        .route("/api/v1/acd/agents/{id}/kpis", get(agent_kpis))
        .route("/api/v1/routes", get(routes))
        .route("/api/v1/plugins/inspect", post(inspect_package))
        .route("/api/v1/recordings/{id}/qa", post(score_recording))
        .route("/api/v1/qa/scores", get(qa_scores))
        .with_state(ConsoleApi { shared })
        .layer(axum::middleware::from_fn_with_state(api, courtyard_api::auth::require_auth))
}

/// The agent id of a console user (from the user record; agents only).
fn agent_of(store: &Store, user: &AuthUser) -> Option<String> {
    store.get::<User>(&user.username).ok().flatten().and_then(|u| u.agent_id)
}

/// `GET /api/v1/sla/overdue`: open work orders past their SLA, grouped by the highest escalation
/// level reached (the workflow's own overview).
async fn sla_overdue(State(st): State<ConsoleApi>) -> ApiResult<Json<Value>> {
    let o = st.shared.workflow.escalations_overview().map_err(internal)?;
    Ok(Json(serde_json::to_value(o).map_err(internal)?))
}

#[derive(Deserialize)]
struct WindowQuery {
    /// Window start and end, Unix ms (default: the last 24 hours).
    from_ms: Option<u64>,
    to_ms: Option<u64>,
}

/// `GET /api/v1/acd/agents/{id}/kpis`: one agent's ACD figures (offered, answered, missed, talk,
/// hold, wrap-up, AHT, occupancy) — an agent sees their own, supervisors anyone's.
async fn agent_kpis(
    State(st): State<ConsoleApi>,
    Extension(user): Extension<AuthUser>,
    Path(id): Path<String>,
    Query(q): Query<WindowQuery>,
) -> ApiResult<Json<Value>> {
    if agent_of(&st.shared.store, &user).as_deref() != Some(id.as_str()) {
        user.require(&[Role::Supervisor], "read another agent's figures")?;
    }
    let now = st.shared.acd.now_ms();
    let window = Window { from_ms: q.from_ms.unwrap_or(now.saturating_sub(86_400_000)), to_ms: q.to_ms.unwrap_or(now) };
    let k = st
        .shared
        .acd
        .agent_kpis(&id, window)
        .await
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e.to_string()))?;
    Ok(Json(serde_json::to_value(k).map_err(internal)?))
}

/// `GET /api/v1/routes`: called number → flow (from `[[route]]`), with the flow's active version.
async fn routes(State(st): State<ConsoleApi>) -> Json<Value> {
    let routes: Vec<Value> = st
        .shared
        .cfg
        .routes
        .iter()
        .map(|r| {
            let active = st.shared.flows.versions(&r.flow).into_iter().find(|v| v.active);
            json!({
                "number": r.number, "flow": r.flow, "estate": r.estate_id,
                "active_version": active.as_ref().map(|v| v.key.0.clone()),
                "plugin_version": active.map(|v| v.plugin_version),
            })
        })
        .collect();
    Json(json!({ "routes": routes }))
}

/// `POST /api/v1/plugins/inspect` (package bytes): what a package is and asks for, before the
/// operator grants anything — manifest, requested capabilities with their meaning, signer, and
/// whether this node's trust store accepts it (the refusal reason otherwise).
async fn inspect_package(State(st): State<ConsoleApi>, Extension(user): Extension<AuthUser>, body: Bytes) -> ApiResult<Json<Value>> {
    user.require(&[Role::PluginVendor], "inspect plugin packages")?;
    let info = courtyard_packages::inspect(&body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("not a Courtyard plugin package: {e}")))?;
    let trust_path = st.shared.cfg.data.dir.join("trust.toml");
    let trust = if trust_path.exists() {
        courtyard_packages::TrustStore::load(&trust_path).map_err(internal)?
    } else {
        courtyard_packages::TrustStore::default()
    };
    let trusted = courtyard_packages::verify(&body, &trust);
    let m = &info.manifest;
    let requested: Vec<Value> =
        m.requested().into_iter().map(|c| json!({ "name": c.name(), "description": c.description() })).collect();
    Ok(Json(json!({
        "name": m.name,
        "version": m.version.to_string(),
        "vendor": m.vendor,
        "description": m.description,
        "world": m.world.name(),
        "memory_mib": m.memory_mib,
        "requested": requested.iter().map(|c| c["name"].clone()).collect::<Vec<_>>(),
        "capabilities": requested,
        "unused_imports": m.unused_imports,
        "signer": info.signed_by,
        "trusted": trusted.is_ok(),
        "refused": trusted.err().map(|r| r.to_string()),
        "component_sha256": info.component_sha256,
        "size_bytes": info.size_bytes,
    })))
}

/// A quality score given to a recorded call (one per recording; scoring again replaces it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QaScore {
    /// The scored recording.
    pub id: String,
    /// The call it belongs to.
    pub call_id: Option<String>,
    /// The agent who took the call (from the call record).
    pub agent: Option<String>,
    /// 1 (poor) … 5 (excellent).
    pub score: u8,
    /// Reviewer's notes.
    #[serde(default)]
    pub notes: String,
    /// Reviewer (user name).
    pub by: String,
    /// When it was scored.
    pub at: DateTime<FixedOffset>,
}

impl Record for QaScore {
    const PREFIX: &'static str = "qa/";
    fn key(&self) -> String {
        self.id.clone()
    }
}
impl PlainRecord for QaScore {}

#[derive(Deserialize)]
struct ScoreRequest {
    score: u8,
    #[serde(default)]
    notes: String,
}

/// `POST /api/v1/recordings/{id}/qa` `{score: 1..5, notes}`: supervisors score a recording; the
/// agent comes from the call record so the per-agent report can average it.
async fn score_recording(
    State(st): State<ConsoleApi>,
    Extension(user): Extension<AuthUser>,
    Path(id): Path<String>,
    Json(req): Json<ScoreRequest>,
) -> ApiResult<Json<QaScore>> {
    user.require(&[Role::Supervisor], "score recordings")?;
    if !(1..=5).contains(&req.score) {
        return Err(ApiError::bad_request(format!("score must be 1–5, not {}", req.score)));
    }
    let store = &st.shared.store;
    let rec = store.get_recording(&id).map_err(internal)?.ok_or_else(|| ApiError::not_found(format!("recording {id}")))?;
    let agent = match &rec.call_id {
        Some(c) => store.get::<Cdr>(c).map_err(internal)?.and_then(|c| c.agent),
        None => None,
    };
    let score = QaScore { id: id.clone(), call_id: rec.call_id, agent, score: req.score, notes: req.notes, by: user.username.clone(), at: store.now() };
    store.put(&score).await.map_err(internal)?;
    if let Err(e) = store.audit(&user.username, "qa.score", &id, Some(score.score.to_string())).await {
        tracing::error!(error = %e, "audit entry could not be written");
    }
    Ok(Json(score))
}

#[derive(Deserialize)]
struct ScoresQuery {
    agent: Option<String>,
}

/// `GET /api/v1/qa/scores?agent=`: QA scores, newest first; agents see only their own.
async fn qa_scores(State(st): State<ConsoleApi>, Extension(user): Extension<AuthUser>, Query(q): Query<ScoresQuery>) -> ApiResult<Json<Value>> {
    let store = &st.shared.store;
    let agent = if matches!(user.role, Role::Agent | Role::PluginVendor) {
        let own = agent_of(store, &user);
        if q.agent.is_some() && q.agent != own {
            return Err(ApiError::forbidden("agents may read only their own QA scores"));
        }
        Some(own.unwrap_or_else(|| user.username.clone()))
    } else {
        q.agent
    };
    let mut items = store
        .list::<QaScore>(|s| agent.as_ref().is_none_or(|a| s.agent.as_ref() == Some(a)), 0, usize::MAX)
        .map_err(internal)?
        .items;
    items.sort_by(|a, b| b.at.cmp(&a.at));
    Ok(Json(json!({ "scores": items })))
}

/// Attaches the call's recording to the work orders opened during the call: the agent creates the
/// order while talking, but the recording exists only once the conversation ends. On every
/// `call_ended` event (published after the final call record is written) the orders whose
/// `call_id` is that call and that have no recording get the call's recording.
fn spawn_recording_linker(shared: Arc<Shared>) {
    let mut rx = shared.events.subscribe();
    tokio::spawn(async move {
        loop {
            let ev = match rx.recv().await {
                Ok(ev) => ev,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "recording linker fell behind; some orders may miss their recording");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            if ev.get("type").and_then(Value::as_str) != Some("call_ended") {
                continue;
            }
            let Some(call_id) = ev.get("call_id").and_then(Value::as_str) else { continue };
            if let Err(e) = link_recording(&shared.store, call_id).await {
                tracing::warn!(error = %e, %call_id, "call recording could not be attached to its work orders");
            }
        }
    });
}

/// Gives the orders of `call_id` without a recording the call's recording; returns how many.
pub async fn link_recording(store: &Store, call_id: &str) -> Result<usize, courtyard_store::StoreError> {
    let Some(cdr) = store.get::<Cdr>(call_id)? else { return Ok(0) };
    let Some(rec) = cdr.recording_id.as_deref() else { return Ok(0) };
    let mut n = 0;
    for o in store.orders_for_caller(&cdr.caller, false)? {
        if o.call_id.as_deref() == Some(call_id) && o.recording_id.is_none() && store.attach_order_recording(&o.id, rec).await? {
            tracing::info!(order = %o.id, recording = %rec, "call recording attached to the work order");
            n += 1;
        }
    }
    Ok(n)
}
