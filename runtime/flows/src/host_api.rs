//! The seam between the plugin host and the rest of the runtime.
//!
//! The flows host does not know about SIP, RTP or sled. What a plugin asks for goes through these
//! traits: [`CallControl`] is implemented per call by the media/SIP side (and by the simulator),
//! the business capability traits are implemented once per process over the store (and by the
//! simulator's in-memory fixtures). All are object safe (`Arc<dyn ...>`), `Send + Sync`, and use
//! the generated WIT types from [`crate::wit`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::policy::FlowFailure;
use crate::wit::{
    Bill, CallError, CallInfo, Channel, CollectOptions, Collected, Estate, Level, NewOrder, Order,
    QueueOutcome, RecordOptions, Recording, Resident, Segment, ServiceError, Unit, WarrantyItem,
};

/// Control of one live call; the plugin's `call` interface is forwarded here.
///
/// Every method completes when the media action is done. After the caller hung up, methods
/// return `Err(CallError::Hangup)` (the host then treats the end of the flow as normal, not as a
/// plugin failure).
#[async_trait]
pub trait CallControl: Send + Sync {
    /// Facts about the call known when the flow starts.
    fn info(&self) -> CallInfo;
    /// Answer the call (idempotent).
    async fn answer(&self) -> Result<(), CallError>;
    /// Play a prompt to the end; with `barge_in` a key press stops it (the key is kept for the
    /// next `collect`).
    async fn say(&self, prompt: &[Segment], barge_in: bool) -> Result<(), CallError>;
    /// Play a prompt, then collect DTMF digits.
    async fn collect(&self, prompt: &[Segment], options: &CollectOptions) -> Result<Collected, CallError>;
    /// Record the caller.
    async fn record(&self, options: &RecordOptions) -> Result<Recording, CallError>;
    /// Blind transfer (the dial plan decides what is allowed).
    async fn transfer(&self, target: &str) -> Result<(), CallError>;
    /// Put the caller in an ACD queue and wait until the queue is done with the call.
    async fn enqueue(&self, queue: &str, priority: u32) -> Result<QueueOutcome, CallError>;
    /// End the call.
    async fn hangup(&self);
    /// Set a call variable (call record, agent screen-pop).
    async fn set_var(&self, name: &str, value: &str);
    /// Read a call variable.
    async fn get_var(&self, name: &str) -> Option<String>;
    /// Mark an IVR path step for reports and the call record.
    async fn mark(&self, node: &str);
    /// A plugin log line for this call's trace (the host already emits it to `tracing`).
    async fn log(&self, _level: Level, _message: &str) {}
    /// The plugin failed on this call (for the call record); the failure policy runs next.
    async fn flow_failed(&self, _failure: &FlowFailure) {}
}

/// Who is calling: caller number to residents, units and estates (`directory` interface).
#[async_trait]
pub trait Directory: Send + Sync {
    /// Residents whose phone list contains this number.
    async fn lookup_caller(&self, number: &str) -> Result<Vec<Resident>, ServiceError>;
    /// A unit by id.
    async fn get_unit(&self, unit_id: &str) -> Result<Option<Unit>, ServiceError>;
    /// A unit by building / entrance / room, within an estate when given.
    async fn find_unit(
        &self,
        estate_id: Option<&str>,
        building: &str,
        entrance: &str,
        room: &str,
    ) -> Result<Option<Unit>, ServiceError>;
    /// An estate by id.
    async fn get_estate(&self, estate_id: &str) -> Result<Option<Estate>, ServiceError>;
    /// Residents linked to a unit.
    async fn residents_of_unit(&self, unit_id: &str) -> Result<Vec<Resident>, ServiceError>;
    /// Warranty items of a unit with computed end dates.
    async fn warranty(&self, unit_id: &str) -> Result<Vec<WarrantyItem>, ServiceError>;
}

/// Bills and arrears of a unit (`billing` interface).
#[async_trait]
pub trait Billing: Send + Sync {
    /// Bills of a unit, newest first; only unpaid ones when `unpaid_only`.
    async fn bills(&self, unit_id: &str, unpaid_only: bool) -> Result<Vec<Bill>, ServiceError>;
    /// Total unpaid amount in fen.
    async fn arrears(&self, unit_id: &str) -> Result<i64, ServiceError>;
    /// A payment link for the unit's unpaid bills.
    async fn payment_link(&self, unit_id: &str) -> Result<String, ServiceError>;
}

/// Work orders and callback tasks (`work-orders` interface).
#[async_trait]
pub trait WorkOrders: Send + Sync {
    /// Open a work order; returns it with its number.
    async fn create(&self, order: NewOrder) -> Result<Order, ServiceError>;
    /// A work order by number.
    async fn get(&self, id: &str) -> Result<Option<Order>, ServiceError>;
    /// Orders of a unit, newest first; only open ones when `open_only`.
    async fn list_for_unit(&self, unit_id: &str, open_only: bool) -> Result<Vec<Order>, ServiceError>;
    /// Record a satisfaction score; a low score reopens the order as a child (its id returned).
    async fn rate(
        &self,
        id: &str,
        score: u8,
        comment_recording_id: Option<&str>,
    ) -> Result<Option<String>, ServiceError>;
    /// A callback task for an agent; returns the task id.
    async fn create_callback(
        &self,
        number: &str,
        reason: &str,
        recording_id: Option<&str>,
        due: &str,
    ) -> Result<String, ServiceError>;
}

/// Messages outside the call (`notify` interface).
#[async_trait]
pub trait Notify: Send + Sync {
    /// Queue a message for delivery; returns the message id.
    async fn send(&self, channel: Channel, to: &str, text: &str) -> Result<String, ServiceError>;
}

/// Plugin-scoped key-value storage (`kv` interface); `plugin` is the plugin name, the isolation
/// boundary (two plugins never see each other's keys).
#[async_trait]
pub trait Kv: Send + Sync {
    /// Value of a key.
    async fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError>;
    /// Set a key.
    async fn set(&self, plugin: &str, key: &str, value: Vec<u8>) -> Result<(), ServiceError>;
    /// Delete a key.
    async fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError>;
    /// Add `delta` to a decimal counter; returns the new value.
    async fn increment(&self, plugin: &str, key: &str, delta: i64) -> Result<i64, ServiceError>;
}

/// Time and working-hours calendars (`clock` interface).
#[async_trait]
pub trait Clock: Send + Sync {
    /// Now, ISO-8601 date-time in the call center's time zone.
    async fn now(&self) -> String;
    /// Whether the named calendar is open now ("default" is the call center's own).
    async fn is_open(&self, calendar: &str) -> bool;
    /// The next opening time of the calendar, ISO-8601.
    async fn next_open(&self, calendar: &str) -> String;
}

/// Operator-managed content (`content` interface).
#[async_trait]
pub trait Content: Send + Sync {
    /// Announcements valid today for an estate (or all estates when none), newest first.
    async fn announcements(&self, estate_id: Option<&str>) -> Vec<String>;
    /// The spoken answer for a knowledge-base topic, if any.
    async fn kb_answer(&self, topic: &str) -> Option<String>;
}

/// The business capabilities a plugin may be granted, as shared trait objects.
///
/// Built once per process by the runtime (over the store) and cloned into each call.
#[derive(Clone)]
pub struct Services {
    /// Caller lookup, units, estates, warranty.
    pub directory: Arc<dyn Directory>,
    /// Bills and arrears.
    pub billing: Arc<dyn Billing>,
    /// Work orders and callbacks.
    pub work_orders: Arc<dyn WorkOrders>,
    /// SMS / e-mail / webhook / on-duty messages.
    pub notify: Arc<dyn Notify>,
    /// Plugin-scoped key-value storage.
    pub kv: Arc<dyn Kv>,
    /// Time and calendars.
    pub clock: Arc<dyn Clock>,
    /// Announcements and knowledge base.
    pub content: Arc<dyn Content>,
}

impl Services {
    /// Services where every business call fails with `service-error::unavailable` (clock uses the
    /// system time and is always open): a safe default until real backends are wired, and the
    /// services seen by canary runs.
    pub fn unavailable() -> Self {
        let u = Arc::new(crate::unavailable::UnavailableServices);
        Services {
            directory: u.clone(),
            billing: u.clone(),
            work_orders: u.clone(),
            notify: u.clone(),
            kv: u.clone(),
            clock: u.clone(),
            content: u,
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Services { .. }")
    }
}
