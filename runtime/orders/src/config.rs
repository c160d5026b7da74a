//! The `[orders]` table of the runtime config: responsibility table, SLA ladder, channels.
//!
//! Every key has a default so an empty `[orders]` table (or none) gives a working workflow that
//! queues notifications and marks them `no-gateway` until a channel is configured.

use crate::OrdersError;
use courtyard_store::model::{Category, OrderState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the workflow needs; deserialized from `[orders]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrdersConfig {
    /// Let the scheduler dispatch orders left in `new` when a table row matches.
    pub auto_dispatch: bool,
    /// Worker poll period (ms); queued messages from this process wake it at once.
    pub tick_ms: u64,
    /// SLA scheduler scan period (ms): auto-dispatch latency and escalation granularity.
    pub scan_ms: u64,
    /// Due time of the 回访 task, hours after the order is done.
    pub callback_due_hours: i64,
    /// Delivery retries.
    pub worker: WorkerConfig,
    /// Responsibility table (estate + category → chain).
    pub dispatch: Vec<DispatchRule>,
    /// Escalation ladder.
    pub sla: SlaConfig,
    /// SMS HTTP gateway; none = SMS notifications end as `no-gateway`.
    pub sms: Option<SmsConfig>,
    /// SMTP relay; none = e-mail notifications end as `no-gateway`.
    pub email: Option<EmailConfig>,
    /// Signed webhooks; none = webhook notifications end as `no-gateway`.
    pub webhook: Option<WebhookConfig>,
    /// On-duty roster (sent by SMS).
    pub on_duty: OnDutyConfig,
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            auto_dispatch: true,
            tick_ms: 1000,
            scan_ms: 5000,
            callback_due_hours: 48,
            worker: WorkerConfig::default(),
            dispatch: vec![],
            sla: SlaConfig::default(),
            sms: None,
            email: None,
            webhook: None,
            on_duty: OnDutyConfig::default(),
        }
    }
}

/// Retry policy of the delivery worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Attempts before a notification is marked `failed: …`.
    pub max_attempts: u32,
    /// Delay after the first failure (ms); doubles per failure.
    pub backoff_initial_ms: u64,
    /// Upper bound of the delay (ms).
    pub backoff_max_ms: u64,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// Period (ms) of the full pass over all `ntf/` records that finds messages queued by other
    /// writers (the plugin service); between full passes only known-pending ones are read.
    pub full_scan_ms: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig { max_attempts: 6, backoff_initial_ms: 2000, backoff_max_ms: 600_000, concurrency: 8, full_scan_ms: 30_000 }
    }
}

/// A person in a dispatch chain or an escalation target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// "manager", "team-lead", "technician", … (shown in history notes).
    #[serde(default)]
    pub role: String,
    /// Name stored as the order's assignee.
    pub name: String,
    /// Mobile for SMS.
    #[serde(default)]
    pub phone: Option<String>,
    /// Address for e-mail.
    #[serde(default)]
    pub email: Option<String>,
}

/// One row of the responsibility table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRule {
    /// Estate id, or "*" for any.
    pub estate: String,
    /// Category key (`repair`, `complaint`, …, also 报修/投诉…), or "*".
    pub category: String,
    /// Who handles it, top first: manager → team lead → technician.
    pub chain: Vec<Contact>,
    /// Channels used to tell the assignee ("sms", "email").
    #[serde(default = "default_channels")]
    pub channels: Vec<String>,
}

fn default_channels() -> Vec<String> {
    vec!["sms".into()]
}

/// The escalation ladder and who its targets are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaConfig {
    /// Channels used for escalation notices.
    pub channels: Vec<String>,
    /// Target name (e.g. "direct-leader") → person. "assignee" needs no entry.
    pub contacts: BTreeMap<String, Contact>,
    /// Levels, fired in order of `after_hours`.
    pub levels: Vec<SlaLevel>,
}

impl Default for SlaConfig {
    fn default() -> Self {
        SlaConfig { channels: default_channels(), contacts: BTreeMap::new(), levels: seed_levels() }
    }
}

/// One rung of the ladder: if the order has not reached `until` `after_hours` after creation,
/// notify `notify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaLevel {
    /// Level number (shown on the console, part of the idempotency key).
    pub level: u8,
    /// Human name, e.g. "3 days no reply".
    pub name: String,
    /// Hours after creation.
    pub after_hours: i64,
    /// The state that stops this timer ("accepted", "in-progress", "done", "closed").
    pub until: String,
    /// Targets: "assignee" or keys of `[orders.sla.contacts]`.
    pub notify: Vec<String>,
}

/// The seed rules: 4 h first contact; 3 d no reply → direct leader; 7 d not handled → branch
/// head; 15 d not resolved → president; 20 d → chairman.
pub fn seed_levels() -> Vec<SlaLevel> {
    let l = |level, name: &str, h, until: &str, notify: &[&str]| SlaLevel {
        level,
        name: name.into(),
        after_hours: h,
        until: until.into(),
        notify: notify.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        l(1, "4 h first contact with the owner", 4, "accepted", &["assignee"]),
        l(2, "3 days no reply", 72, "accepted", &["assignee", "direct-leader"]),
        l(3, "7 days not handled", 168, "in-progress", &["branch-head"]),
        l(4, "15 days not resolved", 360, "done", &["president"]),
        l(5, "20 days not resolved", 480, "done", &["chairman"]),
    ]
}

/// How the SMS body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmsFormat {
    /// `application/json`; `{to}`/`{text}` are JSON-escaped.
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`; values are percent-encoded.
    Form,
}

/// An HTTP SMS gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// Gateway URL (POST).
    pub url: String,
    /// Body encoding.
    #[serde(default)]
    pub format: SmsFormat,
    /// Body template with `{to}` and `{text}`.
    #[serde(default = "default_sms_template")]
    pub template: String,
    /// Extra headers (API keys).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// When set, a 2xx reply must also contain this text to count as sent.
    #[serde(default)]
    pub success_contains: Option<String>,
    /// Request timeout (ms).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_sms_template() -> String {
    r#"{"to":"{to}","text":"{text}"}"#.into()
}
fn default_timeout() -> u64 {
    5000
}

/// Transport security of the SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (local relay, tests).
    None,
    /// STARTTLS upgrade (port 587).
    #[default]
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
}

/// An SMTP relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Relay host.
    pub host: String,
    /// Relay port.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// Transport security.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Login, when the relay needs one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`.
    #[serde(default)]
    pub password: Option<String>,
    /// Sender mailbox, e.g. "Courtyard <noreply@example.com>".
    pub from: String,
    /// Subject line.
    #[serde(default = "default_subject")]
    pub subject: String,
    /// Connection timeout (ms).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_smtp_port() -> u16 {
    587
}
fn default_subject() -> String {
    "物业工单通知 / Courtyard work order".into()
}

/// Signed webhooks to the firm's own app.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// HMAC-SHA256 key shared with the receiver.
    pub secret: String,
    /// URLs a notification may target (prefix match); empty = any http(s) URL.
    #[serde(default)]
    pub allowed_prefixes: Vec<String>,
    /// Request timeout (ms).
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

/// On-duty roster.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnDutyConfig {
    /// Shifts; the first one matching roster and time wins.
    pub shifts: Vec<Shift>,
}

/// One shift of the on-duty roster.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Roster name ("default" when the notification names none).
    #[serde(default = "default_roster")]
    pub roster: String,
    /// Engineer.
    pub name: String,
    /// Mobile the SMS goes to.
    pub phone: String,
    /// ISO weekdays (1 = Monday); empty = every day.
    #[serde(default)]
    pub days: Vec<u8>,
    /// Start "HH:MM" (local time of the clock).
    #[serde(default = "default_from")]
    pub from: String,
    /// End "HH:MM", exclusive; earlier than `from` = overnight.
    #[serde(default = "default_to")]
    pub to: String,
}

fn default_roster() -> String {
    "default".into()
}
fn default_from() -> String {
    "00:00".into()
}
fn default_to() -> String {
    "24:00".into()
}

/// Parse a category key of the dispatch table ("*" = any).
pub(crate) fn parse_category(s: &str) -> Result<Option<Category>, OrdersError> {
    if s.trim() == "*" {
        return Ok(None);
    }
    Category::parse(s).map(Some).ok_or_else(|| {
        OrdersError::Config(format!("category '{s}' is not one of repair, complaint, suggestion, inquiry or *"))
    })
}

/// Parse "HH:MM" to minutes after midnight (24:00 allowed as end of day).
pub(crate) fn parse_hhmm(s: &str) -> Result<u32, OrdersError> {
    let bad = || OrdersError::Config(format!("time '{s}' is not HH:MM"));
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl OrdersConfig {
    /// Check every key that can be wrong and say which one and why.
    pub fn validate(&self) -> Result<(), OrdersError> {
        if self.tick_ms == 0 || self.scan_ms == 0 {
            return Err(OrdersError::Config("orders.tick_ms and orders.scan_ms must be > 0".into()));
        }
        if self.worker.max_attempts == 0 || self.worker.concurrency == 0 {
            return Err(OrdersError::Config("orders.worker.max_attempts and concurrency must be > 0".into()));
        }
        for (i, r) in self.dispatch.iter().enumerate() {
            parse_category(&r.category).map_err(|e| OrdersError::Config(format!("orders.dispatch[{i}]: {e}")))?;
            if r.chain.is_empty() {
                return Err(OrdersError::Config(format!("orders.dispatch[{i}] ({} / {}): chain is empty", r.estate, r.category)));
            }
            for c in &self.dispatch[i].channels {
                if c != "sms" && c != "email" {
                    return Err(OrdersError::Config(format!("orders.dispatch[{i}]: channel '{c}' must be sms or email")));
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for l in &self.sla.levels {
            if !seen.insert(l.level) {
                return Err(OrdersError::Config(format!("orders.sla.levels: level {} appears twice", l.level)));
            }
            match OrderState::parse(&l.until) {
                Some(OrderState::New | OrderState::Cancelled) | None => {
                    return Err(OrdersError::Config(format!(
                        "orders.sla.levels level {}: until '{}' must be dispatched, accepted, in-progress, done, callback or closed",
                        l.level, l.until
                    )));
                }
                Some(_) => {}
            }
            if l.after_hours < 0 {
                return Err(OrdersError::Config(format!("orders.sla.levels level {}: after_hours < 0", l.level)));
            }
            for t in &l.notify {
                if t != "assignee" && !self.sla.contacts.contains_key(t) {
                    tracing::warn!(level = l.level, target = %t, "SLA target has no entry in [orders.sla.contacts]; it will be skipped");
                }
            }
        }
        for s in &self.on_duty.shifts {
            parse_hhmm(&s.from)?;
            parse_hhmm(&s.to)?;
            if s.days.iter().any(|d| !(1..=7).contains(d)) {
                return Err(OrdersError::Config(format!("orders.on_duty shift {}: days must be 1..7", s.name)));
            }
        }
        if let Some(s) = &self.sms {
            url::Url::parse(&s.url).map_err(|e| OrdersError::Config(format!("orders.sms.url '{}': {e}", s.url)))?;
        }
        Ok(())
    }
}
