//! Per-session media statistics: what operators graph (loss, jitter) and what tells an attack or
//! a broken peer from a healthy call (foreign, garbage, oversize, wrong payload type).

use std::net::SocketAddr;
use std::time::Instant;

/// A snapshot of one session's counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaStats {
    /// RTP packets sent (audio, comfort silence and telephone-events).
    pub packets_sent: u64,
    /// RTP bytes sent (headers included).
    pub bytes_sent: u64,
    /// Telephone-event packets sent.
    pub dtmf_packets_sent: u64,
    /// Valid RTP packets accepted from the latched source.
    pub packets_received: u64,
    /// Bytes of accepted packets.
    pub bytes_received: u64,
    /// Packets expected minus received (RFC 3550 A.3), per current SSRC; never negative.
    pub packets_lost: u64,
    /// Interarrival jitter (RFC 3550 A.8) in milliseconds.
    pub jitter_ms: f64,
    /// Datagrams from a source other than the latched one (RTP bleed attempts, stray streams).
    pub dropped_foreign: u64,
    /// Datagrams that are not RTP.
    pub dropped_garbage: u64,
    /// Datagrams larger than any voice packet.
    pub dropped_oversize: u64,
    /// Comfort-noise packets (RFC 3389, pt 13) accepted as silence.
    pub comfort_noise_received: u64,
    /// RTP with a payload type not negotiated for this call.
    pub dropped_wrong_pt: u64,
    /// Datagrams that arrived before the remote was known (no SDP yet).
    pub dropped_unsignalled: u64,
    /// Packets that arrived after their playout time, or duplicates.
    pub dropped_late: u64,
    /// Times the remote's SSRC changed (the call continues with the new stream).
    pub ssrc_changes: u64,
    /// Frames concealed because the packet never came.
    pub concealed_frames: u64,
    /// Digits reported on the digit stream (all sources).
    pub digits_received: u64,
    /// Ticks skipped because the task ran more than 100 ms late (machine overloaded).
    pub ticks_skipped: u64,
    /// Sends refused by the socket (buffer full).
    pub send_errors: u64,
    /// The address media is latched to, if any.
    pub latched: Option<SocketAddr>,
}

/// RFC 3550 receive accounting for one SSRC: extended sequence numbers, loss and jitter.
#[derive(Debug, Default)]
pub(crate) struct RecvTracker {
    base: Option<u64>,
    max: u64,
    received: u64,
    /// Previous (arrival in 8 kHz units, RTP timestamp) for the jitter estimate.
    prev: Option<(f64, u32)>,
    jitter: f64,
    epoch: Option<Instant>,
}

impl RecvTracker {
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }

    /// Accounts one audio packet.
    pub(crate) fn on_packet(&mut self, seq: u16, ts: u32, now: Instant) {
        self.on_sequence(seq);
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = now.duration_since(epoch).as_secs_f64() * 8000.0;
        if let Some((pa, pts)) = self.prev {
            let d = (arrival - pa) - (ts.wrapping_sub(pts) as i32 as f64);
            self.jitter += (d.abs() - self.jitter) / 16.0;
        }
        self.prev = Some((arrival, ts));
    }

    /// Accounts a non-audio packet of the same stream (RFC 4733 event, comfort noise): it uses a
    /// sequence number, so it counts as received, but its timestamp says nothing about jitter.
    pub(crate) fn on_sequence(&mut self, seq: u16) {
        let ext = match self.base {
            None => {
                let e = (1u64 << 32) + seq as u64;
                self.base = Some(e);
                self.max = e;
                e
            }
            Some(_) => {
                let delta = seq.wrapping_sub(self.max as u16) as i16 as i64;
                (self.max as i64 + delta) as u64
            }
        };
        self.max = self.max.max(ext);
        self.received += 1;
    }

    /// Packets lost so far for this SSRC.
    pub(crate) fn lost(&self) -> u64 {
        match self.base {
            None => 0,
            Some(b) => (self.max - b + 1).saturating_sub(self.received),
        }
    }

    /// Jitter in milliseconds.
    pub(crate) fn jitter_ms(&self) -> f64 {
        self.jitter / 8.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn telephone_events_in_the_stream_are_not_counted_lost() {
        let mut t = RecvTracker::default();
        let t0 = Instant::now();
        for i in 0..10u16 {
            t.on_packet(i, u32::from(i) * 160, t0 + Duration::from_millis(20 * u64::from(i)));
        }
        for i in 10..16u16 {
            t.on_sequence(i); // a digit: six RFC 4733 packets
        }
        for i in 16..20u16 {
            t.on_packet(i, u32::from(i) * 160, t0 + Duration::from_millis(20 * u64::from(i)));
        }
        assert_eq!(t.lost(), 0);
        assert!(t.jitter_ms() < 0.5, "{}", t.jitter_ms());
    }

    #[test]
    fn loss_and_jitter_follow_rfc3550() {
        let mut t = RecvTracker::default();
        let t0 = Instant::now();
        // 0..100 with 3 lost, across the 16-bit wrap, perfectly paced.
        for i in 0..100u32 {
            if [10, 50, 51].contains(&i) {
                continue;
            }
            let seq = 65500u16.wrapping_add(i as u16);
            t.on_packet(seq, i * 160, t0 + Duration::from_millis(20 * i as u64));
        }
        assert_eq!(t.lost(), 3);
        assert!(t.jitter_ms() < 0.5, "{}", t.jitter_ms());
        // Alternating 10 ms early/late arrivals give jitter near 20 ms * (1 - decay) ≈ 15-20 ms.
        let mut t = RecvTracker::default();
        for i in 0..400u32 {
            let skew = if i % 2 == 0 { 0 } else { 20 };
            t.on_packet(i as u16, i * 160, t0 + Duration::from_millis(20 * i as u64 + skew));
        }
        assert!(t.jitter_ms() > 15.0 && t.jitter_ms() < 21.0, "{}", t.jitter_ms());
        assert_eq!(t.lost(), 0);
    }
}

/// How late the 20 ms clock fired, per tick: the sender-side RTP send jitter, in 100 µs buckets
/// up to 20 ms (the last bucket collects everything later). Exposed for metrics and benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendJitter {
    buckets: [u32; Self::BUCKETS],
    max_us: u32,
}

impl Default for SendJitter {
    fn default() -> Self {
        Self { buckets: [0; Self::BUCKETS], max_us: 0 }
    }
}

impl SendJitter {
    const BUCKETS: usize = 201;
    const WIDTH_US: u32 = 100;

    /// Records one tick that fired `late_us` after its deadline.
    pub fn record(&mut self, late_us: u32) {
        let i = ((late_us / Self::WIDTH_US) as usize).min(Self::BUCKETS - 1);
        self.buckets[i] = self.buckets[i].saturating_add(1);
        self.max_us = self.max_us.max(late_us);
    }

    /// Adds another histogram (to aggregate sessions).
    pub fn merge(&mut self, other: &SendJitter) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a = a.saturating_add(*b);
        }
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The ticks recorded after `earlier` was taken (same session); max stays the overall max.
    pub fn since(&self, earlier: &SendJitter) -> SendJitter {
        let mut d = self.clone();
        for (a, b) in d.buckets.iter_mut().zip(earlier.buckets.iter()) {
            *a = a.saturating_sub(*b);
        }
        d
    }

    /// Ticks recorded.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&b| b as u64).sum()
    }

    /// Upper bound of the bucket holding the `p`-quantile (0.0..=1.0), in µs.
    pub fn percentile_us(&self, p: f64) -> u32 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let want = ((total as f64) * p.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut acc = 0u64;
        for (i, &b) in self.buckets.iter().enumerate() {
            acc += b as u64;
            if acc >= want {
                return if i == Self::BUCKETS - 1 { self.max_us } else { (i as u32 + 1) * Self::WIDTH_US };
            }
        }
        self.max_us
    }

    /// Latest tick seen, in µs.
    pub fn max_us(&self) -> u32 {
        self.max_us
    }
}

#[cfg(test)]
mod jitter_tests {
    use super::*;

    #[test]
    fn percentiles_come_from_buckets() {
        let mut h = SendJitter::default();
        for _ in 0..98 {
            h.record(50);
        }
        h.record(2_450);
        h.record(90_000);
        assert_eq!(h.count(), 100);
        assert_eq!(h.percentile_us(0.5), 100);
        assert_eq!(h.percentile_us(0.99), 2_500);
        assert_eq!(h.percentile_us(1.0), 90_000);
        let mut g = SendJitter::default();
        g.merge(&h);
        g.merge(&h);
        assert_eq!(g.count(), 200);
    }
}
