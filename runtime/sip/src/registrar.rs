//! The registrar for agents' phones (RFC 3261 §10.3): bindings with expiry and refresh,
//! several contacts per user, unregister (one contact or `*`), and NAT-friendly targets: each
//! binding remembers the transport address the REGISTER really came from (received/rport), and
//! that is where calls to the agent are sent.
//!
//! Authentication happens before [`Registrar::register`] is called (see `endpoint`), so
//! unknown and known user names get the same 401 and the same 403.

use crate::auth::Algorithm;
use crate::message::Message;
use crate::transport::Peer;
use crate::uri::NameAddr;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Registrar settings.
#[derive(Debug, Clone)]
pub struct RegistrarConfig {
    /// Shortest registration we accept (423 below it).
    pub min_expires: u32,
    /// Longest registration we grant (longer requests are shortened).
    pub max_expires: u32,
    /// Used when the REGISTER names no expiry.
    pub default_expires: u32,
    /// Digest algorithms offered, one challenge each, in this order. The default puts MD5
    /// first: RFC 8760 clients pick the algorithm they support from the list, but legacy phones
    /// and SIPp 3.6 only read the first challenge and refuse anything but MD5.
    pub algorithms: Vec<Algorithm>,
    /// Nonce validity.
    pub nonce_lifetime: Duration,
    /// Contacts kept per user; a new one beyond this replaces the one closest to expiry.
    pub max_contacts: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
            nonce_lifetime: Duration::from_secs(300),
            max_contacts: 10,
        }
    }
}

/// One registered contact of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Contact URI as the phone sent it.
    pub contact: String,
    /// Where the REGISTER came from: send requests for this contact here (NAT traversal).
    pub source: Peer,
    /// When it lapses.
    pub expires_at: Instant,
    /// Call-ID of the registering phone.
    pub call_id: String,
    /// CSeq of the last refresh.
    pub cseq: u32,
}

impl Binding {
    /// Seconds left.
    pub fn expires_in(&self, now: Instant) -> u64 {
        self.expires_at.saturating_duration_since(now).as_secs()
    }
}

/// Registration changes, for agent presence in the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrarEvent {
    /// A new contact was bound (refreshes are not reported).
    Registered {
        /// User (agent number).
        user: String,
        /// Contact URI.
        contact: String,
    },
    /// A contact went away.
    Unregistered {
        /// User.
        user: String,
        /// Contact URI.
        contact: String,
        /// True when it lapsed rather than being removed by the phone.
        expired: bool,
    },
}

/// Outcome of a REGISTER for the endpoint to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterOutcome {
    /// Status code.
    pub code: u16,
    /// Reason phrase.
    pub reason: String,
    /// Extra headers (Contact list, Min-Expires ...).
    pub headers: Vec<(&'static str, String)>,
}

/// The location service.
pub struct Registrar {
    cfg: RegistrarConfig,
    bindings: Mutex<HashMap<String, Vec<Binding>>>,
    events: broadcast::Sender<RegistrarEvent>,
}

fn parse_expires(v: &str) -> Option<u32> {
    let v = v.trim();
    if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u64>().ok().map(|n| n.min(u32::MAX as u64) as u32)
}

impl Registrar {
    /// New, empty registrar.
    pub fn new(cfg: RegistrarConfig) -> Self {
        let (events, _) = broadcast::channel(1024);
        Registrar { cfg, bindings: Mutex::new(HashMap::new()), events }
    }

    /// Settings.
    pub fn config(&self) -> &RegistrarConfig {
        &self.cfg
    }

    /// Live contacts of `user`, most recent refresh first.
    pub fn lookup(&self, user: &str) -> Vec<Binding> {
        let now = Instant::now();
        let mut v: Vec<Binding> = self
            .bindings
            .lock()
            .get(user)
            .map(|b| b.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| b.expires_at.cmp(&a.expires_at));
        v
    }

    /// Registration change events.
    pub fn subscribe(&self) -> broadcast::Receiver<RegistrarEvent> {
        self.events.subscribe()
    }

    /// Removes lapsed bindings and reports them.
    pub fn sweep(&self, now: Instant) {
        let mut gone = Vec::new();
        let mut map = self.bindings.lock();
        for (user, list) in map.iter_mut() {
            list.retain(|b| {
                let keep = b.expires_at > now;
                if !keep {
                    gone.push((user.clone(), b.contact.clone()));
                }
                keep
            });
        }
        map.retain(|_, l| !l.is_empty());
        drop(map);
        for (user, contact) in gone {
            let _ = self.events.send(RegistrarEvent::Unregistered { user, contact, expired: true });
        }
    }

    /// Applies an authenticated REGISTER from `user` that arrived from `source`.
    pub fn register(&self, user: &str, msg: &Message, source: Peer, now: Instant) -> RegisterOutcome {
        let bad = |r: &str| RegisterOutcome { code: 400, reason: format!("Bad Request ({r})"), headers: vec![] };
        let call_id = msg.call_id().unwrap_or_default().to_string();
        let cseq = msg.cseq().map(|c| c.0).unwrap_or(0);
        let header_expires = match msg.header("Expires") {
            Some(v) => match parse_expires(v) {
                Some(e) => Some(e),
                None => return bad("bad Expires"),
            },
            None => None,
        };
        let contacts: Vec<&str> = msg.headers_named("Contact").collect();
        let mut events = Vec::new();
        {
            let mut map = self.bindings.lock();
            let list = map.entry(user.to_string()).or_default();
            if contacts.iter().any(|c| c.trim() == "*") {
                if contacts.len() != 1 || header_expires != Some(0) {
                    return bad("'Contact: *' needs Expires: 0 and no other contacts");
                }
                for b in list.drain(..) {
                    events.push(RegistrarEvent::Unregistered { user: user.into(), contact: b.contact, expired: false });
                }
            } else {
                let mut parsed = Vec::new();
                for c in &contacts {
                    let na = match NameAddr::parse(c) {
                        Ok(n) => n,
                        Err(e) => return bad(&format!("bad Contact: {e}")),
                    };
                    let exp = match na.param("expires") {
                        Some(v) => match parse_expires(v) {
                            Some(e) => e,
                            None => return bad("bad Contact expires"),
                        },
                        None => header_expires.unwrap_or(self.cfg.default_expires),
                    };
                    if exp != 0 && exp < self.cfg.min_expires {
                        return RegisterOutcome {
                            code: 423,
                            reason: "Interval Too Brief".into(),
                            headers: vec![("Min-Expires", self.cfg.min_expires.to_string())],
                        };
                    }
                    parsed.push((na.uri_text, exp));
                }
                for (uri, exp) in parsed {
                    let existing = list.iter().position(|b| b.contact == uri);
                    if exp == 0 {
                        if let Some(i) = existing {
                            let b = list.remove(i);
                            events.push(RegistrarEvent::Unregistered { user: user.into(), contact: b.contact, expired: false });
                        }
                        continue;
                    }
                    let exp = exp.min(self.cfg.max_expires);
                    let binding = Binding {
                        contact: uri.clone(),
                        source,
                        expires_at: now + Duration::from_secs(exp as u64),
                        call_id: call_id.clone(),
                        cseq,
                    };
                    match existing {
                        Some(i) => list[i] = binding,
                        None => {
                            if list.len() >= self.cfg.max_contacts.max(1)
                                && let Some(i) = (0..list.len()).min_by_key(|&i| list[i].expires_at) {
                                    let old = list.remove(i);
                                    events.push(RegistrarEvent::Unregistered { user: user.into(), contact: old.contact, expired: false });
                                }
                            list.push(binding);
                            events.push(RegistrarEvent::Registered { user: user.into(), contact: uri });
                        }
                    }
                }
            }
            list.retain(|b| b.expires_at > now);
        }
        for e in events {
            let _ = self.events.send(e);
        }
        let headers = self
            .lookup(user)
            .into_iter()
            .map(|b| ("Contact", format!("<{}>;expires={}", b.contact, b.expires_in(now).max(1))))
            .collect();
        RegisterOutcome { code: 200, reason: "OK".into(), headers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Transport;
    use bytes::Bytes;

    fn reg(contacts: &str, expires: Option<&str>) -> Message {
        let mut h = format!("REGISTER sip:courtyard SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKa\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n{contacts}");
        if let Some(e) = expires {
            h.push_str(&format!("\r\nExpires: {e}"));
        }
        Message::parse(h.as_bytes(), Bytes::new()).unwrap()
    }

    #[test]
    fn bind_refresh_multi_contact_unregister() {
        let r = Registrar::new(RegistrarConfig::default());
        let mut ev = r.subscribe();
        let src = Peer { transport: Transport::Udp, addr: "203.0.113.5:40000".parse().unwrap() };
        let now = Instant::now();
        let out = r.register("8001", &reg("Contact: <sip:8001@10.0.0.5:5060>, <sip:8001@10.0.0.6>;expires=120", None), src, now);
        assert_eq!(out.code, 200);
        assert_eq!(out.headers.len(), 2);
        assert_eq!(r.lookup("8001").len(), 2);
        assert_eq!(r.lookup("8001")[0].source, src);
        assert!(matches!(ev.try_recv(), Ok(RegistrarEvent::Registered { .. })));
        assert_eq!(r.register("8001", &reg("Contact: <sip:8001@10.0.0.5>", Some("30")), src, now).code, 423);
        assert_eq!(r.register("8001", &reg("Contact: <sip:8001@10.0.0.6>", Some("0")), src, now).code, 200);
        assert_eq!(r.lookup("8001").len(), 1);
        r.sweep(now + Duration::from_secs(3601));
        assert!(r.lookup("8001").is_empty());
        assert_eq!(r.register("8001", &reg("Contact: *", Some("3600")), src, now).code, 400);
        assert_eq!(r.register("8001", &reg("Contact: *", Some("0")), src, now).code, 200);
    }
}
