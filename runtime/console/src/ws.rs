//! `GET /console/ws`: every JSON event published on the runtime's broadcast channel, forwarded
//! to logged-in browsers. Phone numbers are masked for roles that see masked numbers (the same
//! rule and field list as the API). A browser that falls behind gets `{"type":"lagged"}` and
//! should reload its snapshot.

use crate::ConsoleState;
use crate::auth::{Viewer, token_of, validate};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// Query of the WebSocket URL.
#[derive(Debug, Deserialize)]
pub(crate) struct WsQuery {
    token: Option<String>,
}

/// Upgrade after checking the token (401 JSON otherwise, before any upgrade).
pub(crate) async fn handler(State(st): State<ConsoleState>, Query(q): Query<WsQuery>, headers: HeaderMap, ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> Response {
    let Some(token) = token_of(&headers, q.token.as_deref()) else {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "login required: pass ?token=<API token> or the session cookie"}))).into_response();
    };
    let Some(viewer) = validate(&st.api, &token).await else {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "token not valid (expired or logged out): log in again"}))).into_response();
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // Subscribe before the upgrade completes so no event published meanwhile is lost.
    let rx = st.events.subscribe();
    ws.on_upgrade(move |socket| forward(socket, rx, viewer))
}

/// Prepare one event for one viewer.
pub(crate) fn shape(mut ev: Value, viewer: &Viewer) -> Value {
    if viewer.masked {
        courtyard_api::mask::mask_json(&mut ev);
    }
    ev
}

async fn forward(mut socket: WebSocket, mut rx: broadcast::Receiver<Value>, viewer: Viewer) {
    let hello = json!({"type": "hello", "username": viewer.username, "role": viewer.role, "agent_id": viewer.agent_id(), "masked": viewer.masked});
    if socket.send(Message::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    tracing::debug!(user = %viewer.username, "console websocket open");
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let out = match ev {
                    Ok(v) => shape(v, &viewer),
                    Err(broadcast::error::RecvError::Lagged(n)) => json!({"type": "lagged", "skipped": n}),
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if socket.send(Message::Text(out.to_string().into())).await.is_err() {
                    break;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    tracing::debug!(user = %viewer.username, "console websocket closed");
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtyard_store::model::Role;

    #[test]
    fn masks_caller_for_agents_only() {
        let ev = json!({"type":"call_queued","caller":"13800138000","queue":"repairs"});
        let agent = Viewer { username: "8001".into(), role: Role::Agent, masked: true, agent_id: None, token: String::new() };
        let sup = Viewer { username: "sup".into(), role: Role::Supervisor, masked: false, agent_id: None, token: String::new() };
        assert_eq!(shape(ev.clone(), &agent)["caller"], "138****8000");
        assert_eq!(shape(ev, &sup)["caller"], "13800138000");
    }
}
