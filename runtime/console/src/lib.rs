//! courtyard-console: the web console (agent desktop, supervisor wallboard, admin, reports),
//! served by the runtime next to the HTTP API.
//!
//! The lead mounts [`router`] beside the API router and publishes every live event (ACD events,
//! call started/ended, anything with a `"type"` tag) into one broadcast channel:
//! ```ignore
//! let (events, _) = tokio::sync::broadcast::channel::<serde_json::Value>(1024);
//! let api = courtyard_api::router(state);
//! let app = api.clone().merge(courtyard_console::router(events.clone(), api));
//! // forward the ACD: while let Ok(ev) = acd_rx.recv().await { let _ = events.send(serde_json::to_value(ev)?); }
//! ```
//! The console never touches the store: it calls the API router it was given **in-process**
//! (tower `oneshot`, no socket) with the browser's own token, so the API's role checks, masking
//! and audit apply unchanged. See `runtime/console/README.md` and `docs/console.md`.

mod assets;
mod auth;
mod calls;
mod offers;
mod ws;

pub use auth::Viewer;
pub use offers::OfferRecord;

use axum::Router;
use axum::routing::{get, post};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Shared state of the console routes.
#[derive(Clone)]
pub(crate) struct ConsoleState {
    /// Live events published by the runtime.
    pub events: broadcast::Sender<Value>,
    /// The API router (state applied), called in-process for auth and data.
    pub api: Router,
    /// Recent `offer_started` events, so screen-pop and "order from this call" know the full
    /// caller number without ever sending it to a masked browser.
    pub offers: Arc<offers::OfferBook>,
}

/// The console router: static UI at `/console/…`, live events at `/console/ws`, and the
/// call-bound helpers at `/console/api/…`. `api` is the courtyard-api router (state applied),
/// used in-process to validate tokens (`GET /api/v1/auth/me`) and to read/write data with the
/// browser's token. Call inside a tokio runtime (it spawns the task that records offers).
pub fn router(events: broadcast::Sender<Value>, api: Router) -> Router {
    let offers = Arc::new(offers::OfferBook::new(512));
    offers::spawn_recorder(offers.clone(), events.subscribe());
    let state = ConsoleState { events, api, offers };
    Router::new()
        .route("/console", get(assets::redirect_index))
        .route("/console/", get(assets::index))
        .route("/console/ws", get(ws::handler))
        .route("/console/api/pop/{call_id}", get(calls::screen_pop))
        .route("/console/api/calls/{call_id}/order", post(calls::order_from_call))
        .route("/console/api/calls/{call_id}/resident", post(calls::register_caller))
        .route("/console/{*path}", get(assets::file))
        .with_state(state)
}

/// Names of the embedded asset files (for tests and the README).
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    assets::ASSETS.iter().map(|a| a.0)
}
