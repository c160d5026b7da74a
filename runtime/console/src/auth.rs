//! Who is calling: the browser's token (query `?token=`, `Authorization: Bearer`, or the API's
//! `courtyard_session` cookie) checked by calling the API's `GET /api/v1/auth/me` in-process.
//! One source of truth for sessions: logging out in the API closes the console too.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use courtyard_store::model::Role;
use serde::Deserialize;
use serde_json::Value;
use tower::ServiceExt;

/// The logged-in user of a console request, as the API describes them.
#[derive(Debug, Clone, Deserialize)]
pub struct Viewer {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Whether phone numbers are masked for this user.
    #[serde(default)]
    pub masked: bool,
    /// The ACD agent id, when the API reports it (falls back to the user name, as in the demo).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The token the user authenticated with (passed on to in-process API calls).
    #[serde(skip)]
    pub token: String,
}

impl Viewer {
    /// ACD agent id of this user.
    pub fn agent_id(&self) -> &str {
        self.agent_id.as_deref().unwrap_or(&self.username)
    }
}

/// The token of a request, if any (query parameter first, then bearer, then cookie).
pub(crate) fn token_of(headers: &HeaderMap, query_token: Option<&str>) -> Option<String> {
    if let Some(t) = query_token.filter(|t| !t.is_empty()) {
        return Some(t.to_string());
    }
    if let Some(t) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")) {
        return Some(t.trim().to_string());
    }
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == courtyard_api::auth::SESSION_COOKIE).then(|| v.to_string())
    })
}

/// Answer of an in-process API call.
pub(crate) struct ApiAnswer {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body (`Null` when empty or not JSON).
    pub body: Value,
}

/// Call the API router in-process with the viewer's token.
pub(crate) async fn call_api(api: &Router, token: &str, method: &str, uri: &str, body: Option<&Value>) -> ApiAnswer {
    let mut req = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(b) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let req = match req.body(body) {
        Ok(r) => r,
        Err(e) => return ApiAnswer { status: StatusCode::BAD_REQUEST, body: serde_json::json!({"error": format!("bad request: {e}")}) },
    };
    let resp = match api.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap_or_default();
    ApiAnswer { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

/// Validate a token against the API; `None` when it is missing, expired or revoked.
pub(crate) async fn validate(api: &Router, token: &str) -> Option<Viewer> {
    let ans = call_api(api, token, "GET", "/api/v1/auth/me", None).await;
    if ans.status != StatusCode::OK {
        return None;
    }
    let mut v: Viewer = serde_json::from_value(ans.body).ok()?;
    v.token = token.to_string();
    Some(v)
}
