//! Route table. Public: health, metrics, login, OpenAPI. Everything else passes `require_auth`.

mod admin;
pub(crate) use content::NewListEntry;
pub(crate) use directory::{BillPaid, UnmaskRequest};
pub(crate) use orders::{CallbackDone, NewCallback, RateRequest, ReopenRequest, TransitionRequest};
mod calls;
mod content;
mod directory;
mod orders;

use crate::auth::{self, require_auth};
use crate::{ApiError, ApiState};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router, middleware};
use serde::Deserialize;

/// Pagination query parameters shared by list endpoints.
#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    pub offset: usize,
    #[serde(default = "default_limit")]
    pub limit: usize,
}

pub(crate) fn default_limit() -> usize {
    50
}

impl Paging {
    pub(crate) fn limit(&self) -> usize {
        self.limit.clamp(1, 500)
    }
}

pub(crate) fn build(state: ApiState) -> Router {
    let max_import = state.config.max_import_bytes;
    let protected = Router::new()
        .route("/api/v1/auth/me", get(auth::me))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/users", get(auth::list_users).post(auth::put_user))
        .route("/api/v1/users/{username}", delete(auth::delete_user))
        .route("/api/v1/estates", get(directory::list_estates).post(directory::put_estate))
        .route("/api/v1/estates/{id}", get(directory::get_estate).delete(directory::delete_estate))
        .route("/api/v1/units", get(directory::list_units).post(directory::put_unit))
        .route("/api/v1/units/{id}", get(directory::get_unit))
        .route("/api/v1/units/{id}/bills", get(directory::unit_bills))
        .route("/api/v1/units/{id}/warranty", get(directory::unit_warranty))
        .route("/api/v1/bills/paid", post(directory::set_bill_paid))
        .route("/api/v1/residents", get(directory::list_residents).post(directory::put_resident))
        .route("/api/v1/residents/{id}", get(directory::get_resident).delete(directory::delete_resident))
        .route("/api/v1/callers/{number}", get(directory::caller))
        .route("/api/v1/unmask", post(directory::unmask))
        .route("/api/v1/orders", get(orders::list).post(orders::create))
        .route("/api/v1/orders/{id}", get(orders::get))
        .route("/api/v1/orders/{id}/transition", post(orders::transition))
        .route("/api/v1/orders/{id}/reopen", post(orders::reopen))
        .route("/api/v1/orders/{id}/rate", post(orders::rate))
        .route("/api/v1/callbacks", get(orders::list_callbacks).post(orders::create_callback))
        .route("/api/v1/callbacks/{id}/done", post(orders::complete_callback))
        .route("/api/v1/cdrs", get(calls::list_cdrs))
        .route("/api/v1/cdrs/{id}", get(calls::get_cdr))
        .route("/api/v1/recordings/{id}", get(calls::get_recording))
        .route("/api/v1/recordings/{id}/audio", get(calls::recording_audio))
        .route("/api/v1/calls/live", get(calls::live_calls))
        .route("/api/v1/calls/{id}/recording/{action}", post(calls::recording_control))
        .route("/api/v1/kb", get(content::search_kb).post(content::put_kb))
        .route("/api/v1/kb/{id}", get(content::get_kb).delete(content::delete_kb))
        .route("/api/v1/announcements", get(content::list_announcements).post(content::put_announcement))
        .route("/api/v1/announcements/{id}", delete(content::delete_announcement))
        .route("/api/v1/calendars/{name}", get(content::get_calendar).put(content::put_calendar))
        .route("/api/v1/lists/{kind}", get(content::list_numbers).post(content::add_number))
        .route("/api/v1/lists/{kind}/{number}", delete(content::remove_number))
        .route("/api/v1/agents", get(admin::list_agents).post(admin::put_agent))
        .route("/api/v1/agents/{id}", delete(admin::delete_agent))
        .route("/api/v1/queues", get(admin::list_queues).post(admin::put_queue))
        .route("/api/v1/queues/{id}", delete(admin::delete_queue))
        .route("/api/v1/plugins/{name}/kv", get(admin::plugin_kv))
        .route("/api/v1/import/{kind}", post(admin::import).layer(DefaultBodyLimit::max(max_import)))
        .route("/api/v1/audit", get(admin::list_audit))
        .route("/api/v1/admin/purge", post(admin::purge))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_auth));
    let public = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/openapi.json", get(|State(st): State<ApiState>| async move { Json(crate::openapi_document_with(st.hooks.route_docs())) }));
    public.merge(protected).fallback(|| async { ApiError::not_found("no such route; see /api/v1/openapi.json") }).with_state(state)
}

async fn readyz(State(st): State<ApiState>) -> impl IntoResponse {
    let store_ok = st.store.get::<courtyard_store::model::Estate>("__ready_probe__").is_ok();
    if store_ok && st.hooks.ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, if store_ok { "runtime not ready" } else { "store not readable" }).into_response()
    }
}

async fn metrics(State(st): State<ApiState>) -> impl IntoResponse {
    match st.hooks.metrics() {
        Some(text) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => ApiError::not_available("metrics").into_response(),
    }
}
