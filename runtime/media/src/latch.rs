//! Symmetric RTP latching (for callers behind NAT) without RTP bleed.
//!
//! The session sends to the address from SDP until the first valid RTP packet arrives; from then
//! on it sends to, and accepts only from, that packet's source. A packet from any other address is
//! foreign and dropped — re-learning from whoever sends next is exactly the "RTP bleed" flaw that
//! lets an attacker steal a call's audio. Only the signalling layer moves the latch: a new SDP,
//! or a packet from the very address the SDP gave, which takes the latch back once. That undoes
//! a wrong first latch — a previous call's phone still sending to a port that was just reused —
//! and can only ever send the call's audio where the signalling said, never to a stranger.

use std::net::SocketAddr;

/// Decision for one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// From the latched source.
    Latched,
    /// Nothing latched yet: may latch if the packet turns out valid.
    Unlatched,
    /// From somewhere else after latching: drop and count.
    Foreign,
    /// From the signalled address while latched to another source: takes the latch back if the
    /// packet turns out valid.
    Signalled,
}

/// Where media goes and which source is trusted.
#[derive(Debug, Default, Clone)]
pub struct Latch {
    signalled: Option<SocketAddr>,
    latched: Option<SocketAddr>,
}

impl Latch {
    /// Starts over with a new address from signalling (SDP offer/answer or re-INVITE).
    pub fn reset(&mut self, signalled: SocketAddr) {
        self.signalled = Some(signalled);
        self.latched = None;
    }

    /// Classifies a datagram by its source address.
    pub fn check(&self, from: SocketAddr) -> Verdict {
        match self.latched {
            None => Verdict::Unlatched,
            Some(a) if a == from => Verdict::Latched,
            Some(_) if self.signalled == Some(from) => Verdict::Signalled,
            Some(_) => Verdict::Foreign,
        }
    }

    /// Latches to `from` (call after the packet proved to be valid RTP of this call); returns true
    /// when this latched now: nothing was latched, or `from` is the signalled address.
    pub fn latch(&mut self, from: SocketAddr) -> bool {
        if self.latched.is_none() || (self.signalled == Some(from) && self.latched != Some(from)) {
            self.latched = Some(from);
            return true;
        }
        false
    }

    /// Where to send: the latched source, else the signalled address.
    pub fn target(&self) -> Option<SocketAddr> {
        self.latched.or(self.signalled)
    }

    /// The latched source, if any.
    pub fn latched(&self) -> Option<SocketAddr> {
        self.latched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latches_once_and_never_relearns() {
        let sdp: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let nat: SocketAddr = "203.0.113.5:61000".parse().unwrap();
        let attacker: SocketAddr = "198.51.100.9:4000".parse().unwrap();
        let mut l = Latch::default();
        l.reset(sdp);
        assert_eq!(l.target(), Some(sdp));
        assert_eq!(l.check(nat), Verdict::Unlatched);
        assert!(l.latch(nat));
        assert_eq!(l.target(), Some(nat));
        assert_eq!(l.check(attacker), Verdict::Foreign);
        assert!(!l.latch(attacker));
        assert_eq!(l.target(), Some(nat));
        l.reset(sdp);
        assert_eq!(l.check(attacker), Verdict::Unlatched, "new signalling starts over");
    }

    #[test]
    fn a_packet_from_the_signalled_address_takes_a_wrong_latch_back_once() {
        // A previous call's phone still sends to the reused port and is latched first.
        let sdp: SocketAddr = "192.0.2.10:4000".parse().unwrap();
        let stale: SocketAddr = "192.0.2.99:5000".parse().unwrap();
        let mut l = Latch::default();
        l.reset(sdp);
        assert!(l.latch(stale));
        assert_eq!(l.target(), Some(stale));
        // The caller's own phone, at the address its SDP gave, speaks: the latch moves to it…
        assert_eq!(l.check(sdp), Verdict::Signalled);
        assert!(l.latch(sdp));
        assert_eq!(l.target(), Some(sdp));
        assert_eq!(l.check(sdp), Verdict::Latched);
        // …and the stale sender is foreign from then on: it cannot take it again.
        assert_eq!(l.check(stale), Verdict::Foreign);
        assert!(!l.latch(stale));
        assert_eq!(l.target(), Some(sdp));
    }
}
