//! courtyard-orders: what happens to a work order after the call.
//!
//! - [`dispatch`]: responsibility table (estate + category → manager → team lead → technician),
//!   auto-dispatch and 二次指派, each one store transition plus an assignee notification.
//! - [`notify`]: channels behind one trait — SMS gateway, SMTP e-mail, signed webhook, on-duty.
//! - [`worker`]: delivers queued `ntf/` records with bounded exponential backoff; at-least-once.
//! - [`sla`]: escalation ladder on an injected clock, persisted, each level fired exactly once.
//! - [`callback`]: the 100% 回访 rule.
//! - [`Workflow`]: the façade the binary starts ([`Workflow::start`]) and the API calls.
//!
//! See `README.md` for wiring and config keys, `docs/work-orders.md` for the lifecycle.

pub mod callback;
pub mod config;
pub mod dispatch;
mod error;
pub mod notify;
pub mod record;
pub mod sla;
pub mod worker;
mod workflow;

pub use callback::CallbackOutcome;
pub use config::OrdersConfig;
pub use error::OrdersError;
pub use record::{EscalationEvent, Notification};
pub use sla::{EscalationOverview, ScanReport};
pub use workflow::{CHANNELS, Workflow, WorkflowHandle};
