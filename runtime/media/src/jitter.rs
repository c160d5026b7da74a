//! A small receive jitter buffer: reorders packets by sequence number and releases one packet per
//! 20 ms tick after a short prefill, so the caller's audio reaches recording, DTMF detection and
//! the bridged leg in order and at a steady pace. Fixed depth (default 2 packets = 40 ms): IVR and
//! agent calls on a LAN/carrier path need little, and every frame of depth is latency in a bridge.

use std::collections::BTreeMap;

/// What one tick takes out of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Pulled {
    /// The next packet's payload, in order.
    Packet(Vec<u8>),
    /// The next packet never came (lost or too late); play a concealment frame.
    Missing,
}

/// Outcome of inserting a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored for playout.
    Stored,
    /// Older than what was already played out; dropped.
    Late,
    /// Already in the buffer; dropped.
    Duplicate,
}

/// Reorders RTP payloads by extended sequence number.
#[derive(Debug)]
pub struct JitterBuffer {
    depth: usize,
    packets: BTreeMap<u64, Vec<u8>>,
    /// Extended sequence number of the newest packet seen (for wrap-around).
    highest: Option<u64>,
    /// Next sequence number to play out, once playing.
    next: Option<u64>,
    /// Newest sequence number played out (anything at or before it is late), kept across underruns.
    played: Option<u64>,
    /// Consecutive pulls with a backlog above the soft limit.
    over: u32,
    /// Payload buffers handed back by the reader ([`JitterBuffer::recycle`]) or trimmed, reused
    /// by the next inserts: a call receives 50 packets a second, and a fresh allocation and free
    /// per packet was visible in the media threads' profile at 1000 calls.
    spare: Vec<Vec<u8>>,
}

/// A jump larger than this is a new stream (sender restart), not reordering.
const MAX_JUMP: i64 = 500;
/// Backlog beyond depth + this is trimmed at once (hard latency bound: 300 ms).
const MAX_EXTRA: usize = 15;
/// Backlog beyond depth + this, lasting [`DRAIN_AFTER`] pulls, is drained one packet per pull:
/// a burst after a network (or scheduler) stall is played, not dropped, and the extra latency it
/// left behind is shed a second later.
const SOFT_EXTRA: usize = 2;
/// Pulls over the soft limit before draining starts.
const DRAIN_AFTER: u32 = 50;

impl JitterBuffer {
    /// A buffer that starts playing once `depth` packets are queued.
    pub fn new(depth: usize) -> Self {
        Self { depth: depth.max(1), packets: BTreeMap::new(), highest: None, next: None, played: None, over: 0, spare: Vec::new() }
    }

    /// Forgets all packets and the stream position (SSRC change, new remote).
    pub fn reset(&mut self) {
        self.packets.clear();
        self.highest = None;
        self.next = None;
        self.played = None;
        self.over = 0;
    }

    /// Packets waiting.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    fn extend(&mut self, seq: u16) -> u64 {
        match self.highest {
            None => (1u64 << 32) + seq as u64,
            Some(h) => {
                let delta = seq.wrapping_sub(h as u16) as i16 as i64;
                (h as i64 + delta) as u64
            }
        }
    }

    /// Stores a payload under its sequence number.
    pub fn insert(&mut self, seq: u16, payload: &[u8]) -> Inserted {
        let mut ext = self.extend(seq);
        if let Some(h) = self.highest
            && (ext as i64 - h as i64).abs() > MAX_JUMP
        {
            self.reset();
            ext = self.extend(seq);
        }
        if self.next.is_some_and(|n| ext < n) || self.played.is_some_and(|p| ext <= p) {
            return Inserted::Late;
        }
        if self.packets.contains_key(&ext) {
            return Inserted::Duplicate;
        }
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(payload);
        self.packets.insert(ext, buf);
        while self.packets.len() > self.depth + MAX_EXTRA {
            if let Some((k, old)) = self.packets.pop_first() {
                self.next = Some(k + 1);
                self.played = Some(k);
                self.recycle(old);
            }
        }
        Inserted::Stored
    }

    /// Hands a pulled packet's buffer back for reuse by a later insert (optional: a buffer not
    /// handed back is simply freed).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() <= self.depth + MAX_EXTRA {
            self.spare.push(buf);
        }
    }

    /// Takes what plays out in this tick; `None` while prefilling or after an underrun.
    pub fn pull(&mut self) -> Option<Pulled> {
        let next = match self.next {
            Some(n) => n,
            None => {
                if self.packets.len() < self.depth {
                    return None;
                }
                *self.packets.keys().next()?
            }
        };
        if self.packets.len() > self.depth + SOFT_EXTRA {
            self.over += 1;
        } else {
            self.over = 0;
        }
        let mut next = next;
        if self.over >= DRAIN_AFTER
            && let Some((k, old)) = self.packets.pop_first()
        {
            // Shed one packet of latency.
            next = k + 1;
            self.recycle(old);
        }
        if self.packets.is_empty() {
            // Underrun: prefill again so a stalled sender does not produce a burst of "missing".
            self.next = None;
            return None;
        }
        self.next = Some(next + 1);
        self.played = Some(next);
        match self.packets.remove(&next) {
            Some(p) => Some(Pulled::Packet(p)),
            None => Some(Pulled::Missing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(j: &mut JitterBuffer) -> Vec<Option<u8>> {
        let mut v = Vec::new();
        while let Some(p) = j.pull() {
            v.push(match p {
                Pulled::Packet(p) => Some(p[0]),
                Pulled::Missing => None,
            });
        }
        v
    }

    /// A buffer handed back is what the next insert stores into (no allocation per packet), and
    /// the payload it then holds is the new one.
    #[test]
    fn recycled_buffers_are_reused_by_later_inserts() {
        let mut j = JitterBuffer::new(1);
        j.insert(1, &[1, 1, 1]);
        let Some(Pulled::Packet(p)) = j.pull() else { panic!("packet 1 expected") };
        let at = p.as_ptr();
        j.recycle(p);
        j.insert(2, &[2, 2]);
        let Some(Pulled::Packet(p)) = j.pull() else { panic!("packet 2 expected") };
        assert_eq!(p, [2, 2]);
        assert_eq!(p.as_ptr(), at, "the recycled buffer was not reused");
    }

    #[test]
    fn reorders_conceals_gaps_and_drops_late_and_duplicates() {
        let mut j = JitterBuffer::new(2);
        assert_eq!(j.insert(11, &[11]), Inserted::Stored);
        assert_eq!(j.pull(), None, "prefilling");
        assert_eq!(j.insert(10, &[10]), Inserted::Stored);
        assert_eq!(j.insert(10, &[10]), Inserted::Duplicate);
        assert_eq!(j.insert(13, &[13]), Inserted::Stored);
        assert_eq!(drain(&mut j), vec![Some(10), Some(11), None, Some(13)]);
        assert_eq!(j.insert(12, &[12]), Inserted::Late);
    }

    #[test]
    fn sequence_wraps_around() {
        let mut j = JitterBuffer::new(1);
        for s in [65534u16, 65535, 0, 1] {
            j.insert(s, &[s as u8]);
        }
        assert_eq!(drain(&mut j), vec![Some(254), Some(255), Some(0), Some(1)]);
        j.insert(2, &[2]);
        assert_eq!(drain(&mut j), vec![Some(2)]);
    }

    #[test]
    fn backlog_is_trimmed_and_big_jumps_restart() {
        let mut j = JitterBuffer::new(2);
        for s in 0..40u16 {
            j.insert(s, &[s as u8]);
        }
        assert_eq!(j.len(), 2 + MAX_EXTRA);
        assert_eq!(drain(&mut j), (23..40).map(Some).collect::<Vec<_>>());
        // Sender restarted with a random sequence number.
        j.insert(40000, &[1]);
        j.insert(40001, &[2]);
        assert_eq!(drain(&mut j), vec![Some(1), Some(2)]);
    }

    #[test]
    fn a_burst_is_played_then_the_lasting_backlog_is_shed() {
        let mut j = JitterBuffer::new(2);
        // A stall then a burst of 8 packets: all of them play.
        for s in 0..8u16 {
            j.insert(s, &[s as u8]);
        }
        let mut played = Vec::new();
        // Then a steady stream, one packet per pull: the backlog of 6 stays, and is shed after
        // DRAIN_AFTER pulls until the soft limit holds.
        for seq in 8u16..128 {
            j.insert(seq, &[seq as u8]);
            if let Some(Pulled::Packet(p)) = j.pull() {
                played.push(p[0]);
            }
        }
        assert_eq!(&played[..8], &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert!(j.len() <= 2 + SOFT_EXTRA, "backlog {}", j.len());
        let span = *played.last().unwrap() as usize - played[0] as usize + 1;
        let skipped = span - played.len();
        assert!((3..=6).contains(&skipped), "shed {skipped} packets");
    }
}
