//! A SIP message as it arrived on the wire: start line, headers unfolded and with compact names
//! expanded, comma lists split into one entry per value, and the body.
//!
//! rsip 0.4 neither unfolds continuation lines nor knows compact header names, and it accepts
//! bodies whose length disagrees with Content-Length, so incoming bytes go through this lexer
//! (and [`crate::framing`]) first. Outgoing messages are built with rsip (see [`crate::builder`]).

use bytes::Bytes;

/// Why a message could not be lexed; such messages get a 400 when we can still answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct LexError {
    /// What was wrong (becomes the 400 reason phrase).
    pub reason: String,
    /// The message without the offending lines, when the start line was fine, so a 400 can
    /// still be addressed to the sender.
    pub partial: Option<Box<Message>>,
}

impl LexError {
    fn new(reason: impl Into<String>) -> Self {
        LexError { reason: reason.into(), partial: None }
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD request-uri SIP/2.0`
    Request {
        /// Method token, case preserved (methods are case-sensitive).
        method: String,
        /// Request-URI text as received.
        uri: String,
        /// Version token, e.g. `SIP/2.0`.
        version: String,
    },
    /// `SIP/2.0 code reason`
    Response {
        /// Version token.
        version: String,
        /// Status code (any 3-digit number; validation decides what to drop).
        code: u16,
        /// Reason phrase, possibly empty.
        reason: String,
    },
}

/// A lexed SIP message.
#[derive(Debug, Clone)]
pub struct Message {
    /// Request or status line.
    pub start: StartLine,
    /// Headers in order, long-form names as received (compact forms expanded), values trimmed.
    pub headers: Vec<(String, String)>,
    /// Body exactly as framed by Content-Length.
    pub body: Bytes,
}

const COMPACT: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("u", "Allow-Events"),
    ("a", "Accept-Contact"),
    ("b", "Referred-By"),
    ("j", "Reject-Contact"),
    ("d", "Request-Disposition"),
    ("x", "Session-Expires"),
    ("y", "Identity"),
];

/// Headers whose comma-separated values are separate entries (RFC 3261 §7.3.1).
const LIST_HEADERS: &[&str] = &[
    "Via",
    "Contact",
    "Route",
    "Record-Route",
    "Require",
    "Proxy-Require",
    "Supported",
    "Allow",
    "Unsupported",
    "Content-Length",
    "Max-Forwards",
    "Call-ID",
    "CSeq",
];

/// List headers whose grammar allows an empty value (RFC 3261 §25.1: `Supported = "Supported"
/// HCOLON [option-tag *(COMMA option-tag)]`, likewise Allow).
const EMPTY_LIST_OK: &[&str] = &["Supported", "Allow"];

/// Token characters of RFC 3261 §25.1.
pub fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

fn canonical_name(name: &str) -> String {
    for (short, long) in COMPACT {
        if name.eq_ignore_ascii_case(short) {
            return (*long).to_string();
        }
    }
    name.to_string()
}

/// Splits `value` on commas that are outside quoted strings and angle brackets.
pub fn split_list(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut in_quote, mut in_angle, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '"' => in_quote = true,
            '<' => in_angle = true,
            '>' => in_angle = false,
            ',' if !in_angle => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim());
    out
}

impl Message {
    /// Lexes the header block (start line + header lines, without the blank line) and attaches `body`.
    pub fn parse(head: &[u8], body: Bytes) -> Result<Message, LexError> {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or_default();
        let mut first_error: Option<String> = None;
        let start = match parse_start_line(first) {
            Ok(s) => s,
            Err(e) => {
                // a request line we cannot accept still names a method: keep lexing so the
                // sender gets a 400 instead of silence (RFC 4475 ltgtruri, lwsruri, lwsstart, trws)
                let method = first.split(' ').next().unwrap_or_default();
                if method.is_empty() || !method.bytes().all(is_token_char) || first.starts_with("SIP/") {
                    return Err(e);
                }
                first_error = Some(e.reason);
                StartLine::Request { method: method.to_string(), uri: String::new(), version: "SIP/2.0".into() }
            }
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        // unfold: a line starting with SP/HT continues the previous header
        let mut logical: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(16);
        for line in lines {
            if line.is_empty() {
                continue;
            }
            if line.starts_with(' ') || line.starts_with('\t') {
                match logical.last_mut() {
                    Some(prev) => {
                        let p = prev.to_mut();
                        p.push(' ');
                        p.push_str(line.trim_start());
                    }
                    None => {
                        first_error.get_or_insert_with(|| "continuation line before any header".into());
                    }
                }
            } else {
                logical.push(std::borrow::Cow::Borrowed(line));
            }
        }
        headers.reserve(logical.len() + 4);
        for line in logical {
            let Some(colon) = line.find(':') else {
                first_error.get_or_insert_with(|| format!("header line without colon: {}", truncate(&line)));
                continue;
            };
            let name = line[..colon].trim_end_matches([' ', '\t']);
            if name.is_empty() || !name.bytes().all(is_token_char) {
                first_error.get_or_insert_with(|| format!("invalid header name: {}", truncate(name)));
                continue;
            }
            let name = canonical_name(name);
            let value = line[colon + 1..].trim();
            if value.is_empty() && EMPTY_LIST_OK.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
                // `Supported:` with no option tag is valid (baresip sends it); it lists nothing.
                continue;
            }
            if LIST_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
                for part in split_list(value) {
                    if part.is_empty() {
                        first_error.get_or_insert_with(|| format!("empty element in {name} list"));
                        continue;
                    }
                    headers.push((name.clone(), part.to_string()));
                }
            } else {
                headers.push((name, value.to_string()));
            }
        }
        let msg = Message { start, headers, body };
        match first_error {
            None => Ok(msg),
            Some(reason) => Err(LexError { reason, partial: Some(Box::new(msg)) }),
        }
    }

    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of header `name`, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Number of entries of header `name`.
    pub fn count(&self, name: &str) -> usize {
        self.headers_named(name).count()
    }

    /// The method of a request, or `None` for a response.
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// Call-ID value.
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    /// CSeq as (number, method).
    pub fn cseq(&self) -> Option<(u32, &str)> {
        parse_cseq(self.header("CSeq")?)
    }
}

/// Parses a CSeq value `number method`; `None` when malformed or out of range (2^31-1).
pub fn parse_cseq(v: &str) -> Option<(u32, &str)> {
    let mut it = v.split_whitespace();
    let n = it.next()?;
    let m = it.next()?;
    if it.next().is_some() || n.len() > 10 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = n.parse().ok()?;
    if n > 0x7fff_ffff || !m.bytes().all(is_token_char) {
        return None;
    }
    Some((n as u32, m))
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn parse_start_line(line: &str) -> Result<StartLine, LexError> {
    if line.starts_with("SIP/") || line.starts_with("sip/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_string();
        let code_s = parts.next().unwrap_or_default();
        if code_s.len() != 3 || !code_s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LexError::new(format!("bad status code {}", truncate(code_s))));
        }
        let code: u16 = code_s.parse().map_err(|_| LexError::new("bad status code"))?;
        let reason = parts.next().unwrap_or_default().to_string();
        return Ok(StartLine::Response { version, code, reason });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: exactly single spaces
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(LexError::new("malformed Request-Line (expected METHOD SP URI SP VERSION)"));
    }
    if !parts[0].bytes().all(is_token_char) {
        return Err(LexError::new("invalid method token"));
    }
    if parts[1].contains(['\t', '<', '>']) {
        return Err(LexError::new("malformed Request-URI"));
    }
    Ok(StartLine::Request {
        method: parts[0].to_string(),
        uri: parts[1].to_string(),
        version: parts[2].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_expands_compact_names() {
        let m = Message::parse(
            b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1,\r\n SIP/2.0/TCP g\r\ni: x\r\nl: 0",
            Bytes::new(),
        )
        .unwrap();
        assert_eq!(m.count("Via"), 2);
        assert_eq!(m.call_id(), Some("x"));
        assert_eq!(m.header("content-length"), Some("0"));
    }

    #[test]
    fn empty_supported_is_valid_but_an_empty_via_element_is_not() {
        let m = Message::parse(b"INVITE sip:a@b SIP/2.0\r\nSupported:\r\nAllow: INVITE,ACK\r\nl: 0", Bytes::new()).unwrap();
        assert_eq!(m.count("Supported"), 0);
        assert_eq!(m.count("Allow"), 2);
        let bad = Message::parse(b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h,,\r\nl: 0", Bytes::new());
        assert!(bad.is_err());
    }

    #[test]
    fn list_split_respects_quotes_and_angles() {
        assert_eq!(
            split_list("\"a, b\" <sip:x@y;p=1,2>;q=1, <sip:z>"),
            vec!["\"a, b\" <sip:x@y;p=1,2>;q=1", "<sip:z>"]
        );
    }
}
