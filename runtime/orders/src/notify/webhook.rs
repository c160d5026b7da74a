//! Signed webhooks to the firm's own app: JSON POST with an HMAC-SHA256 signature.
//!
//! Headers: `X-Courtyard-Timestamp: <unix seconds>`, `X-Courtyard-Signature: sha256=<hex>` where
//! the MAC covers `"<timestamp>.<body>"`, and `X-Courtyard-Delivery: <notification id>`.
//! Binding the timestamp into the MAC lets the receiver refuse replays older than a tolerance
//! ([`verify`]); the delivery id lets it drop duplicates (delivery is at-least-once).

use super::{Channel, DeliveryError, Outbound, classify_reqwest, classify_status};
use crate::OrdersError;
use crate::config::WebhookConfig;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-courtyard-signature";
/// Header carrying the unix timestamp (seconds) that is part of the MAC.
pub const TIMESTAMP_HEADER: &str = "x-courtyard-timestamp";
/// Header carrying the notification id.
pub const DELIVERY_HEADER: &str = "x-courtyard-delivery";

/// `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

// HMAC accepts keys of any length; this only satisfies the type.
fn unreachable_hmac() -> ! {
    panic!("HMAC-SHA256 accepts any key length")
}

/// Why a receiver refuses a webhook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Header missing or not `sha256=<hex>` / not a number.
    #[error("malformed signature headers: {0}")]
    Malformed(String),
    /// Timestamp outside the tolerance (replay or clock skew).
    #[error("timestamp {0} is outside the allowed window")]
    Stale(i64),
    /// MAC mismatch (wrong secret or tampered body).
    #[error("signature does not match")]
    Mismatch,
}

/// Receiver side: check signature and freshness (`now_unix` ± `tolerance_secs`).
/// Comparison is constant-time.
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp_header.trim().parse().map_err(|_| VerifyError::Malformed(format!("timestamp '{timestamp_header}'")))?;
    if (now_unix - ts).abs() > tolerance_secs {
        return Err(VerifyError::Stale(ts));
    }
    let hex_sig = signature_header
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| VerifyError::Malformed("signature lacks 'sha256='".into()))?;
    let sig = hex::decode(hex_sig).map_err(|_| VerifyError::Malformed("signature is not hex".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| VerifyError::Mismatch)?;
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| VerifyError::Mismatch)
}

/// The webhook channel; `to` is the target URL.
pub struct WebhookChannel {
    cfg: WebhookConfig,
    http: reqwest::Client,
}

impl WebhookChannel {
    /// Build the HTTP client.
    pub fn new(cfg: WebhookConfig) -> Result<WebhookChannel, OrdersError> {
        if cfg.secret.is_empty() {
            return Err(OrdersError::Config("orders.webhook.secret must not be empty".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.timeout_ms))
            .build()
            .map_err(|e| OrdersError::Config(format!("orders.webhook: {e}")))?;
        Ok(WebhookChannel { cfg, http })
    }

    fn check_url(&self, to: &str) -> Result<url::Url, DeliveryError> {
        let u = url::Url::parse(to).map_err(|e| DeliveryError::Permanent(format!("webhook URL '{to}': {e}")))?;
        if u.scheme() != "http" && u.scheme() != "https" {
            return Err(DeliveryError::Permanent(format!("webhook URL '{to}' is not http(s)")));
        }
        // Plugins choose `to`; without an allow-list a plugin could make the runtime POST anywhere.
        if !self.cfg.allowed_prefixes.is_empty() && !self.cfg.allowed_prefixes.iter().any(|p| to.starts_with(p.as_str())) {
            return Err(DeliveryError::Permanent(format!("webhook URL '{to}' is not in orders.webhook.allowed_prefixes")));
        }
        Ok(u)
    }
}

#[async_trait::async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &'static str {
        "webhook"
    }
    async fn send(&self, msg: &Outbound<'_>) -> Result<(), DeliveryError> {
        let url = self.check_url(msg.to)?;
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let body = serde_json::json!({
            "id": msg.id,
            "order_id": msg.order_id,
            "text": msg.text,
            "timestamp": ts,
        })
        .to_string();
        let sig = sign(self.cfg.secret.as_bytes(), ts, body.as_bytes());
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, sig)
            .header(DELIVERY_HEADER, msg.id)
            .body(body)
            .send()
            .await
            .map_err(classify_reqwest)?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        classify_status(status, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_round_trip_and_refusals() {
        let body = br#"{"id":"n1"}"#;
        let sig = sign(b"k", 1000, body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert_eq!(verify(b"k", "1000", &sig, body, 1010, 300), Ok(()));
        assert_eq!(verify(b"other", "1000", &sig, body, 1010, 300), Err(VerifyError::Mismatch));
        assert_eq!(verify(b"k", "1000", &sig, br#"{"id":"n2"}"#, 1010, 300), Err(VerifyError::Mismatch));
        // replaying the same body with a fresh timestamp does not verify: the timestamp is signed
        assert_eq!(verify(b"k", "2000", &sig, body, 2000, 300), Err(VerifyError::Mismatch));
        assert_eq!(verify(b"k", "1000", &sig, body, 2000, 300), Err(VerifyError::Stale(1000)));
        assert!(matches!(verify(b"k", "x", &sig, body, 1000, 300), Err(VerifyError::Malformed(_))));
    }
}
