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
use chrono::Duration;
use courtyard_store::{Clock, Store};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

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

/// Ids of notifications known to be queued, so a pass reads those instead of decoding every
/// `ntf/` record ever written. Writers in this process add to it; a periodic full pass catches
/// records queued by other writers (and rebuilds it after a restart).
#[derive(Default)]
pub(crate) struct Pending {
    ids: parking_lot::Mutex<HashSet<String>>,
    last_full: parking_lot::Mutex<Option<Instant>>,
}

impl Pending {
    /// Note a freshly queued notification.
    pub(crate) fn add(&self, id: &str) {
        self.ids.lock().insert(id.to_string());
    }
    fn remove(&self, id: &str) {
        self.ids.lock().remove(id);
    }
    /// Whether a full pass is due (and mark it as started).
    fn take_full(&self, every_ms: u64) -> bool {
        let mut l = self.last_full.lock();
        let due = l.is_none_or(|t| t.elapsed().as_millis() >= u128::from(every_ms));
        if due {
            *l = Some(Instant::now());
        }
        due
    }
}

/// Sends queued notifications.
pub struct Worker {
    store: Arc<Store>,
    channels: Channels,
    cfg: WorkerConfig,
    clock: Arc<dyn Clock>,
    /// One pass at a time, so a notification is never in two attempts at once.
    pass: tokio::sync::Mutex<()>,
    pub(crate) pending: Arc<Pending>,
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
        Worker { store, channels, cfg, clock, pass: tokio::sync::Mutex::new(()), pending: Arc::new(Pending::default()) }
    }

    /// Delay before the attempt after `attempts` failures.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(30);
        let ms = self.cfg.backoff_initial_ms.saturating_mul(1u64 << shift).min(self.cfg.backoff_max_ms);
        Duration::milliseconds(ms as i64)
    }

    /// One pass: every notification due now gets one attempt.
    pub async fn run_once(&self) -> Result<DeliveryPass, OrdersError> {
        let _g = self.pass.lock().await;
        let now = self.clock.now();
        let due = if self.pending.take_full(self.cfg.full_scan_ms) {
            let queued = self.store.list::<Notification>(|n| n.status == STATUS_QUEUED, 0, usize::MAX)?.items;
            *self.pending.ids.lock() = queued.iter().map(|n| n.id.clone()).collect();
            queued.into_iter().filter(|n| n.is_due(now)).take(BATCH).collect::<Vec<_>>()
        } else {
            let ids: Vec<String> = self.pending.ids.lock().iter().cloned().collect();
            let mut due = Vec::new();
            for id in ids {
                match self.store.get::<Notification>(&id)? {
                    Some(n) if n.status == STATUS_QUEUED => {
                        if n.is_due(now) && due.len() < BATCH {
                            due.push(n);
                        }
                    }
                    _ => self.pending.remove(&id),
                }
            }
            due
        };
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
            self.pending.remove(&n.id);
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
        if !matches!(outcome, Outcome::Retry) {
            self.pending.remove(&n.id);
        }
        Ok(outcome)
    }
}
