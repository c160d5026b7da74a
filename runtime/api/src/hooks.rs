//! Hooks into live call state that only the runtime has (the lead wires them in `courtyard`).
//! Every hook defaults to "not provided", which the API answers with 503 "not available".

use courtyard_store::model::{OrderState, WorkOrder};
use futures::future::BoxFuture;

use crate::ApiError;

/// A work-order transition asked for over the API, handed to the runtime's workflow.
#[derive(Debug, Clone)]
pub struct OrderTransition {
    /// Order id.
    pub id: String,
    /// Target state.
    pub to: OrderState,
    /// Who asks (the API user).
    pub actor: String,
    /// Named assignee (dispatch / re-dispatch).
    pub assignee: Option<String>,
    /// Note (a cancel's reason).
    pub note: Option<String>,
}

/// Live-call features the API exposes but the runtime implements.
pub trait ApiHooks: Send + Sync + 'static {
    /// Calls in progress (any JSON the console understands), or `None` when not wired.
    fn live_calls(&self) -> Option<BoxFuture<'_, serde_json::Value>> {
        None
    }
    /// Pause (`pause = true`) or resume recording of a call (PCI: pause while a card number is
    /// read). `None` when not wired; `Some(Err(reason))` when the call is unknown etc.
    fn recording_control(&self, _call_id: &str, _pause: bool) -> Option<BoxFuture<'_, Result<(), String>>> {
        None
    }
    /// Prometheus text for `/metrics`, or `None` when not wired.
    fn metrics(&self) -> Option<String> {
        None
    }
    /// Runs a work-order transition through the runtime's workflow — dispatch by the
    /// responsibility table with notifications, the 回访 task when an order is done — instead of
    /// the store's checked transition alone. `None` when not wired.
    fn order_transition(&self, _t: OrderTransition) -> Option<BoxFuture<'_, Result<WorkOrder, ApiError>>> {
        None
    }
    /// The routes the runtime adds to the API router, for `/api/v1/openapi.json`.
    fn route_docs(&self) -> &'static [crate::RouteDoc] {
        &[]
    }
    /// Whether the runtime takes calls (for `/readyz`); defaults to ready.
    fn ready(&self) -> bool {
        true
    }
}

/// The default: nothing wired.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl ApiHooks for NoHooks {}
