//! Hooks into live call state that only the runtime has (the lead wires them in `courtyard`).
//! Every hook defaults to "not provided", which the API answers with 503 "not available".

use futures::future::BoxFuture;

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
    /// Whether the runtime takes calls (for `/readyz`); defaults to ready.
    fn ready(&self) -> bool {
        true
    }
}

/// The default: nothing wired.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl ApiHooks for NoHooks {}
