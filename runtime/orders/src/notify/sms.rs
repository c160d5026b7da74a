//! SMS through an HTTP gateway: POST a configurable JSON or form body with `{to}` and `{text}`.
//!
//! Carriers' gateways differ in field names and auth headers, so the body is a template and the
//! headers are configurable. Values are escaped for the body's encoding before substitution, so a
//! message containing quotes or `&` cannot break the request.

use super::{Channel, DeliveryError, Outbound, classify_reqwest, classify_status};
use crate::OrdersError;
use crate::config::{SmsConfig, SmsFormat};
use courtyard_store::model::normalize_phone;
use std::time::Duration;

/// The SMS channel.
pub struct SmsChannel {
    cfg: SmsConfig,
    http: reqwest::Client,
}

impl SmsChannel {
    /// Build the HTTP client for a gateway.
    pub fn new(cfg: SmsConfig) -> Result<SmsChannel, OrdersError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.timeout_ms))
            .build()
            .map_err(|e| OrdersError::Config(format!("orders.sms: {e}")))?;
        Ok(SmsChannel { cfg, http })
    }

    /// The request body for one message (public so operators can preview a template).
    pub fn render(&self, to: &str, text: &str) -> String {
        let (to, text) = match self.cfg.format {
            SmsFormat::Json => (json_escape(to), json_escape(text)),
            SmsFormat::Form => (form_escape(to), form_escape(text)),
        };
        // Substitute in one pass so a `{text}` inside the recipient is not expanded again.
        let t = &self.cfg.template;
        let mut out = String::with_capacity(t.len() + text.len());
        let mut rest = t.as_str();
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(r) = tail.strip_prefix("{to}") {
                out.push_str(&to);
                rest = r;
            } else if let Some(r) = tail.strip_prefix("{text}") {
                out.push_str(&text);
                rest = r;
            } else {
                out.push('{');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }
}

fn json_escape(s: &str) -> String {
    let q = serde_json::Value::String(s.to_string()).to_string();
    q[1..q.len() - 1].to_string()
}

fn form_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Send one SMS; `to` must be a phone number.
pub(crate) async fn send_sms(ch: &SmsChannel, to: &str, text: &str) -> Result<(), DeliveryError> {
    let number = normalize_phone(to);
    if number.len() < 5 {
        return Err(DeliveryError::Permanent(format!("'{to}' is not a phone number")));
    }
    let body = ch.render(&number, text);
    let ctype = match ch.cfg.format {
        SmsFormat::Json => "application/json",
        SmsFormat::Form => "application/x-www-form-urlencoded",
    };
    let mut req = ch.http.post(&ch.cfg.url).header("content-type", ctype).body(body);
    for (k, v) in &ch.cfg.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.map_err(classify_reqwest)?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    classify_status(status, &text)?;
    if let Some(needle) = &ch.cfg.success_contains
        && !text.contains(needle.as_str())
    {
        let snippet: String = text.chars().take(200).collect();
        return Err(DeliveryError::Transient(format!("gateway reply lacks '{needle}': {snippet}")));
    }
    Ok(())
}

#[async_trait::async_trait]
impl Channel for SmsChannel {
    fn name(&self) -> &'static str {
        "sms"
    }
    async fn send(&self, msg: &Outbound<'_>) -> Result<(), DeliveryError> {
        send_sms(self, msg.to, msg.text).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(format: SmsFormat, template: &str) -> SmsChannel {
        SmsChannel::new(SmsConfig {
            url: "http://127.0.0.1:1/".into(),
            format,
            template: template.into(),
            headers: Default::default(),
            success_contains: None,
            timeout_ms: 100,
        })
        .unwrap()
    }

    #[test]
    fn json_template_escapes_quotes_and_keeps_chinese() {
        let c = ch(SmsFormat::Json, r#"{"m":"{to}","c":"{text}"}"#);
        let body = c.render("13800138000", "工单 \"2611270001\" {to}\n");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["m"], "13800138000");
        assert_eq!(v["c"], "工单 \"2611270001\" {to}\n");
    }

    #[test]
    fn form_template_percent_encodes() {
        let c = ch(SmsFormat::Form, "mobile={to}&content={text}");
        let body = c.render("13800138000", "a&b=c 水管");
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        assert_eq!(pairs, vec![("mobile".into(), "13800138000".into()), ("content".into(), "a&b=c 水管".into())]);
    }
}
