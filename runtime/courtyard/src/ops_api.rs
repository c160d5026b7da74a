//! HTTP endpoints only the running node can serve: flow versions (list, install a signed package,
//! activate, roll back), the ACD (agent state, snapshot, KPIs, missed calls) and live calls.
//! Every route sits behind the API's authentication; mutating routes check roles and are audited.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use courtyard_acd::{RequestedState, Window};
use courtyard_api::{ApiError, ApiResult, ApiState, AuthUser};
use courtyard_flows::VersionKey;
use courtyard_store::model::Role;
use serde::Deserialize;

use crate::app::Shared;

/// The runtime's routes, authenticated by the API's middleware.
pub fn router(shared: Arc<Shared>, api: ApiState) -> Router {
    Router::new()
        .route("/api/v1/flows", get(list_flows))
        .route("/api/v1/flows/{name}/activate", post(activate))
        .route("/api/v1/flows/{name}/rollback", post(rollback))
        .route("/api/v1/flows/{name}/rollout", post(start_rollout).delete(end_rollout))
        .route("/api/v1/flows/{name}/versions/{key}", axum::routing::delete(uninstall))
        .route("/api/v1/plugins/install", post(install_package))
        .route("/api/v1/acd/snapshot", get(acd_snapshot))
        .route("/api/v1/acd/kpis", get(acd_kpis))
        .route("/api/v1/acd/missed", get(acd_missed))
        .route("/api/v1/acd/agents/{id}/state", post(agent_state))
        .with_state(shared)
        .layer(axum::middleware::from_fn_with_state(api, courtyard_api::auth::require_auth))
}

/// Persists what the registry now serves; a failure is logged (the live change stands).
fn record(shared: &Shared) {
    if let Err(e) = shared.deployments.record(&shared.flows) {
        tracing::error!(error = %format!("{e:#}"), "deployment state could not be saved; a restart may serve older versions");
    }
}

fn registry_error(e: courtyard_flows::RegistryError) -> ApiError {
    use courtyard_flows::RegistryError as E;
    let status = match e {
        E::UnknownFlow(_) | E::UnknownVersion { .. } => StatusCode::NOT_FOUND,
        E::Active { .. } | E::InUse { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.to_string())
}

#[derive(Deserialize)]
struct RolloutRequest {
    /// Candidate version key.
    version: String,
    /// Share of all calls (0–100) for the candidate.
    #[serde(default)]
    percent: u32,
    /// Estates whose every call runs the candidate.
    #[serde(default)]
    estates: Vec<String>,
}

/// Starts or changes a staged rollout (canary by share of calls and/or by estate); promote it
/// with `activate`, end it with DELETE.
async fn start_rollout(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(name): Path<String>,
    Json(req): Json<RolloutRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[], "roll out flow versions")?;
    shared
        .flows
        .set_rollout(&name, &VersionKey(req.version.clone()), req.percent, req.estates.clone())
        .map_err(registry_error)?;
    record(&shared);
    shared.audit(&user.username, "flow.rollout", &name, Some(format!("{} {}% estates {:?}", req.version, req.percent, req.estates))).await;
    Ok(Json(serde_json::json!({ "flow": name, "candidate": req.version, "percent": req.percent, "estates": req.estates })))
}

/// Ends a rollout: every call goes back to the active version.
async fn end_rollout(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[], "end flow rollouts")?;
    let ended = shared.flows.clear_rollout(&name).map_err(registry_error)?;
    record(&shared);
    shared.audit(&user.username, "flow.rollout.end", &name, ended.as_ref().map(|k| k.0.clone())).await;
    Ok(Json(serde_json::json!({ "flow": name, "ended": ended.map(|k| k.0) })))
}

/// Uninstalls a version nobody uses (not active, not the rollout candidate, no call running on
/// it); 409 with the reason otherwise.
async fn uninstall(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path((name, key)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[], "uninstall flow versions")?;
    shared.flows.remove_version(&name, &VersionKey(key.clone())).map_err(registry_error)?;
    record(&shared);
    crate::memory::release_freed();
    shared.audit(&user.username, "flow.uninstall", &name, Some(key.clone())).await;
    Ok(Json(serde_json::json!({ "flow": name, "removed": key })))
}

/// A 500 carrying the failure's text (store/IO errors behind an API call).
pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}


/// Every flow with its versions (active, tripped, call counts, failures).
async fn list_flows(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let flows: Vec<serde_json::Value> = shared
        .flows
        .flow_names()
        .into_iter()
        .map(|name| {
            let versions = shared.flows.versions(&name);
            serde_json::json!({ "name": name, "versions": versions })
        })
        .collect();
    Json(serde_json::json!({ "flows": flows }))
}

#[derive(Deserialize)]
struct ActivateRequest {
    version: String,
}

async fn activate(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(name): Path<String>,
    Json(req): Json<ActivateRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[], "activate flow versions")?;
    shared
        .flows
        .activate(&name, &VersionKey(req.version.clone()))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    record(&shared);
    shared.audit(&user.username, "flow.activate", &name, Some(req.version.clone())).await;
    Ok(Json(serde_json::json!({ "flow": name, "active": req.version })))
}

async fn rollback(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[], "roll back flows")?;
    let key = shared.flows.rollback(&name).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    record(&shared);
    shared.audit(&user.username, "flow.rollback", &name, Some(key.0.clone())).await;
    Ok(Json(serde_json::json!({ "flow": name, "active": key.0 })))
}

#[derive(Deserialize)]
struct InstallQuery {
    /// Flow name the package is installed for.
    flow: String,
    /// Capabilities the operator grants, comma-separated (e.g. `call,billing.read,log`).
    grants: String,
    /// Activate right after the canary passes.
    #[serde(default)]
    activate: bool,
    /// Plugin configuration as JSON; by default the configured flow's configuration.
    #[serde(default)]
    config: Option<String>,
}

/// Installs a signed package (the request body) for a flow: verified against the node's trust
/// store (`<data>/trust.toml`), refused with the reason when unsigned, tampered, untrusted,
/// WIT-incompatible or asking for capabilities the operator did not grant.
async fn install_package(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Query(q): Query<InstallQuery>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[Role::PluginVendor], "install plugins")?;
    let trust = crate::deployments::trust_store(&shared.cfg.data.dir).map_err(internal)?;
    let refused = |reason: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, reason);
    let verified = courtyard_packages::verify(&body, &trust).map_err(|r| refused(format!("package refused: {r}")))?;
    let names: Vec<String> = q.grants.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    let spec = crate::deployments::PackageInstall { flow: &q.flow, package: &verified, grants: &names, config_json: q.config.clone() }
        .spec(&shared.cfg)
        .map_err(refused)?;
    let config_json = spec.config_json.clone();
    let installed = shared.flows.install(spec).await;
    // The compile's working memory is free now, installed or not.
    crate::memory::release_freed();
    let version = installed.map_err(|e| refused(format!("install refused: {e}")))?;
    shared.deployments.save_package(&q.flow, &version.key, &body, &names, &config_json).map_err(internal)?;
    if q.activate {
        shared.flows.activate(&q.flow, &version.key).map_err(|e| refused(e.to_string()))?;
    }
    record(&shared);
    shared.audit(
        &user.username,
        "plugin.install",
        &q.flow,
        Some(format!("{} {} key {} by {}", verified.manifest.name, verified.manifest.version, version.key, verified.signer.key_id)),
    )
    .await;
    Ok(Json(serde_json::json!({
        "flow": q.flow,
        "version": version.key.0,
        "plugin": verified.manifest.name,
        // The installed version's own label: the same component and config packed again under
        // another manifest version is the version already installed (its key is code + config).
        "plugin_version": version.plugin_version,
        "already_installed": version.plugin_version != verified.manifest.version.to_string(),
        "signer": verified.signer.key_id,
        "active": q.activate,
    })))
}

async fn acd_snapshot(State(shared): State<Arc<Shared>>) -> ApiResult<Json<serde_json::Value>> {
    let snap = shared.acd.snapshot().await.map_err(internal)?;
    Ok(Json(serde_json::to_value(snap).map_err(internal)?))
}

#[derive(Deserialize)]
struct KpiQuery {
    queue: Option<String>,
    /// Window start and end, Unix ms (default: the last 24 hours).
    from_ms: Option<u64>,
    to_ms: Option<u64>,
}

async fn acd_kpis(State(shared): State<Arc<Shared>>, Query(q): Query<KpiQuery>) -> ApiResult<Json<serde_json::Value>> {
    let now = shared.acd.now_ms();
    let window = Window { from_ms: q.from_ms.unwrap_or(now.saturating_sub(86_400_000)), to_ms: q.to_ms.unwrap_or(now) };
    let k = shared.acd.queue_kpis(q.queue.as_deref(), window).await.map_err(internal)?;
    Ok(Json(serde_json::to_value(k).map_err(internal)?))
}

async fn acd_missed(State(shared): State<Arc<Shared>>) -> ApiResult<Json<serde_json::Value>> {
    let m = shared.acd.missed_calls(true).await.map_err(internal)?;
    Ok(Json(serde_json::to_value(m).map_err(internal)?))
}

#[derive(Deserialize)]
struct StateRequest {
    /// ready, not-ready, break, wrap-up, login, logout.
    state: String,
    /// Reason for not-ready (示忙).
    #[serde(default)]
    reason: Option<String>,
}

/// Agent state changes from the console: an agent may change only their own state; supervisors
/// anyone's.
async fn agent_state(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Path(id): Path<String>,
    Json(req): Json<StateRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let own = shared.store.get::<courtyard_store::model::User>(&user.username).ok().flatten().and_then(|u| u.agent_id) == Some(id.clone());
    if !own {
        user.require(&[Role::Supervisor], "change another agent's state")?;
    }
    let bad = |e: courtyard_acd::AcdError| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
    match req.state.as_str() {
        "ready" => shared.acd.set_state(&id, RequestedState::Ready).await.map_err(bad)?,
        "not-ready" => shared
            .acd
            .set_state(&id, RequestedState::NotReady { reason: req.reason.clone().unwrap_or_else(|| "示忙".into()) })
            .await
            .map_err(bad)?,
        "break" => shared.acd.set_state(&id, RequestedState::Break).await.map_err(bad)?,
        "wrap-up" => shared.acd.set_state(&id, RequestedState::WrapUp).await.map_err(bad)?,
        "login" => shared.acd.agent_login(&id, &id).await.map_err(bad)?,
        "logout" => shared.acd.agent_logout(&id).await.map_err(bad)?,
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown state '{other}' (ready, not-ready, break, wrap-up, login, logout)"),
            ));
        }
    }
    shared.audit(&user.username, "agent.state", &id, Some(req.state.clone())).await;
    Ok(Json(serde_json::json!({ "agent": id, "state": req.state })))
}
