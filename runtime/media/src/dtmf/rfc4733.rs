//! RFC 4733 telephone-events: decoding with end-of-event de-duplication, and the packet plan for
//! sending a digit.
//!
//! A sender repeats an event's packets every 20 ms with the same RTP timestamp and a growing
//! duration, then sends the end packet three times. The receiver reports each event exactly once,
//! when it ends, so the report carries the real duration; an event whose end packets are all lost
//! is reported when a new event starts or after [`END_TIMEOUT`] without packets.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{DtmfDigit, DtmfSource, event_digit};

/// An event without any packet for this long is taken as ended (its end packets were lost).
pub const END_TIMEOUT: Duration = Duration::from_millis(600);

/// The fixed 4-byte telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    /// Event code (0-15 are keys).
    pub event: u8,
    /// End bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0 (6 bits).
    pub volume: u8,
    /// Duration so far, in timestamp units (8 kHz clock: 160 per 20 ms).
    pub duration: u16,
}

impl EventPayload {
    /// Decodes the first event of a payload; `None` when shorter than 4 bytes.
    pub fn decode(p: &[u8]) -> Option<Self> {
        if p.len() < 4 {
            return None;
        }
        Some(Self { event: p[0], end: p[1] & 0x80 != 0, volume: p[1] & 0x3F, duration: u16::from_be_bytes([p[2], p[3]]) })
    }

    /// Encodes to the 4-byte wire form.
    pub fn encode(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, (if self.end { 0x80 } else { 0 }) | (self.volume & 0x3F), d[0], d[1]]
    }
}

#[derive(Debug)]
struct Active {
    key: (u32, u32),
    event: u8,
    volume: u8,
    duration: u16,
    last_seen: Instant,
}

/// Turns a stream of telephone-event packets into one digit per key press.
#[derive(Debug, Default)]
pub struct Rfc4733Receiver {
    active: Option<Active>,
    /// (ssrc, timestamp) of recently finished events: their redundant end packets are ignored.
    finished: VecDeque<(u32, u32)>,
}

impl Rfc4733Receiver {
    /// Creates a receiver with no event in progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet; digits that ended are pushed to `out`.
    pub fn on_packet(&mut self, ssrc: u32, timestamp: u32, payload: &[u8], now: Instant, out: &mut Vec<DtmfDigit>) {
        let Some(ev) = EventPayload::decode(payload) else { return };
        let key = (ssrc, timestamp);
        if self.finished.contains(&key) {
            return;
        }
        if self.active.as_ref().is_some_and(|a| a.key != key) {
            self.finish(out);
        }
        let a = self.active.get_or_insert(Active { key, event: ev.event, volume: ev.volume, duration: 0, last_seen: now });
        a.duration = a.duration.max(ev.duration);
        a.volume = ev.volume;
        a.last_seen = now;
        if ev.end {
            self.finish(out);
        }
    }

    /// Ends an event whose end packets never came; call on every tick.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<DtmfDigit>) {
        if self.active.as_ref().is_some_and(|a| now.duration_since(a.last_seen) >= END_TIMEOUT) {
            self.finish(out);
        }
    }

    /// Forgets everything (SSRC change or new remote).
    pub fn reset(&mut self) {
        self.active = None;
        self.finished.clear();
    }

    fn finish(&mut self, out: &mut Vec<DtmfDigit>) {
        let Some(a) = self.active.take() else { return };
        if self.finished.len() >= 16 {
            self.finished.pop_front();
        }
        self.finished.push_back(a.key);
        if let Some(digit) = event_digit(a.event) {
            out.push(DtmfDigit {
                digit,
                duration_ms: a.duration as u32 / 8,
                volume: Some(a.volume),
                source: DtmfSource::Rfc4733,
            });
        }
    }
}

/// The sequence of packets that sends one event: one per 20 ms tick, all with the event's start
/// timestamp; the first has the marker bit, the last three are the (redundant) end packets.
#[derive(Debug, Clone)]
pub struct EventSender {
    event: u8,
    volume: u8,
    /// Ticks of the event proper (before the end packets).
    ticks: u32,
    sent: u32,
    /// RTP timestamp of the event start.
    pub timestamp: u32,
}

impl EventSender {
    /// Plans an event of `duration_ms` (at least 40 ms) starting at `timestamp`.
    pub fn new(event: u8, duration_ms: u32, volume: u8, timestamp: u32) -> Self {
        let ticks = duration_ms.clamp(40, 5000).div_ceil(20);
        Self { event, volume, ticks, sent: 0, timestamp }
    }

    /// The next packet: (marker, payload); `None` when the event and its end packets are sent.
    pub fn next_packet(&mut self) -> Option<(bool, [u8; 4])> {
        if self.sent >= self.ticks + 3 {
            return None;
        }
        let end = self.sent >= self.ticks;
        let duration = (self.sent.min(self.ticks - 1) + 1) * 160;
        let p = EventPayload { event: self.event, end, volume: self.volume, duration: duration.min(u16::MAX as u32) as u16 };
        let marker = self.sent == 0;
        self.sent += 1;
        Some((marker, p.encode()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip_and_fields() {
        // RFC 4733 §2.3 layout: event, E|R|volume, duration.
        let p = EventPayload::decode(&[5, 0x80 | 10, 0x03, 0x20]).unwrap();
        assert_eq!(p, EventPayload { event: 5, end: true, volume: 10, duration: 800 });
        assert_eq!(p.encode(), [5, 0x8A, 0x03, 0x20]);
        assert_eq!(EventPayload::decode(&[1, 2, 3]), None);
    }

    #[test]
    fn redundant_end_packets_give_one_digit_with_duration_and_volume() {
        let mut r = Rfc4733Receiver::new();
        let t0 = Instant::now();
        let mut out = Vec::new();
        let mut s = EventSender::new(11, 100, 7, 4000);
        let mut n = 0;
        while let Some((_, p)) = s.next_packet() {
            r.on_packet(99, s.timestamp, &p, t0, &mut out);
            n += 1;
        }
        assert_eq!(n, 5 + 3);
        assert_eq!(out, vec![DtmfDigit { digit: '#', duration_ms: 100, volume: Some(7), source: DtmfSource::Rfc4733 }]);
        // A late retransmission of the same end packet is still ignored.
        r.on_packet(99, 4000, &[11, 0x87, 0, 160], t0, &mut out);
        assert_eq!(out.len(), 1);
        // The same key pressed again is a new event (new timestamp) and is reported.
        r.on_packet(99, 6000, &[11, 0x87, 0x03, 0x20], t0, &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn lost_end_packets_are_covered_by_next_event_or_timeout() {
        let mut r = Rfc4733Receiver::new();
        let t0 = Instant::now();
        let mut out = Vec::new();
        r.on_packet(1, 100, &[1, 10, 0, 160], t0, &mut out);
        r.on_packet(1, 100, &[1, 10, 1, 64], t0, &mut out);
        assert!(out.is_empty());
        // The next key starts before an end was seen: the first is reported then.
        r.on_packet(1, 900, &[2, 10, 0, 160], t0, &mut out);
        assert_eq!(out.iter().map(|d| d.digit).collect::<String>(), "1");
        assert_eq!(out[0].duration_ms, 40);
        r.poll(t0 + Duration::from_millis(100), &mut out);
        assert_eq!(out.len(), 1);
        r.poll(t0 + END_TIMEOUT, &mut out);
        assert_eq!(out.iter().map(|d| d.digit).collect::<String>(), "12");
        // Non-key events (flash = 16) are consumed but not reported.
        r.on_packet(1, 2000, &[16, 0x80, 0, 160], t0, &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn sender_plan_is_rfc_shaped() {
        let mut s = EventSender::new(3, 60, 10, 1234);
        let pk: Vec<_> = std::iter::from_fn(|| s.next_packet()).collect();
        assert_eq!(pk.len(), 3 + 3);
        assert!(pk[0].0 && pk[1..].iter().all(|p| !p.0), "marker only on the first");
        let d: Vec<_> = pk.iter().map(|p| EventPayload::decode(&p.1).unwrap()).collect();
        assert_eq!(d.iter().map(|e| e.duration).collect::<Vec<_>>(), vec![160, 320, 480, 480, 480, 480]);
        assert_eq!(d.iter().map(|e| e.end).collect::<Vec<_>>(), vec![false, false, false, true, true, true]);
    }
}
