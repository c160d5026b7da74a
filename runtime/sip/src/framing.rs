//! Message boundaries: one message per UDP datagram, Content-Length framing on TCP.
//!
//! rsip does not look at Content-Length, so this module owns it: a negative, non-numeric or
//! duplicated Content-Length, or one larger than the bytes that arrived on UDP, is an error
//! (RFC 4475 ncl, mcl01, clerr); extra bytes after the body in a datagram are ignored
//! (RFC 4475 dblreq); on TCP a message without Content-Length is an error (RFC 3261 §18.3).

use crate::message::{LexError, Message};
use bytes::{Buf, Bytes, BytesMut};

/// Largest header block or body we accept; bigger ones are refused before buffering more.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// A framing failure; `message` is the lexed header block when there was one, so the caller
/// can still answer 400 to a request.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct FrameError {
    /// Human-readable reason, used as the 400 reason phrase.
    pub reason: String,
    /// The headers, if they could be lexed.
    pub message: Option<Box<Message>>,
    /// The stream cannot continue (TCP must be closed).
    pub fatal: bool,
}

impl FrameError {
    fn new(reason: impl Into<String>, message: Option<Message>, fatal: bool) -> Self {
        FrameError { reason: reason.into(), message: message.map(Box::new), fatal }
    }
}

impl From<LexError> for FrameError {
    fn from(e: LexError) -> Self {
        FrameError { reason: e.reason, message: e.partial, fatal: true }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads Content-Length: `Ok(None)` when absent, error when malformed or repeated.
pub fn content_length(m: &Message) -> Result<Option<usize>, String> {
    let mut it = m.headers_named("Content-Length");
    let Some(v) = it.next() else { return Ok(None) };
    if it.next().is_some() {
        return Err("multiple Content-Length values".into());
    }
    let v = v.trim();
    if v.starts_with('-') {
        return Err("negative Content-Length".into());
    }
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bad Content-Length".into());
    }
    let n: usize = v.parse().map_err(|_| "bad Content-Length".to_string())?;
    if n > MAX_MESSAGE {
        return Err("Content-Length too large".into());
    }
    Ok(Some(n))
}

/// Frames one UDP datagram. `Ok(None)` for keep-alives (only CR/LF bytes).
pub fn frame_datagram(buf: &[u8]) -> Result<Option<Message>, FrameError> {
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n');
    let Some(start) = start else { return Ok(None) };
    let buf = &buf[start..];
    let (head, rest) = match find(buf, b"\r\n\r\n") {
        Some(i) => (&buf[..i], &buf[i + 4..]),
        None => (buf.strip_suffix(b"\r\n").unwrap_or(buf), &[][..]),
    };
    let msg = Message::parse(head, Bytes::new())?;
    match content_length(&msg) {
        Err(e) => Err(FrameError::new(e, Some(msg), false)),
        Ok(Some(n)) if n > rest.len() => Err(FrameError::new(
            format!("Content-Length {n} larger than the {} body bytes received", rest.len()),
            Some(msg),
            false,
        )),
        Ok(Some(n)) => Ok(Some(Message { body: Bytes::copy_from_slice(&rest[..n]), ..msg })),
        Ok(None) => Ok(Some(Message { body: Bytes::copy_from_slice(rest), ..msg })),
    }
}

/// Incremental decoder for a TCP byte stream.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buf: BytesMut,
}

impl StreamDecoder {
    /// New empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the socket.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, FrameError> {
        // RFC 5626 keep-alives and stray CRLFs between messages
        while matches!(self.buf.first(), Some(b'\r' | b'\n')) {
            self.buf.advance(1);
        }
        let Some(head_end) = find(&self.buf, b"\r\n\r\n") else {
            if self.buf.len() > MAX_MESSAGE {
                return Err(FrameError::new("header block too large", None, true));
            }
            return Ok(None);
        };
        let msg = Message::parse(&self.buf[..head_end], Bytes::new())?;
        let len = match content_length(&msg) {
            Ok(Some(n)) => n,
            Ok(None) => return Err(FrameError::new("missing Content-Length on a stream transport", Some(msg), true)),
            Err(e) => return Err(FrameError::new(e, Some(msg), true)),
        };
        let total = head_end + 4 + len;
        if self.buf.len() < total {
            return Ok(None);
        }
        let mut frame = self.buf.split_to(total);
        let body = frame.split_off(head_end + 4).freeze();
        Ok(Some(Message { body, ..msg }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\nCall-ID: c\r\n";

    #[test]
    fn stream_waits_for_full_body_then_splits() {
        let mut d = StreamDecoder::new();
        d.push(format!("{HEAD}Content-Length: 4\r\n\r\nab").as_bytes());
        assert!(d.next_message().unwrap().is_none());
        d.push(format!("cd\r\n\r\n{HEAD}l: 0\r\n\r\n").as_bytes());
        assert_eq!(&d.next_message().unwrap().unwrap().body[..], b"abcd");
        assert_eq!(d.next_message().unwrap().unwrap().body.len(), 0);
        assert!(d.next_message().unwrap().is_none());
    }

    #[test]
    fn datagram_rejects_short_body_and_negative_length() {
        let short = format!("{HEAD}Content-Length: 10\r\n\r\nabc");
        let e = frame_datagram(short.as_bytes()).unwrap_err();
        assert!(e.message.is_some());
        let neg = format!("{HEAD}Content-Length: -1\r\n\r\n");
        assert_eq!(frame_datagram(neg.as_bytes()).unwrap_err().reason, "negative Content-Length");
        let extra = format!("{HEAD}Content-Length: 2\r\n\r\nabJUNK");
        assert_eq!(&frame_datagram(extra.as_bytes()).unwrap().unwrap().body[..], b"ab");
        assert!(frame_datagram(b"\r\n\r\n").unwrap().is_none());
    }

    #[test]
    fn stream_without_content_length_is_fatal() {
        let mut d = StreamDecoder::new();
        d.push(format!("{HEAD}\r\n").as_bytes());
        assert!(d.next_message().unwrap_err().fatal);
    }
}
