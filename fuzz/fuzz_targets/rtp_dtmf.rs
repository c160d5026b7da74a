//! RTP datagrams and RFC 4733 telephone-events: a sequence of datagrams (split on a 2-byte
//! length prefix) through `rtp::parse` into the RFC 4733 receiver, plus the SIP INFO DTMF body.
#![no_main]
use courtyard_media::dtmf::{parse_sip_info, rfc4733::{EventPayload, Rfc4733Receiver}};
use courtyard_media::rtp;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let _ = rtp::parse(data);
    let mut rx = Rfc4733Receiver::new();
    let mut out = Vec::new();
    let t0 = Instant::now();
    let mut rest = data;
    let mut tick = 0u64;
    while rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])) % 512;
        rest = &rest[2..];
        let (pkt, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        tick += 20;
        let now = t0 + Duration::from_millis(tick);
        if let Ok(h) = rtp::parse(pkt) {
            if let Some(ev) = EventPayload::decode(h.payload) {
                let back = EventPayload::decode(&ev.encode());
                assert_eq!(back.map(|b| (b.event, b.end, b.duration)), Some((ev.event, ev.end, ev.duration)));
            }
            rx.on_packet(h.ssrc, h.timestamp, h.payload, now, &mut out);
        }
        rx.poll(now, &mut out);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let (ct, body) = text.split_once('\n').unwrap_or(("application/dtmf-relay", text));
        let _ = parse_sip_info(ct, body);
    }
});
