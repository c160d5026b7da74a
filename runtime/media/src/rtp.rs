//! RTP packets (RFC 3550) on top of rtp-rs: the header fields the media path needs, and building
//! outgoing packets into a reusable buffer.

use rtp_rs::{RtpPacketBuilder, RtpReader, Seq};

/// Largest UDP datagram accepted as RTP; anything bigger is not voice and is dropped.
pub const MAX_RTP_PACKET: usize = 1500;

/// The parts of a received RTP packet the session uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub seq: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source of the sender.
    pub ssrc: u32,
    /// Marker bit (talk-spurt start for audio, event start for telephone-events).
    pub marker: bool,
    /// Payload after header, CSRCs, extension and padding.
    pub payload: &'a [u8],
}

/// Why a datagram was not accepted as RTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpParseError {
    /// The datagram is larger than any voice packet.
    #[error("datagram of {0} bytes exceeds the RTP limit")]
    TooLarge(usize),
    /// The header is malformed (wrong version, truncated, bad padding).
    #[error("not an RTP packet: {0}")]
    Malformed(String),
}

/// Parses a datagram as RTP, refusing oversize and malformed input without panicking.
pub fn parse(datagram: &[u8]) -> Result<RtpHeader<'_>, RtpParseError> {
    if datagram.len() > MAX_RTP_PACKET {
        return Err(RtpParseError::TooLarge(datagram.len()));
    }
    let r = RtpReader::new(datagram).map_err(|e| RtpParseError::Malformed(format!("{e:?}")))?;
    if r.version() != 2 {
        return Err(RtpParseError::Malformed(format!("version {}", r.version())));
    }
    Ok(RtpHeader {
        payload_type: r.payload_type(),
        seq: u16::from(r.sequence_number()),
        timestamp: r.timestamp(),
        ssrc: r.ssrc(),
        marker: r.mark(),
        payload: r.payload(),
    })
}

/// Builds one RTP packet into `out` (cleared first); returns false if the header could not be built.
pub fn build(
    out: &mut Vec<u8>,
    payload_type: u8,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
    marker: bool,
    payload: &[u8],
) -> bool {
    let b = RtpPacketBuilder::new()
        .payload_type(payload_type)
        .sequence(Seq::from(seq))
        .timestamp(timestamp)
        .ssrc(ssrc)
        .marked(marker)
        .payload(payload);
    out.clear();
    out.resize(b.target_length(), 0);
    match b.build_into(out) {
        Ok(n) => {
            out.truncate(n);
            true
        }
        Err(e) => {
            tracing::warn!(error = ?e, "could not build RTP packet");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_then_parse_round_trips() {
        let mut buf = Vec::new();
        assert!(build(&mut buf, 8, 65535, 0xDEAD_BEEF, 42, true, &[1, 2, 3]));
        assert_eq!(buf.len(), 12 + 3);
        let h = parse(&buf).unwrap();
        assert_eq!(
            h,
            RtpHeader { payload_type: 8, seq: 65535, timestamp: 0xDEAD_BEEF, ssrc: 42, marker: true, payload: &[1, 2, 3] }
        );
    }

    #[test]
    fn garbage_and_oversize_are_errors_not_panics() {
        assert!(matches!(parse(&[0u8; 3]), Err(RtpParseError::Malformed(_))));
        assert!(matches!(parse(b"INVITE sip:x SIP/2.0\r\n"), Err(RtpParseError::Malformed(_))));
        assert!(matches!(parse(&vec![0x80u8; 4000]), Err(RtpParseError::TooLarge(4000))));
        // Padding bit set with a padding length larger than the packet.
        let mut buf = Vec::new();
        build(&mut buf, 0, 1, 1, 1, false, &[0u8; 4]);
        buf[0] |= 0x20;
        let last = buf.len() - 1;
        buf[last] = 200;
        assert!(parse(&buf).is_err());
        // Every single-byte prefix length of a valid packet parses or errors, never panics.
        build(&mut buf, 0, 1, 1, 1, false, &[7u8; 160]);
        for n in 0..buf.len() {
            let _ = parse(&buf[..n]);
        }
    }

    #[test]
    fn random_datagrams_never_panic() {
        // A cheap stand-in for the fuzz target: random bytes, many starting with a valid
        // version/flags byte so the deeper header paths (CSRC count, extension, padding) run.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..50_000 {
            let len = (next() % 64) as usize;
            let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(b) = d.first_mut() {
                *b = 0x80 | (*b & 0x3F);
            }
            if let Ok(h) = parse(&d) {
                assert!(h.payload.len() <= d.len());
                let _ = crate::dtmf::rfc4733::EventPayload::decode(h.payload);
            }
        }
    }
}
