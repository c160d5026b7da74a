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
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = now.duration_since(epoch).as_secs_f64() * 8000.0;
        if let Some((pa, pts)) = self.prev {
            let d = (arrival - pa) - (ts.wrapping_sub(pts) as i32 as f64);
            self.jitter += (d.abs() - self.jitter) / 16.0;
        }
        self.prev = Some((arrival, ts));
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
