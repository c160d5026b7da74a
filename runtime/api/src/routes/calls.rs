//! Call detail records, recordings (metadata and audio with HTTP range support), live calls.

use crate::auth::{AuthUser, STAFF};
use crate::{ApiError, ApiResult, ApiState, audit, respond};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use courtyard_store::model::{Cdr, Role, normalize_phone};
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;

#[derive(Deserialize)]
pub(crate) struct CdrQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    caller: Option<String>,
    agent: Option<String>,
    queue: Option<String>,
    flow: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default = "super::default_limit")]
    limit: usize,
}

pub(crate) async fn list_cdrs(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(q): Query<CdrQuery>) -> ApiResult<Response> {
    u.require(STAFF, "read call records")?;
    let caller = q.caller.as_deref().map(normalize_phone);
    let page = st.store.cdrs_between(
        q.from,
        q.to,
        |c: &Cdr| {
            caller.as_ref().is_none_or(|n| normalize_phone(&c.caller) == *n)
                && q.agent.as_ref().is_none_or(|a| c.agent.as_ref() == Some(a))
                && q.queue.as_ref().is_none_or(|x| c.queue.as_ref() == Some(x))
                && q.flow.as_ref().is_none_or(|f| c.flow.as_ref() == Some(f))
        },
        q.offset,
        q.limit.clamp(1, 500),
    )?;
    Ok(respond(&u, &page))
}

pub(crate) async fn get_cdr(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(STAFF, "read call records")?;
    let c = st.store.get::<Cdr>(&id)?.ok_or_else(|| ApiError::not_found(format!("call {id}")))?;
    Ok(respond(&u, &c))
}

pub(crate) async fn get_recording(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(STAFF, "read recordings")?;
    let r = st.store.get_recording(&id)?.ok_or_else(|| ApiError::not_found(format!("recording {id}")))?;
    Ok(respond(&u, &r))
}

/// The audio file; supports `Range: bytes=…` (206 Partial Content) for seeking in the browser.
pub(crate) async fn recording_audio(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    u.require(STAFF, "listen to recordings")?;
    let r = st.store.get_recording(&id)?.ok_or_else(|| ApiError::not_found(format!("recording {id}")))?;
    if r.file.is_empty() || r.file.contains(['/', '\\']) || r.file.starts_with('.') {
        return Err(ApiError::bad_request("recording file name is not a plain name"));
    }
    let path = st.config.recordings_dir.join(&r.file);
    if !path.is_file() {
        return Err(ApiError::not_found(format!("recording {id}: audio file missing")));
    }
    if !matches!(u.role, Role::Admin | Role::Supervisor) {
        audit(&st, &u.username, "recording.listen", &id, None).await;
    }
    let resp = ServeFile::new(&path)
        .oneshot(req)
        .await
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(resp.map(Body::new).into_response())
}


pub(crate) async fn live_calls(State(st): State<ApiState>, Extension(u): Extension<AuthUser>) -> ApiResult<Response> {
    u.require(STAFF, "see live calls")?;
    match st.hooks.live_calls() {
        Some(f) => {
            let v = f.await;
            Ok(respond(&u, &v))
        }
        None => Err(ApiError::not_available("live calls")),
    }
}

pub(crate) async fn recording_control(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult<Response> {
    u.require(STAFF, "control recordings")?;
    let pause = match action.as_str() {
        "pause" => true,
        "resume" => false,
        other => return Err(ApiError::bad_request(format!("unknown action '{other}' (pause, resume)"))),
    };
    let fut = st.hooks.recording_control(&id, pause).ok_or_else(|| ApiError::not_available("recording control"))?;
    fut.await.map_err(|e| ApiError::new(axum::http::StatusCode::CONFLICT, e))?;
    audit(&st, &u.username, &format!("recording.{action}"), &id, None).await;
    Ok(respond(&u, &serde_json::json!({ "call_id": id, "recording": if pause { "paused" } else { "recording" } })))
}
