//! The delivery worker: picks queued `ntf/` records, sends them through their channel, retries
//! transient failures with bounded exponential backoff, and records status and attempts.
//!
//! **At-least-once.** The record is updated only after the channel answered. If the process dies
//! between a successful send and that write, the message is sent again after the restart. Every
//! channel passes the notification id along (webhook header `X-Courtyard-Delivery`, e-mail
//! `Message-ID`) so receivers that care can drop duplicates; SMS gateways usually cannot, which is
//! the accepted cost (a duplicate SMS is better than a lost dispatch).
//!
//! Retry schedule: after failed attempt *n* the next try is not before
//! `min(backoff_initial · 2^(n-1), backoff_max)`; after `max_attempts` the status becomes
//! `failed: <last error>`. The wait is persisted (`next_attempt_at`, on the injected clock), so a
//! restart neither forgets nor shortens it.

use crate::config::WorkerConfig;
use crate::notify::{Channels, DeliveryError, Outbound};
use crate::record::{Notification, STATUS_NO_GATEWAY, STATUS_QUEUED, STATUS_SENT};
use crate::OrdersError;
use chrono::{DateTime, Duration, FixedOffset};
use courtyard_store::{Clock, Store};
use futures::StreamExt;
use std::sync::Arc;

/// Most notifications handled in one pass (bounds memory; the next pass takes the rest).
const BATCH: usize = 2000;

/// Counts of one delivery pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryPass {
    /// Notifications attempted.
    pub attempted: usize,
    /// Accepted by their channel.
    pub sent: usize,
    /// Failed and queued again with backoff.
    pub retrying: usize,
    /// Failed for good (permanent error or attempts exhausted).
    pub failed: usize,
    /// No channel configured.
    pub no_gateway: usize,
}

/// Sends queued notifications.
pub struct Worker {
    store: Arc<Store>,
    channels: Channels,
    cfg: WorkerConfig,
    clock: Arc<dyn Clock>,
    /// One pass at a time, so a notification is never in two attempts at once.
    pass: tokio::sync::Mutex<()>,
}

enum Outcome {
    Sent,
    Retry,
    Failed,
    NoGateway,
}

impl Worker {
    /// A worker over the store's `ntf/` records.
    pub fn new(store: Arc<Store>, channels: Channels, cfg: WorkerConfig, clock: Arc<dyn Clock>) -> Worker {
        Worker { store, channels, cfg, clock, pass: tokio::sync::Mutex::new(()) }
    }

    /// Delay before the attempt after `attempts` failures.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(30);
        let ms = self.cfg.backoff_initial_ms.saturating_mul(1u64 << shift).min(self.cfg.backoff_max_ms);
        Duration::milliseconds(ms as i64)
    }

    /// When the earliest waiting notification becomes due (lets the loop sleep until then).
    pub fn next_due(&self) -> Result<Option<DateTime<FixedOffset>>, OrdersError> {
        let page = self.store.list::<Notification>(|n| n.status == STATUS_QUEUED, 0, usize::MAX)?;
        Ok(page.items.iter().map(|n| n.next_attempt_at.unwrap_or(n.created_at)).min())
    }

    /// One pass: every notification due now gets one attempt.
    pub async fn run_once(&self) -> Result<DeliveryPass, OrdersError> {
        let _g = self.pass.lock().await;
        let now = self.clock.now();
        let due = self.store.list::<Notification>(|n| n.is_due(now), 0, BATCH)?.items;
        let mut pass = DeliveryPass { attempted: due.len(), ..Default::default() };
        let results: Vec<Result<Outcome, OrdersError>> =
            futures::stream::iter(due).map(|n| self.deliver(n)).buffer_unordered(self.cfg.concurrency.max(1)).collect().await;
        for r in results {
            match r? {
                Outcome::Sent => pass.sent += 1,
                Outcome::Retry => pass.retrying += 1,
                Outcome::Failed => pass.failed += 1,
                Outcome::NoGateway => pass.no_gateway += 1,
            }
        }
        Ok(pass)
    }

    async fn deliver(&self, mut n: Notification) -> Result<Outcome, OrdersError> {
        let Some(ch) = self.channels.get(&n.channel) else {
            n.status = STATUS_NO_GATEWAY.into();
            n.last_error = Some(format!("no '{}' channel is configured in [orders]", n.channel));
            self.store.put(&n).await?;
            tracing::warn!(notification = %n.id, channel = %n.channel, "no gateway for notification");
            return Ok(Outcome::NoGateway);
        };
        let msg = Outbound { id: &n.id, to: &n.to, text: &n.text, order_id: n.order_id.as_deref() };
        let result = ch.send(&msg).await;
        let now = self.clock.now();
        n.attempts += 1;
        let outcome = match result {
            Ok(()) => {
                n.status = STATUS_SENT.into();
                n.sent_at = Some(now);
                n.next_attempt_at = None;
                tracing::info!(notification = %n.id, channel = %n.channel, attempts = n.attempts, "notification sent");
                Outcome::Sent
            }
            Err(DeliveryError::Transient(e)) if n.attempts < self.cfg.max_attempts => {
                let next = now + self.backoff(n.attempts);
                tracing::warn!(notification = %n.id, attempts = n.attempts, error = %e, retry_at = %next, "delivery failed, will retry");
                n.next_attempt_at = Some(next);
                n.last_error = Some(e);
                Outcome::Retry
            }
            Err(DeliveryError::Transient(e) | DeliveryError::Permanent(e)) => {
                tracing::error!(notification = %n.id, attempts = n.attempts, error = %e, "delivery failed for good");
                n.status = format!("failed: {e}");
                n.last_error = Some(e);
                n.next_attempt_at = None;
                Outcome::Failed
            }
        };
        self.store.put(&n).await?;
        Ok(outcome)
    }
}
