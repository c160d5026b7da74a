//! Notification channels behind one trait, so the delivery worker does not care whether a
//! message leaves as an SMS, an e-mail or a signed webhook.
//!
//! A channel makes **one** attempt and classifies a failure: [`DeliveryError::Transient`]
//! (timeout, 5xx, 429, connection refused) is retried by the worker with backoff,
//! [`DeliveryError::Permanent`] (bad address, 4xx, URL not allowed) ends the notification as
//! `failed: …` at once, because retrying cannot help.

pub mod email;
pub mod on_duty;
pub mod sms;
pub mod webhook;

use crate::OrdersError;
use crate::config::OrdersConfig;
use courtyard_store::Clock;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why one delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help.
    #[error("{0}")]
    Permanent(String),
}

/// What a channel gets to send.
#[derive(Debug, Clone)]
pub struct Outbound<'a> {
    /// Notification id (receivers may use it to drop duplicates: delivery is at-least-once).
    pub id: &'a str,
    /// Recipient as queued.
    pub to: &'a str,
    /// Text.
    pub text: &'a str,
    /// Work order it concerns.
    pub order_id: Option<&'a str>,
}

/// A way to deliver a notification.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// Channel name as stored in `Notification::channel` ("sms", "email", …).
    fn name(&self) -> &'static str;
    /// One delivery attempt.
    async fn send(&self, msg: &Outbound<'_>) -> Result<(), DeliveryError>;
}

/// The configured channels by name.
#[derive(Clone, Default)]
pub struct Channels {
    by_name: BTreeMap<&'static str, Arc<dyn Channel>>,
}

impl Channels {
    /// Build the channels the config enables.
    pub fn from_config(cfg: &OrdersConfig, clock: Arc<dyn Clock>) -> Result<Channels, OrdersError> {
        let mut c = Channels::default();
        let sms = match &cfg.sms {
            Some(s) => Some(Arc::new(sms::SmsChannel::new(s.clone())?)),
            None => None,
        };
        if let Some(s) = &sms {
            c.insert(s.clone());
            if !cfg.on_duty.shifts.is_empty() {
                c.insert(Arc::new(on_duty::OnDutyChannel::new(cfg.on_duty.clone(), s.clone(), clock)?));
            }
        }
        if let Some(e) = &cfg.email {
            c.insert(Arc::new(email::EmailChannel::new(e.clone())?));
        }
        if let Some(w) = &cfg.webhook {
            c.insert(Arc::new(webhook::WebhookChannel::new(w.clone())?));
        }
        Ok(c)
    }

    /// Add or replace a channel (tests, custom channels).
    pub fn insert(&mut self, ch: Arc<dyn Channel>) {
        self.by_name.insert(ch.name(), ch);
    }

    /// The channel for a stored channel name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.by_name.get(name)
    }
}

/// Classify an HTTP status: 2xx ok, 408/429/5xx transient, other 4xx permanent.
pub(crate) fn classify_status(status: reqwest::StatusCode, body: &str) -> Result<(), DeliveryError> {
    if status.is_success() {
        return Ok(());
    }
    let snippet: String = body.chars().take(200).collect();
    let msg = format!("HTTP {status}: {snippet}");
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(DeliveryError::Transient(msg))
    } else {
        Err(DeliveryError::Permanent(msg))
    }
}

/// Classify a transport error of reqwest.
pub(crate) fn classify_reqwest(e: reqwest::Error) -> DeliveryError {
    if e.is_builder() {
        DeliveryError::Permanent(format!("bad request: {e}"))
    } else {
        DeliveryError::Transient(format!("{e}"))
    }
}
