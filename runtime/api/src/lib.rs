//! courtyard-api: the HTTP API of the call center (axum 0.8).
//!
//! The lead mounts [`router`] in the `courtyard` binary:
//! ```ignore
//! let state = ApiState::new(store.clone(), Arc::new(MyHooks), ApiConfig::new(recordings_dir));
//! courtyard_api::spawn_retention_task(state.clone());
//! let app = courtyard_api::router(state);
//! axum::serve(listener, app).await?;
//! ```
//! Every route except `/healthz`, `/readyz`, `/metrics`, `/api/v1/auth/login` and
//! `/api/v1/openapi.json` requires a bearer token (or the session cookie) from login. See
//! `docs/api.md`.

pub mod auth;
mod error;
mod hooks;
pub mod mask;
mod openapi;
mod routes;

pub use auth::{AuthUser, PasswordCost, create_user};
pub use error::{ApiError, ApiResult};
pub use hooks::{ApiHooks, NoHooks, OrderTransition};
pub use openapi::{RouteDoc, openapi_document, openapi_document_with};

use axum::Json;
use axum::Router;
use axum::response::{IntoResponse, Response};
use courtyard_store::Store;
use courtyard_store::model::RetentionPolicy;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// API configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Directory holding recording files named by `Recording::file`.
    pub recordings_dir: PathBuf,
    /// How long a login lasts.
    pub session_ttl: chrono::Duration,
    /// Retention per data category.
    pub retention: RetentionPolicy,
    /// How often the purge task runs.
    pub purge_interval: Duration,
    /// Password hashing cost (keep `Default` in production).
    pub password_cost: PasswordCost,
    /// Largest CSV accepted by the import endpoint.
    pub max_import_bytes: usize,
}

impl ApiConfig {
    /// Production defaults with the given recordings directory.
    pub fn new(recordings_dir: PathBuf) -> Self {
        ApiConfig {
            recordings_dir,
            session_ttl: chrono::Duration::hours(12),
            retention: RetentionPolicy::default(),
            purge_interval: Duration::from_secs(3600),
            password_cost: PasswordCost::Default,
            max_import_bytes: 64 << 20,
        }
    }
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct ApiState {
    /// The store.
    pub store: Arc<Store>,
    /// Live-call hooks provided by the runtime.
    pub hooks: Arc<dyn ApiHooks>,
    /// Configuration.
    pub config: Arc<ApiConfig>,
    pub(crate) sessions: Arc<auth::Sessions>,
    pub(crate) dummy_hash: String,
}

impl ApiState {
    /// Build the state.
    pub fn new(store: Arc<Store>, hooks: Arc<dyn ApiHooks>, config: ApiConfig) -> Self {
        let dummy_hash = auth::dummy_hash(config.password_cost);
        ApiState { store, hooks, config: Arc::new(config), sessions: Arc::default(), dummy_hash }
    }
}

/// The complete API router (public + authenticated routes), state applied.
pub fn router(state: ApiState) -> Router {
    routes::build(state)
}

/// Start the automatic retention purge (runs now, then every `purge_interval`); deletes purged
/// recordings' files from `recordings_dir`.
pub fn spawn_retention_task(state: ApiState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.purge_interval);
        loop {
            tick.tick().await;
            if let Err(e) = run_purge(&state).await {
                tracing::error!(error = %e.message, "retention purge failed");
            }
        }
    })
}

pub(crate) async fn run_purge(state: &ApiState) -> ApiResult<courtyard_store::PurgeReport> {
    let rep = state.store.purge(&state.config.retention, state.store.now()).await?;
    for f in &rep.recording_files {
        if !f.contains(['/', '\\']) {
            let p = state.config.recordings_dir.join(f);
            if let Err(e) = std::fs::remove_file(&p)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = %p.display(), error = %e, "cannot delete purged recording");
            }
        }
    }
    if rep != courtyard_store::PurgeReport::default() {
        audit(state, "system", "retention.purge", "store", serde_json::to_string(&rep).ok()).await;
    }
    Ok(rep)
}

/// Append to the audit log; failures are logged, never fail the request that was already done.
pub(crate) async fn audit(st: &ApiState, actor: &str, action: &str, target: &str, detail: Option<String>) {
    if let Err(e) = st.store.audit(actor, action, target, detail).await {
        tracing::error!(error = %e, action, target, "audit log write failed");
    }
}

/// Serialize a response, masking phone numbers for roles that must not see them.
pub(crate) fn respond<T: Serialize>(user: &AuthUser, value: &T) -> Response {
    match serde_json::to_value(value) {
        Ok(mut v) => {
            if mask::masks(user.role) {
                mask::mask_json(&mut v);
            }
            Json(v).into_response()
        }
        Err(e) => ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
