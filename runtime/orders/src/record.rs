//! Records this crate keeps in the store: queued notifications and the escalation log.
//!
//! Both are plain records (one key each, no secondary index) written through
//! [`Store::put`](courtyard_store::Store::put), which returns after the durability barrier.

use chrono::{DateTime, FixedOffset};
use courtyard_store::PlainRecord;
use courtyard_store::model::{OrderState, Record};
use serde::{Deserialize, Serialize};

/// Status of a notification still waiting for (another) delivery attempt.
pub const STATUS_QUEUED: &str = "queued";
/// Status after the channel accepted the message.
pub const STATUS_SENT: &str = "sent";
/// Status when no channel is configured for it.
pub const STATUS_NO_GATEWAY: &str = "no-gateway";

/// A message queued for delivery (SMS, e-mail, webhook, on-duty).
///
/// Wire-compatible with the `ntf/` records the runtime's plugin service writes: the first seven
/// fields are the same, the delivery fields are optional so either side reads the other's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Message id (also the idempotency key receivers can use).
    pub id: String,
    /// "sms", "email", "webhook", "on-duty".
    pub channel: String,
    /// Recipient (phone, address, URL or roster name).
    pub to: String,
    /// Message text.
    pub text: String,
    /// When it was queued.
    pub created_at: DateTime<FixedOffset>,
    /// "queued", "sent", "failed: …", or "no-gateway".
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before this time (set by the backoff after a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<FixedOffset>>,
    /// Error of the last failed attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the channel accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<FixedOffset>>,
    /// Work order it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

impl Notification {
    /// A fresh queued notification.
    pub fn queued(id: String, channel: &str, to: &str, text: &str, now: DateTime<FixedOffset>) -> Self {
        Notification {
            id,
            channel: channel.into(),
            to: to.into(),
            text: text.into(),
            created_at: now,
            status: STATUS_QUEUED.into(),
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            sent_at: None,
            order_id: None,
        }
    }

    /// Whether the worker should try it at `now`.
    pub fn is_due(&self, now: DateTime<FixedOffset>) -> bool {
        self.status == STATUS_QUEUED && self.next_attempt_at.is_none_or(|t| t <= now)
    }
}

impl Record for Notification {
    const PREFIX: &'static str = "ntf/";
    fn key(&self) -> String {
        self.id.clone()
    }
}
impl PlainRecord for Notification {}

/// "Escalation level N of order X fired at T": the exactly-once marker and the console's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationEvent {
    /// Order number.
    pub order_id: String,
    /// Level of the ladder.
    pub level: u8,
    /// Level name, e.g. "7 days not handled".
    pub name: String,
    /// When it fired (time of the scan that found it due).
    pub fired_at: DateTime<FixedOffset>,
    /// Order state at that moment.
    pub state: OrderState,
    /// Assignee at that moment.
    pub assignee: Option<String>,
    /// People told (target: name).
    pub targets: Vec<String>,
    /// Notification ids queued for it.
    pub notifications: Vec<String>,
}

impl EscalationEvent {
    /// Store key under the `esc/` prefix: `<order>/<level:03>` (one order's log is one prefix).
    pub fn key_of(order_id: &str, level: u8) -> String {
        format!("{order_id}/{level:03}")
    }
}

impl Record for EscalationEvent {
    const PREFIX: &'static str = "esc/";
    fn key(&self) -> String {
        EscalationEvent::key_of(&self.order_id, self.level)
    }
}
impl PlainRecord for EscalationEvent {}
