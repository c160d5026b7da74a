//! Call-bound helpers for the agent desktop: screen-pop of an offered call and writes that need
//! the caller's full number (work order, quick registration). They forward to the API with the
//! browser's token, so the API's role checks, masking and audit log apply.

use crate::ConsoleState;
use crate::auth::{Viewer, call_api, token_of, validate};
use crate::offers::OfferRecord;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use courtyard_store::model::{Role, mask_phone};
use serde_json::{Value, json};
use std::time::Duration;

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

async fn viewer(st: &ConsoleState, headers: &HeaderMap) -> Result<Viewer, Response> {
    let Some(token) = token_of(headers, None) else {
        return Err(err(StatusCode::UNAUTHORIZED, "login required: sign in to the console again"));
    };
    validate(&st.api, &token).await.ok_or_else(|| err(StatusCode::UNAUTHORIZED, "session expired: sign in to the console again"))
}

/// The offer of `call_id` if this viewer may work on it (its agent, or a supervisor/admin).
async fn offer_for(st: &ConsoleState, v: &Viewer, call_id: &str) -> Result<OfferRecord, Response> {
    let Some(o) = st.offers.wait_for(call_id, Duration::from_secs(2)).await else {
        return Err(err(StatusCode::NOT_FOUND, format!("call {call_id} was not offered recently; search the caller by number instead")));
    };
    let allowed = match v.role {
        Role::Admin | Role::Supervisor => true,
        Role::Agent => o.agent_id == v.agent_id(),
        Role::PluginVendor => false,
    };
    if !allowed {
        return Err(err(StatusCode::FORBIDDEN, format!("call {call_id} was offered to agent {}, not to you", o.agent_id)));
    }
    Ok(o)
}

/// Percent-encode a path segment (phone numbers are digits, maybe `+`).
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn shown_number(v: &Viewer, n: &str) -> String {
    if v.masked { mask_phone(n) } else { n.to_string() }
}

/// `GET /console/api/pop/{call_id}`: the caller view (`GET /api/v1/callers/{number}`) of an
/// offered call, plus the offer (queue, wait, data_ref) — available before the agent answers.
pub(crate) async fn screen_pop(State(st): State<ConsoleState>, headers: HeaderMap, Path(call_id): Path<String>) -> Response {
    let v = match viewer(&st, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let o = match offer_for(&st, &v, &call_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let ans = call_api(&st.api, &v.token, "GET", &format!("/api/v1/callers/{}", seg(&o.caller)), None).await;
    if ans.status != StatusCode::OK {
        return (ans.status, Json(ans.body)).into_response();
    }
    Json(json!({ "offer": o, "caller": shown_number(&v, &o.caller), "view": ans.body })).into_response()
}

/// `POST /console/api/calls/{call_id}/order`: create a work order from an offered call. The body
/// is the API's `NewOrder` without `caller` (filled from the call); `call_id` is set, and the
/// call's recording is attached when its CDR already names one.
pub(crate) async fn order_from_call(
    State(st): State<ConsoleState>,
    headers: HeaderMap,
    Path(call_id): Path<String>,
    Json(mut body): Json<Value>,
) -> Response {
    let v = match viewer(&st, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let o = match offer_for(&st, &v, &call_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(obj) = body.as_object_mut() else {
        return err(StatusCode::BAD_REQUEST, "send a JSON object with category, description and priority");
    };
    obj.insert("caller".into(), json!(o.caller));
    obj.insert("call_id".into(), json!(o.call_id));
    if obj.get("recording_id").is_none_or(Value::is_null) {
        let cdr = call_api(&st.api, &v.token, "GET", &format!("/api/v1/cdrs/{}", seg(&call_id)), None).await;
        if let Some(rec) = cdr.body.get("recording_id").and_then(Value::as_str) {
            obj.insert("recording_id".into(), json!(rec));
        }
    }
    let ans = call_api(&st.api, &v.token, "POST", "/api/v1/orders", Some(&body)).await;
    (ans.status, Json(ans.body)).into_response()
}

/// `POST /console/api/calls/{call_id}/resident`: quick registration of an unknown caller. Body:
/// the API's `Resident` without `phones` (the caller's number is used).
pub(crate) async fn register_caller(
    State(st): State<ConsoleState>,
    headers: HeaderMap,
    Path(call_id): Path<String>,
    Json(mut body): Json<Value>,
) -> Response {
    let v = match viewer(&st, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let o = match offer_for(&st, &v, &call_id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(obj) = body.as_object_mut() else {
        return err(StatusCode::BAD_REQUEST, "send a JSON object with name, role and unit_ids");
    };
    obj.insert("phones".into(), json!([o.caller]));
    let ans = call_api(&st.api, &v.token, "POST", "/api/v1/residents", Some(&body)).await;
    (ans.status, Json(ans.body)).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(super::seg("+86 138/0"), "%2B86%20138%2F0");
        assert_eq!(super::seg("13800138000"), "13800138000");
    }
}
