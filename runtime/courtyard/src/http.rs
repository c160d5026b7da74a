//! The HTTP side of the runtime: the data API (courtyard-api) with the live-call hooks only the
//! runtime can answer (calls in progress, recording pause/resume, readiness), the node operations
//! routes, and the web console with its live event stream.

use std::sync::Arc;

use axum::Router;
use courtyard_api::{ApiConfig, ApiHooks, ApiState};
use futures::future::BoxFuture;

use crate::app::Shared;

/// Every HTTP route the runtime serves.
pub fn router(shared: Arc<Shared>, recordings_dir: std::path::PathBuf) -> Router {
    let shared_for_ops = shared.clone();
    let state = ApiState::new(shared.store.clone(), Arc::new(RuntimeHooks { shared }), ApiConfig::new(recordings_dir));
    courtyard_api::spawn_retention_task(state.clone());
    let events = shared_for_ops.events.clone();
    let api = courtyard_api::router(state.clone())
        .merge(crate::outbound::api::router(shared_for_ops.clone(), state.clone()))
        .merge(crate::console_api::router(shared_for_ops.clone(), state.clone()))
        .merge(crate::trace::router(shared_for_ops.clone(), state.clone()))
        .merge(crate::acd_api::router(shared_for_ops.clone(), state.clone()))
        .merge(crate::notifications_api::router(shared_for_ops.clone(), state.clone()))
        .merge(crate::ops_api::router(shared_for_ops, state));
    api.clone().merge(courtyard_console::router(events, api))
}

/// Live-call answers for the API.
struct RuntimeHooks {
    shared: Arc<Shared>,
}

impl ApiHooks for RuntimeHooks {
    fn route_docs(&self) -> &'static [courtyard_api::RouteDoc] {
        crate::api_docs::RUNTIME_ROUTES
    }

    fn live_calls(&self) -> Option<BoxFuture<'_, serde_json::Value>> {
        Some(Box::pin(async move {
            let calls: Vec<serde_json::Value> = self
                .shared
                .live_calls()
                .iter()
                .map(|leg| {
                    let r = leg.record.lock().clone();
                    serde_json::json!({
                        "call_id": r.call_id,
                        "caller": r.caller,
                        "called": r.called,
                        "flow": r.flow,
                        "plugin_version": r.plugin_version,
                        "started_ms": r.started_ms,
                        "answered_ms": r.answered_ms,
                        "ivr_path": r.path,
                        "queue": r.queue,
                        "agent": r.agent,
                    })
                })
                .collect();
            serde_json::Value::Array(calls)
        }))
    }

    fn order_transition(
        &self,
        t: courtyard_api::OrderTransition,
    ) -> Option<BoxFuture<'_, Result<courtyard_store::model::WorkOrder, courtyard_api::ApiError>>> {
        use axum::http::StatusCode;
        use courtyard_orders::OrdersError;
        Some(Box::pin(async move {
            self.shared
                .workflow
                .transition(&t.id, t.to, &t.actor, t.assignee.as_deref(), t.note.as_deref())
                .await
                .map_err(|e| match e {
                    OrdersError::NotFound(m) => courtyard_api::ApiError::new(StatusCode::NOT_FOUND, format!("not found: {m}")),
                    OrdersError::Invalid(m) if m.starts_with("illegal transition") => courtyard_api::ApiError::new(StatusCode::CONFLICT, m),
                    OrdersError::Invalid(m) => courtyard_api::ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
                    other => {
                        tracing::error!(error = %other, "work-order transition failed");
                        courtyard_api::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string())
                    }
                })
        }))
    }

    fn recording_control(&self, call_id: &str, pause: bool) -> Option<BoxFuture<'_, Result<(), String>>> {
        let call_id = call_id.to_string();
        Some(Box::pin(async move {
            let leg = self.shared.live_get(&call_id).ok_or_else(|| format!("no call {call_id} in progress"))?;
            if pause {
                leg.media().record_pause();
            } else {
                leg.media().record_resume();
            }
            tracing::info!(%call_id, pause, "recording paused/resumed from the API");
            Ok(())
        }))
    }

    fn metrics(&self) -> Option<String> {
        Some(crate::metrics::render(&self.shared))
    }

    fn ready(&self) -> bool {
        !self.shared.draining() && self.shared.cfg.flows.iter().all(|f| self.shared.flows.active(&f.name).is_some())
    }
}
