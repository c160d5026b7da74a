//! A call leg's RTP socket, read at the leg's 20 ms tick rather than on readiness.
//!
//! The socket is non-blocking and deliberately *not* registered with the tokio reactor: a
//! registered socket wakes the media thread for every arriving packet (and the sender's kernel
//! pays for that wake-up), only for the packet to wait for the tick that consumes it anyway.
//! Reading at the tick would lose *when* a packet arrived, which the RFC 3550 jitter figure
//! needs, so the kernel stamps each datagram on arrival (`SO_TIMESTAMPNS`) and the stamp comes
//! back with it.

use std::cell::RefCell;
use std::io;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{self, ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrStorage, sockopt};

use crate::rtp::MAX_RTP_PACKET;

/// The leg's UDP socket.
#[derive(Debug)]
pub(crate) struct RtpSocket {
    sock: UdpSocket,
}

impl RtpSocket {
    /// Wraps a bound socket: non-blocking, kernel arrival timestamps on.
    pub(crate) fn new(sock: UdpSocket) -> io::Result<Self> {
        sock.set_nonblocking(true)?;
        socket::setsockopt(&sock, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)?;
        Ok(Self { sock })
    }

    /// The bound address (for the SDP).
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Sends one datagram without waiting (a full socket buffer is an error, not a wait).
    pub(crate) fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.sock.send_to(buf, to)
    }

    /// The descriptor, for [`recv_batch`] (which must not borrow the socket's owner).
    pub(crate) fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// Datagrams taken per system call.
const BATCH: usize = 8;
/// One receive slot: a byte more than the largest accepted packet, so oversize is seen.
const SLOT: usize = MAX_RTP_PACKET + 1;

/// recvmmsg headers and buffers, one set per media thread (legs on a thread take turns: nothing
/// awaits while they are in use).
struct Scratch {
    headers: MultiHeaders<SockaddrStorage>,
    buffers: Box<[u8]>,
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Takes up to `max` queued datagrams from `fd`, [`BATCH`] per system call (recvmmsg), calling
/// `on(bytes, sender, arrival)` for each; returns how many. A steady stream has one datagram per
/// tick, so this is one call per tick where a read-until-empty loop needed two (the second
/// only to learn the queue was empty). `clock` is one reading of both clocks (see [`Clock::now`]).
pub(crate) fn recv_batch(fd: RawFd, max: usize, clock: &Clock, mut on: impl FnMut(&[u8], SocketAddr, Instant)) -> io::Result<usize> {
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let scratch = guard.get_or_insert_with(|| Scratch {
            headers: MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(nix::sys::time::TimeSpec))),
            buffers: vec![0u8; BATCH * SLOT].into_boxed_slice(),
        });
        let mut total = 0;
        while total < max {
            let want = (max - total).min(BATCH);
            let Scratch { headers, buffers } = &mut *scratch;
            let mut slots = buffers.chunks_mut(SLOT);
            let mut iovs: [[io::IoSliceMut<'_>; 1]; BATCH] =
                std::array::from_fn(|_| [io::IoSliceMut::new(slots.next().unwrap_or_default())]);
            let got = match socket::recvmmsg(fd, headers, iovs[..want].iter_mut(), MsgFlags::MSG_DONTWAIT, None) {
                Ok(got) => got,
                Err(nix::errno::Errno::EAGAIN) => break,
                Err(e) => return Err(e.into()),
            };
            let mut n = 0;
            for msg in got {
                n += 1;
                let Some(from) = msg.address.as_ref().and_then(to_std) else { continue };
                let mut arrived = clock.instant;
                for c in msg.cmsgs().into_iter().flatten() {
                    if let ControlMessageOwned::ScmTimestampns(ts) = c {
                        arrived = clock.instant_of(Duration::new(ts.tv_sec().max(0) as u64, ts.tv_nsec().clamp(0, 999_999_999) as u32));
                    }
                }
                on(msg.iovs().next().unwrap_or_default(), from, arrived);
            }
            total += n;
            if n < want {
                break;
            }
        }
        Ok(total)
    })
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
pub struct Clock {
    instant: Instant,
    since_epoch: Duration,
}

impl Clock {
    /// Reads both clocks.
    pub fn now() -> Self {
        Self { instant: Instant::now(), since_epoch: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() }
    }

    /// The `Instant` of a wall-clock time (since the epoch) at or before this reading; a stamp
    /// from the future (the wall clock was stepped) counts as now.
    pub fn instant_of(&self, since_epoch: Duration) -> Instant {
        let age = self.since_epoch.saturating_sub(since_epoch);
        self.instant.checked_sub(age).unwrap_or(self.instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(rx: &RtpSocket, max: usize) -> Vec<(Vec<u8>, SocketAddr, Instant)> {
        let mut got = Vec::new();
        let n = recv_batch(rx.fd(), max, &Clock::now(), |d, from, at| got.push((d.to_vec(), from, at))).unwrap();
        assert_eq!(n, got.len());
        got
    }

    #[test]
    fn a_datagram_comes_back_with_its_sender_and_arrival_time() {
        let rx = RtpSocket::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(take(&rx, 64).is_empty(), "nothing queued yet");
        // The kernel turns receive stamping on for the whole stack a moment after the first socket
        // asks (deferred work); a datagram before that is stamped when read. Calls are longer.
        std::thread::sleep(Duration::from_millis(100));
        tx.send_to(b"hello", rx.local_addr().unwrap()).unwrap();
        let sent = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let got = take(&rx, 64);
        assert_eq!(got.len(), 1);
        let (data, from, arrived) = &got[0];
        assert_eq!(&data[..], b"hello");
        assert_eq!(*from, tx.local_addr().unwrap());
        // Stamped on arrival (right after the send), not when read 30 ms later.
        let lag = arrived.saturating_duration_since(sent).max(sent.saturating_duration_since(*arrived));
        assert!(lag < Duration::from_millis(15), "arrival stamp off by {lag:?}");
        assert!(take(&rx, 64).is_empty());
    }

    #[test]
    fn batches_take_everything_queued_up_to_the_bound_in_order_and_see_oversize() {
        let rx = RtpSocket::new(UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        for i in 0..20u8 {
            tx.send_to(&[i; 12], to).unwrap();
        }
        tx.send_to(&[7u8; MAX_RTP_PACKET + 300], to).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        // The bound holds (what is left waits for the next tick) …
        let first = take(&rx, 13);
        assert_eq!(first.iter().map(|g| g.0[0]).collect::<Vec<_>>(), (0..13).collect::<Vec<u8>>());
        // … and the rest comes next, the oversize datagram truncated to one byte over the limit.
        let rest = take(&rx, 64);
        assert_eq!(rest.len(), 8);
        assert_eq!(rest[6].0[0], 19);
        assert_eq!(rest[7].0.len(), MAX_RTP_PACKET + 1);
    }

    #[test]
    fn a_stamp_from_the_future_counts_as_now() {
        let c = Clock::now();
        assert_eq!(c.instant_of(c.since_epoch + Duration::from_secs(5)), c.instant);
        assert_eq!(c.instant_of(c.since_epoch - Duration::from_millis(20)), c.instant - Duration::from_millis(20));
    }
}
