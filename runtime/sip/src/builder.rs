//! Building outgoing requests and responses with rsip.
//!
//! Headers are passed through as text (already validated or produced by us); rsip renders the
//! start line, headers and body. Status codes always use `StatusCode::Other(code, reason)` so
//! the reason phrase is the human one ("Bad Request (negative Content-Length)"), not rsip's
//! variant name.

use crate::message::Message;
use crate::via::Via;
use rsip::Header;
use rsip::headers::UntypedHeader;

/// Standard reason phrase for a status code.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        603 => "Decline",
        _ => "Unknown",
    }
}

fn other(name: &str, value: impl Into<String>) -> Header {
    Header::Other(name.to_string(), value.into())
}

/// Builds a response to `req`: Via list (top entry stamped by the caller), From, To (with
/// `to_tag` added when the request had none), Call-ID, CSeq, then `extra`, Content-Length, body.
pub fn response(
    req: &Message,
    top_via: &Via,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra: &[(&str, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut headers: Vec<Header> = Vec::with_capacity(10 + extra.len());
    let mut vias = req.headers_named("Via");
    vias.next();
    headers.push(Header::Via(rsip::headers::Via::new(top_via.to_string())));
    for v in vias {
        headers.push(Header::Via(rsip::headers::Via::new(v.to_string())));
    }
    if let Some(f) = req.header("From") {
        headers.push(Header::From(rsip::headers::From::new(f.to_string())));
    }
    if let Some(t) = req.header("To") {
        let has_tag = has_tag_param(t);
        let value = match to_tag {
            Some(tag) if !has_tag && code > 100 => format!("{t};tag={tag}"),
            _ => t.to_string(),
        };
        headers.push(Header::To(rsip::headers::To::new(value)));
    }
    if let Some(c) = req.call_id() {
        headers.push(Header::CallId(rsip::headers::CallId::new(c.to_string())));
    }
    if let Some(c) = req.header("CSeq") {
        headers.push(Header::CSeq(rsip::headers::CSeq::new(c.to_string())));
    }
    for (n, v) in extra {
        headers.push(other(n, v.clone()));
    }
    headers.push(Header::ContentLength(rsip::headers::ContentLength::new(body.len().to_string())));
    let resp = rsip::Response {
        status_code: rsip::StatusCode::Other(code, reason.to_string()),
        version: rsip::Version::V2,
        headers: headers.into(),
        body: body.to_vec(),
    };
    resp.to_string().into_bytes()
}

/// Builds a request from already formatted header values (in order). The request line is
/// written here (our methods and URIs are our own); rsip renders the header block.
pub fn request(method: &str, uri: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut hs: Vec<Header> = headers.iter().map(|(n, v)| other(n, v.clone())).collect();
    hs.push(Header::ContentLength(rsip::headers::ContentLength::new(body.len().to_string())));
    let headers: rsip::Headers = hs.into();
    let mut out = format!("{method} {uri} SIP/2.0\r\n{headers}\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// Whether a From/To value carries a `tag` header parameter (cheap scan, no allocation):
/// parameters start after the closing `>` of a name-addr, or at the first `;` of an addr-spec.
fn has_tag_param(v: &str) -> bool {
    let params = match v.rfind('>') {
        Some(i) => &v[i + 1..],
        None => v.find(';').map_or("", |i| &v[i..]),
    };
    params.split(';').skip(1).any(|p| {
        let name = p.split('=').next().unwrap_or_default().trim();
        name.eq_ignore_ascii_case("tag")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn tag_detection() {
        assert!(super::has_tag_param("<sip:a@b;tag=x>;tag=1"));
        assert!(!super::has_tag_param("<sip:a@b;tag=x>"));
        assert!(super::has_tag_param("sip:a@b ; TAG = 2"));
        assert!(!super::has_tag_param("sip:a@b"));
    }
}
