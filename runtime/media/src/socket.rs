//! A call leg's RTP socket, read at the leg's 20 ms tick rather than on readiness.
//!
//! The socket is non-blocking and deliberately *not* registered with the tokio reactor: a
//! registered socket wakes the media thread for every arriving packet (and the sender's kernel
//! pays for that wake-up), only for the packet to wait for the tick that consumes it anyway.
//! Reading at the tick would lose *when* a packet arrived, which the RFC 3550 jitter figure
//! needs, so the kernel stamps each datagram on arrival (`SO_TIMESTAMPNS`) and the stamp comes
//! back with it.

use std::io;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{self, ControlMessageOwned, MsgFlags, SockaddrStorage, sockopt};

/// One datagram taken from the socket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received {
    /// Bytes written into the caller's buffer.
    pub len: usize,
    /// Who sent it.
    pub from: SocketAddr,
    /// When the kernel queued it (the read may come up to a tick later).
    pub arrived: Instant,
}

/// The leg's UDP socket.
#[derive(Debug)]
pub(crate) struct RtpSocket {
    sock: UdpSocket,
    cmsg: Vec<u8>,
}

impl RtpSocket {
    /// Wraps a bound socket: non-blocking, kernel arrival timestamps on.
    pub(crate) fn new(sock: UdpSocket) -> io::Result<Self> {
        sock.set_nonblocking(true)?;
        socket::setsockopt(&sock, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)?;
        Ok(Self { sock, cmsg: nix::cmsg_space!(nix::sys::time::TimeSpec) })
    }

    /// The bound address (for the SDP).
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Sends one datagram without waiting (a full socket buffer is an error, not a wait).
    pub(crate) fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.sock.send_to(buf, to)
    }

    /// Takes the next queued datagram, `Ok(None)` when none is waiting. `clock` is one reading of
    /// both clocks (see [`Clock::now`]), to turn the kernel's wall-clock stamp into an `Instant`.
    pub(crate) fn recv(&mut self, buf: &mut [u8], clock: &Clock) -> io::Result<Option<Received>> {
        let mut iov = [io::IoSliceMut::new(buf)];
        let msg = match socket::recvmsg::<SockaddrStorage>(self.sock.as_raw_fd(), &mut iov, Some(&mut self.cmsg), MsgFlags::MSG_DONTWAIT) {
            Ok(m) => m,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let from = msg.address.as_ref().and_then(to_std).ok_or_else(|| io::Error::other("datagram without a source address"))?;
        let mut arrived = clock.instant;
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                if let ControlMessageOwned::ScmTimestampns(ts) = c {
                    arrived = clock.instant_of(Duration::new(ts.tv_sec().max(0) as u64, ts.tv_nsec().clamp(0, 999_999_999) as u32));
                }
            }
        }
        Ok(Some(Received { len: msg.bytes, from, arrived }))
    }
}

fn to_std(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    a.as_sockaddr_in6().map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

/// The monotonic and the wall clock read together, to map kernel packet stamps (wall clock) onto
/// `Instant`s without two clock reads per packet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    instant: Instant,
    since_epoch: Duration,
}

impl Clock {
    /// Reads both clocks.
    pub(crate) fn now() -> Self {
        Self { instant: Instant::now(), since_epoch: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() }
    }

    /// The `Instant` of a wall-clock time (since the epoch) at or before this reading; a stamp
    /// from the future (the wall clock was stepped) counts as now.
    pub(crate) fn instant_of(&self, since_epoch: Duration) -> Instant {
        let age = self.since_epoch.saturating_sub(since_epoch);
        self.instant.checked_sub(age).unwrap_or(self.instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_comes_back_with_its_sender_and_arrival_time() {
        let mut rx = RtpSocket::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut buf = [0u8; 64];
        assert!(rx.recv(&mut buf, &Clock::now()).unwrap().is_none(), "nothing queued yet");
        // The kernel turns receive stamping on for the whole stack a moment after the first socket
        // asks (deferred work); a datagram before that is stamped when read. Calls are longer.
        std::thread::sleep(Duration::from_millis(100));
        tx.send_to(b"hello", rx.local_addr().unwrap()).unwrap();
        let sent = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let got = rx.recv(&mut buf, &Clock::now()).unwrap().expect("queued datagram");
        assert_eq!(&buf[..got.len], b"hello");
        assert_eq!(got.from, tx.local_addr().unwrap());
        // Stamped on arrival (right after the send), not when read 30 ms later.
        let lag = got.arrived.saturating_duration_since(sent).max(sent.saturating_duration_since(got.arrived));
        assert!(lag < Duration::from_millis(15), "arrival stamp off by {lag:?}");
        assert!(rx.recv(&mut buf, &Clock::now()).unwrap().is_none());
    }

    #[test]
    fn a_stamp_from_the_future_counts_as_now() {
        let c = Clock::now();
        assert_eq!(c.instant_of(c.since_epoch + Duration::from_secs(5)), c.instant);
        assert_eq!(c.instant_of(c.since_epoch - Duration::from_millis(20)), c.instant - Duration::from_millis(20));
    }
}
