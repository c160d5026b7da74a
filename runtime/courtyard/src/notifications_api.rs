//! `GET /api/v1/notifications`: the SMS, e-mail, webhook and on-duty messages the work-order
//! workflow and the flows queued, with their delivery state — so operators (and tests) can see
//! what a caller was sent without opening the store.
//!
//! Query: `limit` (default 50, at most 500), `offset`, `order_id` (messages about one work
//! order), `to` (one recipient; phone numbers compared without spaces, dashes or a +86 prefix).
//! Newest first (`created_at`, then id). Staff roles; agents see SMS recipients masked
//! (`139****1003`) like every other phone number the API returns to them.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use courtyard_api::auth::STAFF;
use courtyard_api::{ApiError, ApiResult, ApiState, AuthUser};
use courtyard_orders::Notification;
use courtyard_store::model::{Page, mask_phone, normalize_phone};
use serde::Deserialize;

use crate::app::Shared;

/// The notification listing, authenticated by the API's middleware.
pub fn router(shared: Arc<Shared>, api: ApiState) -> Router {
    Router::new()
        .route("/api/v1/notifications", get(list_notifications))
        .with_state(shared)
        .layer(axum::middleware::from_fn_with_state(api, courtyard_api::auth::require_auth))
}

#[derive(Debug, Deserialize)]
struct NotificationQuery {
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_limit")]
    limit: usize,
    order_id: Option<String>,
    to: Option<String>,
}

fn default_limit() -> usize {
    50
}

async fn list_notifications(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Response> {
    user.require(STAFF, "read notifications")?;
    let to = q.to.as_deref().map(|t| (t.to_string(), normalize_phone(t)));
    let keep = |n: &Notification| {
        q.order_id.as_ref().is_none_or(|o| n.order_id.as_ref() == Some(o))
            && to.as_ref().is_none_or(|(raw, phone)| n.to == *raw || (!phone.is_empty() && normalize_phone(&n.to) == *phone))
    };
    // Ids are not time-ordered (dispatch, escalation and flow messages name them differently), so
    // the matching records are sorted by time here.
    let all = shared.store.list_under::<Notification>("", keep, 0, usize::MAX, false)?;
    let mut items = all.items;
    items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    let total = items.len();
    let mut page: Vec<Notification> = items.into_iter().skip(q.offset).take(q.limit.clamp(1, 500)).collect();
    if courtyard_api::mask::masks(user.role) {
        for n in page.iter_mut().filter(|n| n.channel == "sms") {
            n.to = mask_phone(&n.to);
        }
    }
    let mut v = serde_json::to_value(Page { items: page, total }).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    if courtyard_api::mask::masks(user.role) {
        courtyard_api::mask::mask_json(&mut v);
    }
    Ok(Json(v).into_response())
}
