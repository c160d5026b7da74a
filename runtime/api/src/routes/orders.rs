//! Work orders and callback tasks.

use crate::auth::{AuthUser, MANAGERS, STAFF};
use crate::{ApiError, ApiResult, ApiState, audit, respond};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use courtyard_store::model::{CallbackTask, Category, NewOrder, OrderState, Page, WorkOrder, normalize_phone};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct OrderQuery {
    state: Option<String>,
    unit: Option<String>,
    caller: Option<String>,
    category: Option<String>,
    estate: Option<String>,
    #[serde(default)]
    open: bool,
    #[serde(default)]
    offset: usize,
    #[serde(default = "super::default_limit")]
    limit: usize,
}

pub(crate) async fn list(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(q): Query<OrderQuery>) -> ApiResult<Response> {
    u.require(STAFF, "read work orders")?;
    let state = match &q.state {
        Some(s) => Some(OrderState::parse(s).ok_or_else(|| ApiError::bad_request(format!("unknown state '{s}'")))?),
        None => None,
    };
    let category = match &q.category {
        Some(c) => Some(Category::parse(c).ok_or_else(|| ApiError::bad_request(format!("unknown category '{c}'")))?),
        None => None,
    };
    let keep = |o: &WorkOrder| {
        state.is_none_or(|s| o.state == s)
            && category.is_none_or(|c| o.category == c)
            && q.estate.as_ref().is_none_or(|e| o.estate_id.as_ref() == Some(e))
            && (!q.open || o.state.is_open())
    };
    // Use an index when the query names one; otherwise scan newest first.
    let all: Vec<WorkOrder> = if let Some(un) = &q.unit {
        st.store.orders_for_unit(un, false)?
    } else if let Some(c) = &q.caller {
        st.store.orders_for_caller(c, false)?
    } else if let Some(s) = state {
        let p = st.store.orders_in_state(s, 0, usize::MAX)?;
        p.items
    } else {
        return Ok(respond(&u, &st.store.list_under::<WorkOrder>("", keep, q.offset, q.limit.clamp(1, 500), true)?));
    };
    let filtered: Vec<WorkOrder> = all.into_iter().filter(|o| keep(o)).collect();
    let total = filtered.len();
    let items = filtered.into_iter().skip(q.offset).take(q.limit.clamp(1, 500)).collect();
    Ok(respond(&u, &Page { items, total }))
}

pub(crate) async fn create(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(n): Json<NewOrder>) -> ApiResult<Response> {
    u.require(STAFF, "create work orders")?;
    let o = st.store.create_order(&n, &u.username).await?;
    audit(&st, &u.username, "order.create", &o.id, Some(o.category.label_zh().into())).await;
    Ok((StatusCode::CREATED, respond(&u, &o)).into_response())
}

pub(crate) async fn get(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(STAFF, "read work orders")?;
    let o = st.store.get_order(&id)?.ok_or_else(|| ApiError::not_found(format!("work order {id}")))?;
    let h = st.store.order_history(&id)?;
    Ok(respond(&u, &serde_json::json!({ "order": o, "history": h })))
}

/// A requested state change.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TransitionRequest {
    /// Target state: dispatched, accepted, in-progress, done, callback, closed, cancelled.
    to: String,
    /// Required for `dispatched`.
    #[serde(default)]
    assignee: Option<String>,
    /// Free text (cancel reason, what was done).
    #[serde(default)]
    note: Option<String>,
}

pub(crate) async fn transition(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(id): Path<String>,
    Json(t): Json<TransitionRequest>,
) -> ApiResult<Response> {
    u.require(STAFF, "change work orders")?;
    let to = OrderState::parse(&t.to).ok_or_else(|| ApiError::bad_request(format!("unknown state '{}'", t.to)))?;
    if to == OrderState::Cancelled {
        u.require(MANAGERS, "cancel work orders")?;
    }
    let wired = st.hooks.order_transition(crate::OrderTransition {
        id: id.clone(),
        to,
        actor: u.username.clone(),
        assignee: t.assignee.clone(),
        note: t.note.clone(),
    });
    let o = match wired {
        Some(fut) => fut.await?,
        None => st.store.transition_order(&id, to, &u.username, t.assignee.as_deref(), t.note.as_deref()).await?,
    };
    audit(&st, &u.username, "order.transition", &id, Some(to.as_str().into())).await;
    Ok(respond(&u, &o))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ReopenRequest {
    /// What is still wrong.
    description: String,
}

pub(crate) async fn reopen(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(id): Path<String>,
    Json(r): Json<ReopenRequest>,
) -> ApiResult<Response> {
    u.require(STAFF, "reopen work orders")?;
    let child = st.store.reopen_order(&id, &u.username, &r.description).await?;
    audit(&st, &u.username, "order.reopen", &id, Some(format!("child {}", child.id))).await;
    Ok((StatusCode::CREATED, respond(&u, &child)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RateRequest {
    /// 1–5.
    score: u8,
    #[serde(default)]
    comment_recording_id: Option<String>,
}

pub(crate) async fn rate(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(id): Path<String>,
    Json(r): Json<RateRequest>,
) -> ApiResult<Response> {
    u.require(STAFF, "rate work orders")?;
    let child = st.store.rate_order(&id, r.score, r.comment_recording_id.as_deref(), &u.username).await?;
    audit(&st, &u.username, "order.rate", &id, Some(format!("score {}", r.score))).await;
    Ok(respond(&u, &serde_json::json!({ "order_id": id, "score": r.score, "child_order_id": child })))
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    open: bool,
    #[serde(default)]
    offset: usize,
    #[serde(default = "super::default_limit")]
    limit: usize,
}

pub(crate) async fn list_callbacks(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(q): Query<CallbackQuery>) -> ApiResult<Response> {
    u.require(STAFF, "read callbacks")?;
    let mut all = st.store.list::<CallbackTask>(|c| !q.open || !c.done, 0, usize::MAX)?.items;
    all.sort_by_key(|c| c.due);
    let total = all.len();
    let items = all.into_iter().skip(q.offset).take(q.limit.clamp(1, 500)).collect();
    Ok(respond(&u, &Page { items, total }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct NewCallback {
    number: String,
    reason: String,
    #[serde(default)]
    recording_id: Option<String>,
    /// ISO-8601 date-time.
    due: DateTime<FixedOffset>,
}

pub(crate) async fn create_callback(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(n): Json<NewCallback>) -> ApiResult<Response> {
    u.require(STAFF, "create callbacks")?;
    let id = st.store.create_callback(&normalize_phone(&n.number), &n.reason, n.recording_id.as_deref(), n.due).await?;
    audit(&st, &u.username, "callback.create", &id, None).await;
    let cb = st.store.get::<CallbackTask>(&id)?;
    Ok((StatusCode::CREATED, respond(&u, &cb)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CallbackDone {
    outcome: String,
}

pub(crate) async fn complete_callback(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(id): Path<String>,
    Json(d): Json<CallbackDone>,
) -> ApiResult<Response> {
    u.require(STAFF, "complete callbacks")?;
    let cb = st.store.complete_callback(&id, &d.outcome).await?;
    audit(&st, &u.username, "callback.done", &id, Some(d.outcome)).await;
    Ok(respond(&u, &cb))
}
