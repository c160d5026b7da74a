//! SIP traffic seen by operations: responses counted by status code for `/metrics`, and SIP
//! message traces on demand (`POST /api/v1/trace {"number": ..}` or `{"call_id": ..}`) that log
//! the full text of every message of matching dialogs for a limited time, so a support engineer
//! can debug one caller's calls on a busy node without turning on debug logging for everyone.
//!
//! The observer runs inline on the SIP receive/send path: counting is a couple of atomic adds,
//! and trace matching costs nothing while no trace is active.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Json, Router};
use courtyard_api::{ApiError, ApiResult, ApiState, AuthUser};
use courtyard_sip::message::{Message, StartLine};
use courtyard_sip::{MessageObserver, Peer};
use parking_lot::Mutex;
use serde::Deserialize;

use crate::app::Shared;

/// Longest trace an operator can ask for, minutes.
const MAX_TRACE_MINUTES: u64 = 60;
/// Most dialogs one node traces at once (a trace on a busy trunk number must not flood the log).
const MAX_TRACED_DIALOGS: usize = 1000;

/// The node's SIP observer (one per process).
pub fn watch() -> Arc<SipWatch> {
    static WATCH: LazyLock<Arc<SipWatch>> = LazyLock::new(|| Arc::new(SipWatch::default()));
    WATCH.clone()
}

/// Counters and trace rules over every SIP message the endpoint handles.
pub struct SipWatch {
    sent: Codes,
    received: Codes,
    requests: Mutex<HashMap<String, u64>>,
    active: AtomicBool,
    rules: Mutex<Vec<Rule>>,
    dialogs: Mutex<HashMap<String, Instant>>,
    traced_messages: AtomicU64,
}

impl Default for SipWatch {
    fn default() -> Self {
        SipWatch {
            sent: Codes::new(),
            received: Codes::new(),
            requests: Mutex::new(HashMap::new()),
            active: AtomicBool::new(false),
            rules: Mutex::new(Vec::new()),
            dialogs: Mutex::new(HashMap::new()),
            traced_messages: AtomicU64::new(0),
        }
    }
}

/// Response counts by status code 100..=699.
struct Codes([AtomicU64; 600]);

impl Codes {
    fn new() -> Self {
        Codes(std::array::from_fn(|_| AtomicU64::new(0)))
    }
    fn add(&self, code: u16) {
        if let Some(c) = code.checked_sub(100).and_then(|i| self.0.get(usize::from(i))) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn nonzero(&self) -> Vec<(u16, u64)> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let v = c.load(Ordering::Relaxed);
                (v > 0).then_some((i as u16 + 100, v))
            })
            .collect()
    }
}

/// What to trace: dialogs where a number appears (From, To or request-URI user), or one Call-ID.
#[derive(Debug, Clone)]
struct Rule {
    number: Option<String>,
    call_id: Option<String>,
    until: Instant,
}

impl SipWatch {
    /// Responses the node sent, by status code.
    pub fn responses_sent(&self) -> Vec<(u16, u64)> {
        self.sent.nonzero()
    }

    /// Responses the node received (to its own requests), by status code.
    pub fn responses_received(&self) -> Vec<(u16, u64)> {
        self.received.nonzero()
    }

    /// Requests received, by method.
    pub fn requests_received(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.requests.lock().iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort();
        v
    }

    /// Messages written to the trace log so far.
    pub fn traced_messages(&self) -> u64 {
        self.traced_messages.load(Ordering::Relaxed)
    }

    /// Starts tracing dialogs of `number` or the dialog `call_id` for `minutes`.
    pub fn start(&self, number: Option<String>, call_id: Option<String>, minutes: u64) -> Instant {
        let until = Instant::now() + Duration::from_secs(minutes.clamp(1, MAX_TRACE_MINUTES) * 60);
        let number = number.map(|n| digits(&n)).filter(|n| !n.is_empty());
        let mut rules = self.rules.lock();
        rules.retain(|r| r.until > Instant::now());
        if let Some(id) = &call_id {
            self.dialogs.lock().insert(id.clone(), until);
        }
        rules.push(Rule { number, call_id, until });
        self.active.store(true, Ordering::Relaxed);
        until
    }

    /// Active rules as (number, call id, seconds left).
    fn rules_left(&self) -> Vec<(Option<String>, Option<String>, u64)> {
        let now = Instant::now();
        self.rules
            .lock()
            .iter()
            .filter(|r| r.until > now)
            .map(|r| (r.number.clone(), r.call_id.clone(), (r.until - now).as_secs()))
            .collect()
    }

    /// Whether a message of dialog `call_id` with these user parts is traced (and remembers the
    /// dialog when a number rule matches, so later messages without the number are traced too).
    fn traced(&self, call_id: &str, users: &[&str]) -> bool {
        let now = Instant::now();
        {
            let mut d = self.dialogs.lock();
            if let Some(until) = d.get(call_id) {
                if *until > now {
                    return true;
                }
                d.remove(call_id);
            }
        }
        let mut rules = self.rules.lock();
        rules.retain(|r| r.until > now);
        if rules.is_empty() {
            if self.dialogs.lock().is_empty() {
                self.active.store(false, Ordering::Relaxed);
            }
            return false;
        }
        let hit = rules.iter().find(|r| {
            r.number.as_deref().is_some_and(|n| users.iter().any(|u| !u.is_empty() && digits(u) == n))
                || r.call_id.as_deref() == Some(call_id)
        });
        match hit {
            Some(r) => {
                let mut d = self.dialogs.lock();
                d.retain(|_, until| *until > now);
                if d.len() < MAX_TRACED_DIALOGS {
                    d.insert(call_id.to_string(), r.until);
                }
                true
            }
            None => false,
        }
    }

    fn log(&self, dir: &str, peer: Peer, call_id: &str, text: &str) {
        self.traced_messages.fetch_add(1, Ordering::Relaxed);
        tracing::info!(target: "courtyard::sip_trace", dir, peer = %peer.addr, transport = peer.transport.as_str(), %call_id, "SIP message\n{text}");
    }
}

impl MessageObserver for SipWatch {
    fn inbound(&self, msg: &Message, peer: Peer) {
        match &msg.start {
            StartLine::Response { code, .. } => self.received.add(*code),
            StartLine::Request { method, .. } => {
                let m = if matches!(method.as_str(), "INVITE" | "ACK" | "BYE" | "CANCEL" | "REGISTER" | "OPTIONS" | "INFO" | "NOTIFY" | "SUBSCRIBE" | "UPDATE" | "PRACK" | "REFER" | "MESSAGE") {
                    method.as_str()
                } else {
                    "other"
                };
                let mut r = self.requests.lock();
                match r.get_mut(m) {
                    Some(v) => *v += 1,
                    None => {
                        r.insert(m.to_string(), 1);
                    }
                }
            }
        }
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let call_id = msg.call_id().unwrap_or_default();
        let from = msg.header("From").map(user_of).unwrap_or_default();
        let to = msg.header("To").map(user_of).unwrap_or_default();
        let ruri = match &msg.start {
            StartLine::Request { uri, .. } => user_of(uri),
            StartLine::Response { .. } => "",
        };
        if self.traced(call_id, &[from, to, ruri]) {
            self.log("in", peer, call_id, &render(msg));
        }
    }

    fn outbound(&self, data: &[u8], peer: Peer) {
        if let Some(code) = status_code(data) {
            self.sent.add(code);
        }
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let text = String::from_utf8_lossy(data);
        let header = |names: &[&str]| {
            text.split("\r\n").skip(1).take_while(|l| !l.is_empty()).find_map(|l| {
                let (n, v) = l.split_once(':')?;
                names.iter().any(|x| n.trim().eq_ignore_ascii_case(x)).then(|| v.trim())
            })
        };
        let call_id = header(&["Call-ID", "i"]).unwrap_or_default();
        let from = header(&["From", "f"]).map(user_of).unwrap_or_default();
        let to = header(&["To", "t"]).map(user_of).unwrap_or_default();
        if self.traced(call_id, &[from, to]) {
            self.log("out", peer, call_id, &text);
        }
    }
}

/// Status code of a response's first line (`SIP/2.0 200 OK`).
fn status_code(data: &[u8]) -> Option<u16> {
    let rest = data.strip_prefix(b"SIP/2.0 ")?;
    let code = std::str::from_utf8(rest.get(..3)?).ok()?;
    code.parse().ok()
}

/// User part of a name-addr or URI (`"X" <sip:1380@h>;tag=1` → `1380`).
fn user_of(v: &str) -> &str {
    let v = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if b > a => &v[a + 1..b],
        _ => v,
    };
    let v = v.trim().trim_start_matches("sips:").trim_start_matches("sip:").trim_start_matches("tel:");
    match v.find('@') {
        Some(i) => &v[..i],
        None => v.split([';', '?']).next().unwrap_or_default(),
    }
}

fn digits(s: &str) -> String {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    // `+86` / `0086` prefixes name the same subscriber.
    d.strip_prefix("0086").or_else(|| (s.trim_start().starts_with('+')).then(|| d.strip_prefix("86")).flatten()).unwrap_or(&d).to_string()
}

/// The message as text (headers as received, body as UTF-8 where it is).
fn render(msg: &Message) -> String {
    let mut out = match &msg.start {
        StartLine::Request { method, uri, version } => format!("{method} {uri} {version}\r\n"),
        StartLine::Response { version, code, reason } => format!("{version} {code} {reason}\r\n"),
    };
    for (n, v) in &msg.headers {
        out.push_str(n);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&String::from_utf8_lossy(&msg.body));
    out
}

#[derive(Deserialize)]
struct TraceRequest {
    /// Caller or called number whose dialogs are traced.
    #[serde(default)]
    number: Option<String>,
    /// One dialog's Call-ID.
    #[serde(default)]
    call_id: Option<String>,
    /// How long, minutes (1–60, default 10).
    #[serde(default)]
    minutes: Option<u64>,
}

/// `POST /api/v1/trace` (start a trace) and `GET /api/v1/trace` (active traces), behind the API's
/// authentication; starting one needs an admin and is audited.
pub fn router(shared: Arc<Shared>, api: ApiState) -> Router {
    Router::new()
        .route("/api/v1/trace", post(start_trace).get(list_traces))
        .with_state(shared)
        .layer(axum::middleware::from_fn_with_state(api, courtyard_api::auth::require_auth))
}

async fn start_trace(
    State(shared): State<Arc<Shared>>,
    Extension(user): Extension<AuthUser>,
    Json(req): Json<TraceRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[], "trace SIP messages")?;
    let number = req.number.filter(|n| !digits(n).is_empty());
    let call_id = req.call_id.filter(|c| !c.trim().is_empty());
    if number.is_none() && call_id.is_none() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "give a number (digits) or a call_id to trace"));
    }
    let minutes = req.minutes.unwrap_or(10).clamp(1, MAX_TRACE_MINUTES);
    watch().start(number.clone(), call_id.clone(), minutes);
    let target = number.clone().or(call_id.clone()).unwrap_or_default();
    shared.audit(&user.username, "sip.trace", &target, Some(format!("{minutes} min"))).await;
    tracing::info!(number = ?number, call_id = ?call_id, minutes, "SIP trace started");
    Ok(Json(serde_json::json!({ "number": number, "call_id": call_id, "minutes": minutes, "log_target": "courtyard::sip_trace" })))
}

async fn list_traces(Extension(user): Extension<AuthUser>) -> ApiResult<Json<serde_json::Value>> {
    user.require(&[], "see SIP traces")?;
    let rules: Vec<serde_json::Value> = watch()
        .rules_left()
        .into_iter()
        .map(|(n, c, left)| serde_json::json!({ "number": n, "call_id": c, "seconds_left": left }))
        .collect();
    Ok(Json(serde_json::json!({ "traces": rules, "messages_logged": watch().traced_messages() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_parts_and_status_codes() {
        assert_eq!(user_of("\"Caller\" <sip:13800138000@127.0.0.1:5060>;tag=1"), "13800138000");
        assert_eq!(user_of("sip:4008123456@10.0.0.1;transport=udp"), "4008123456");
        assert_eq!(digits("+86 138-0013-8000"), "13800138000");
        assert_eq!(status_code(b"SIP/2.0 486 Busy Here\r\n"), Some(486));
        assert_eq!(status_code(b"INVITE sip:x SIP/2.0\r\n"), None);
    }

    #[test]
    fn a_number_rule_traces_the_whole_dialog_and_others_are_not_traced() {
        let w = SipWatch::default();
        assert!(!w.traced("c1", &["13800138000"]), "nothing traced without a rule");
        w.start(Some("+86 13800138000".into()), None, 1);
        assert!(w.traced("c1", &["13800138000", "4008123456"]));
        // Later messages of the same dialog carry no matching user (e.g. an agent leg) but are traced.
        assert!(w.traced("c1", &["8001"]));
        assert!(!w.traced("c2", &["13900000000"]));
    }
}
