//! Deciding what to do with a lexed message before any transaction sees it, following the
//! outcomes RFC 4475 and RFC 5118 expect: accept, answer with an error status (400 with a
//! reason, 415, 416, 420, 505 ...), or drop silently (responses we cannot use, ACKs, messages
//! without a usable Via).

use crate::message::{Message, StartLine, parse_cseq};
use crate::uri::{NameAddr, SipUri, UriError};
use crate::via::Via;

/// Option tags we implement (a Require naming anything else gets 420). Empty on purpose:
/// claiming `timer`, `path` or `outbound` would oblige us to behaviour we do not have.
pub const SUPPORTED_EXTENSIONS: &[&str] = &[];

/// Body types we understand.
pub const ACCEPTED_BODY_TYPES: &[&str] = &["application/sdp", "multipart/mixed", "application/dtmf-relay", "application/dtmf"];

/// A request that passed validation, with its key fields parsed.
#[derive(Debug, Clone)]
pub struct Request {
    /// The message.
    pub msg: Message,
    /// Top Via as received.
    pub via: Via,
    /// Method.
    pub method: String,
    /// Request-URI.
    pub uri: SipUri,
    /// From.
    pub from: NameAddr,
    /// To.
    pub to: NameAddr,
    /// Call-ID.
    pub call_id: String,
    /// CSeq number.
    pub cseq: u32,
}

/// Why a request is not accepted.
#[derive(Debug, Clone)]
pub enum Rejection {
    /// Answer with `code reason` (+ headers); `via` is the top Via to answer to.
    Respond {
        /// Status.
        code: u16,
        /// Reason phrase.
        reason: String,
        /// Extra headers (Unsupported, Accept ...).
        headers: Vec<(&'static str, String)>,
        /// The request.
        msg: Box<Message>,
        /// Its top Via.
        via: Via,
    },
    /// Discard without answering.
    Drop(String),
}

impl Rejection {
    /// Status code, or `None` for a drop (used by tests and logs).
    pub fn code(&self) -> Option<u16> {
        match self {
            Rejection::Respond { code, .. } => Some(*code),
            Rejection::Drop(_) => None,
        }
    }
}

fn digits_within(v: &str, max: u64) -> bool {
    let v = v.trim();
    !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) && v.parse::<u64>().is_ok_and(|n| n <= max)
}

/// Validates a request (RFC 3261 §8.2 order: version, required headers, URI scheme,
/// extensions, content).
pub fn check_request(msg: Message) -> Result<Request, Rejection> {
    match classify(&msg) {
        Ok((via, method, uri, from, to, cseq)) => {
            let call_id = msg.call_id().unwrap_or_default().to_string();
            Ok(Request { via, method, uri, from, to, call_id, cseq, msg })
        }
        Err(Fail::Drop(r)) => Err(Rejection::Drop(r)),
        Err(Fail::Respond(code, reason, headers, via)) => {
            if msg.method() == Some("ACK") {
                Err(Rejection::Drop(reason))
            } else {
                Err(Rejection::Respond { code, reason, headers, msg: Box::new(msg), via })
            }
        }
    }
}

enum Fail {
    Drop(String),
    Respond(u16, String, Vec<(&'static str, String)>, Via),
}

type Parsed = (Via, String, SipUri, NameAddr, NameAddr, u32);

fn classify(msg: &Message) -> Result<Parsed, Fail> {
    let StartLine::Request { method, uri, version } = &msg.start else {
        return Err(Fail::Drop("not a request".into()));
    };
    let (method, uri_text, version) = (method.clone(), uri.clone(), version.clone());
    let Some(via) = msg.header("Via").and_then(Via::parse) else {
        return Err(Fail::Drop("no usable Via".into()));
    };
    let is_ack = method == "ACK";
    let reject = |code: u16, reason: String, headers: Vec<(&'static str, String)>| Fail::Respond(code, reason, headers, via.clone());
    let bad = |r: String| reject(400, format!("Bad Request ({r})"), vec![]);
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(reject(505, "Version Not Supported".into(), vec![]));
    }
    for v in msg.headers_named("Via") {
        if Via::parse(v).is_none() {
            return Err(bad("malformed Via".into()));
        }
    }
    for h in ["From", "To", "Call-ID", "CSeq"] {
        match msg.count(h) {
            0 => return Err(bad(format!("missing {h}"))),
            1 => {}
            _ => return Err(bad(format!("multiple {h} values"))),
        }
    }
    for h in ["Max-Forwards", "Content-Type", "Expires"] {
        if msg.count(h) > 1 {
            return Err(bad(format!("multiple {h} values")));
        }
    }
    let Some((cseq, cseq_method)) = msg.header("CSeq").and_then(parse_cseq) else {
        return Err(bad("malformed CSeq".into()));
    };
    if cseq_method != method {
        return Err(bad("CSeq method does not match the request method".into()));
    }
    if let Some(mf) = msg.header("Max-Forwards")
        && !digits_within(mf, 255) {
            return Err(bad("bad Max-Forwards".into()));
        }
    if let Some(e) = msg.header("Expires")
        && !digits_within(e, u32::MAX as u64) {
            return Err(bad("bad Expires".into()));
        }
    let from = match msg.header("From").map(NameAddr::parse) {
        Some(Ok(f)) => f,
        Some(Err(e)) => return Err(bad(format!("From: {e}"))),
        None => return Err(bad("missing From".into())),
    };
    let to = match msg.header("To").map(NameAddr::parse) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return Err(bad(format!("To: {e}"))),
        None => return Err(bad("missing To".into())),
    };
    for c in msg.headers_named("Contact") {
        if c.trim() == "*" {
            continue;
        }
        match NameAddr::parse(c) {
            Ok(n) => {
                if let Some(e) = n.param("expires")
                    && !digits_within(e, u32::MAX as u64) {
                        return Err(bad("bad Contact expires".into()));
                    }
            }
            Err(e) => return Err(bad(format!("Contact: {e}"))),
        }
    }
    let uri = match SipUri::parse(&uri_text) {
        Ok(u) => u,
        Err(UriError::UnsupportedScheme(s)) => {
            return Err(reject(416, format!("Unsupported URI Scheme ({s})"), vec![]));
        }
        Err(e) => return Err(bad(format!("Request-URI: {e}"))),
    };
    if uri.headers.is_some() {
        return Err(bad("Request-URI must not contain headers".into()));
    }
    if method == "REGISTER" && !to.uri.as_ref().is_some_and(|u| u.scheme == "sip" || u.scheme == "sips") {
        // RFC 3261 §10.3 step 5 (RFC 4475 unksm2): the address-of-record must be a SIP URI
        return Err(bad("To of a REGISTER must be a sip: or sips: URI".into()));
    }
    if !is_ack && method != "CANCEL" {
        let unsupported: Vec<&str> = msg
            .headers_named("Require")
            .filter(|r| !SUPPORTED_EXTENSIONS.iter().any(|s| s.eq_ignore_ascii_case(r)))
            .collect();
        if !unsupported.is_empty() {
            let list = unsupported.join(", ");
            return Err(reject(420, "Bad Extension".into(), vec![("Unsupported", list)]));
        }
    }
    if !msg.body.is_empty() {
        let ct = msg.header("Content-Type").map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
        let ok_type = ct.as_deref().is_some_and(|c| ACCEPTED_BODY_TYPES.contains(&c));
        let enc_ok = msg.header("Content-Encoding").is_none_or(|e| e.trim().eq_ignore_ascii_case("identity"));
        if !ok_type || !enc_ok {
            return Err(reject(415, "Unsupported Media Type".into(), vec![("Accept", "application/sdp".into())]));
        }
    }
    if method == "INVITE" {
        let accepts: Vec<String> = msg
            .headers_named("Accept")
            .flat_map(crate::message::split_list)
            .map(|a| a.split(';').next().unwrap_or(a).trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty())
            .collect();
        if !accepts.is_empty() && !accepts.iter().any(|a| a == "application/sdp" || a == "application/*" || a == "*/*") {
            return Err(reject(406, "Not Acceptable".into(), vec![("Accept", "application/sdp".into())]));
        }
    }
    Ok((via, method, uri, from, to, cseq))
}

/// Validates a response; `Err` means drop it (RFC 4475 bigcode, scalarlg, a wrong version).
pub fn check_response(msg: &Message) -> Result<Via, String> {
    let StartLine::Response { version, code, .. } = &msg.start else {
        return Err("not a response".into());
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err("unsupported version".into());
    }
    if !(100..=699).contains(code) {
        return Err(format!("status code {code} out of range"));
    }
    let via = msg.header("Via").and_then(Via::parse).ok_or("no usable Via")?;
    for h in ["From", "To", "Call-ID", "CSeq"] {
        if msg.count(h) != 1 {
            return Err(format!("missing or repeated {h}"));
        }
    }
    msg.header("CSeq").and_then(parse_cseq).ok_or("malformed CSeq")?;
    if let Some(e) = msg.header("Expires")
        && !digits_within(e, u32::MAX as u64) {
            return Err("bad Expires".into());
        }
    if let Some(mf) = msg.header("Max-Forwards")
        && !digits_within(mf, 255) {
            return Err("bad Max-Forwards".into());
        }
    for c in msg.headers_named("Contact") {
        if c.trim() != "*" {
            let n = NameAddr::parse(c).map_err(|e| format!("Contact: {e}"))?;
            if let Some(e) = n.param("expires")
                && !digits_within(e, u32::MAX as u64) {
                    return Err("bad Contact expires".into());
                }
        }
    }
    NameAddr::parse(msg.header("From").unwrap_or_default()).map_err(|e| format!("From: {e}"))?;
    NameAddr::parse(msg.header("To").unwrap_or_default()).map_err(|e| format!("To: {e}"))?;
    Ok(via)
}

/// What the endpoint does with one framed (or failed-to-frame) inbound message.
#[derive(Debug)]
pub enum Inbound {
    /// A valid request.
    Request(Box<Request>),
    /// A response that may be matched to a client transaction.
    Response(Box<Message>, Via),
    /// Answer the sender with an error (the request is not processed).
    Reject(Rejection),
    /// Discard silently.
    Drop(String),
}

/// Classifies the output of [`crate::framing`]: the single decision point both the endpoint
/// and the RFC 4475/5118 test-suite use.
pub fn inbound(result: Result<Message, crate::framing::FrameError>) -> Inbound {
    match result {
        Ok(msg) if msg.status().is_some() => match check_response(&msg) {
            Ok(via) => Inbound::Response(Box::new(msg), via),
            Err(reason) => Inbound::Drop(reason),
        },
        Ok(msg) => match check_request(msg) {
            Ok(r) => Inbound::Request(Box::new(r)),
            Err(Rejection::Drop(reason)) => Inbound::Drop(reason),
            Err(rej) => Inbound::Reject(rej),
        },
        Err(e) => {
            let Some(msg) = e.message else { return Inbound::Drop(e.reason) };
            match msg.method() {
                None => Inbound::Drop(e.reason),
                Some("ACK") => Inbound::Drop(e.reason),
                Some(_) => match msg.header("Via").and_then(Via::parse_lenient) {
                    Some(via) => Inbound::Reject(Rejection::Respond {
                        code: 400,
                        reason: format!("Bad Request ({})", e.reason),
                        headers: vec![],
                        msg,
                        via,
                    }),
                    None => Inbound::Drop(e.reason),
                },
            }
        }
    }
}
