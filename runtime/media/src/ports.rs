//! RTP port allocation: each call leg binds an even UDP port from the operator's range, so
//! firewalls can be opened for exactly that range and RTCP's odd neighbour stays free.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;

use parking_lot::Mutex;
use std::net::UdpSocket;

use crate::MediaError;

/// Hands out bound RTP sockets on even ports of a range, round robin, skipping ports in use.
#[derive(Clone, Debug)]
pub struct PortAllocator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ip: IpAddr,
    /// `None` = let the OS choose (tests, or deployments without a firewall range).
    range: Option<(u16, u16)>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next: u16,
    in_use: HashSet<u16>,
}

impl PortAllocator {
    /// Allocator over the even ports of `range` on `ip`.
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Self {
        let lo = (*range.start()).max(2);
        let lo = lo + (lo % 2);
        let hi = *range.end();
        Self {
            inner: Arc::new(Inner {
                ip,
                range: Some((lo, hi)),
                state: Mutex::new(State { next: lo, in_use: HashSet::new() }),
            }),
        }
    }

    /// Allocator that lets the OS pick any free even port (port 0): for tests (runtimes running
    /// side by side must not reuse each other's recent ports, or a previous caller still sending
    /// to a port latches the next call) and deployments without a firewall range.
    pub fn any(ip: IpAddr) -> Self {
        Self { inner: Arc::new(Inner { ip, range: None, state: Mutex::new(State { next: 0, in_use: HashSet::new() }) }) }
    }

    /// The address sessions bind to.
    pub fn ip(&self) -> IpAddr {
        self.inner.ip
    }

    /// How many ports are currently held by sessions.
    pub fn in_use(&self) -> usize {
        self.inner.state.lock().in_use.len()
    }

    /// Binds a UDP socket on the next free even port; the port stays reserved until released.
    pub(crate) fn bind(&self) -> Result<(UdpSocket, PortLease), MediaError> {
        let Some((lo, hi)) = self.inner.range else {
            return self.bind_any_even();
        };
        if lo > hi {
            return Err(MediaError::PortsExhausted { lo, hi });
        }
        let slots = ((hi - lo) / 2 + 1) as usize;
        let mut st = self.inner.state.lock();
        for _ in 0..slots {
            let port = st.next;
            st.next = if port >= hi.saturating_sub(1) || port.checked_add(2).is_none_or(|p| p > hi) { lo } else { port + 2 };
            if st.in_use.contains(&port) {
                continue;
            }
            match std::net::UdpSocket::bind(SocketAddr::new(self.inner.ip, port)) {
                Ok(sock) => {
                    st.in_use.insert(port);
                    drop(st);
                    let lease = PortLease { alloc: Some(self.clone()), port };
                    return Ok((sock, lease));
                }
                // Taken by another process: try the next one.
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(MediaError::Bind(e)),
            }
        }
        Err(MediaError::PortsExhausted { lo, hi })
    }

    /// An even port the OS chooses: odd ones it hands out are held until an even one comes
    /// (so it does not hand the same odd port back), then let go.
    fn bind_any_even(&self) -> Result<(UdpSocket, PortLease), MediaError> {
        let mut odd = Vec::new();
        for _ in 0..64 {
            let sock = std::net::UdpSocket::bind(SocketAddr::new(self.inner.ip, 0)).map_err(MediaError::Bind)?;
            let port = sock.local_addr().map_err(MediaError::Bind)?.port();
            if port % 2 == 0 {
                return Ok((sock, PortLease { alloc: None, port }));
            }
            odd.push(sock);
        }
        // Not one even port in 64 tries: take what the OS gives rather than fail a call.
        let sock = odd.pop().expect("64 sockets bound");
        let port = sock.local_addr().map_err(MediaError::Bind)?.port();
        Ok((sock, PortLease { alloc: None, port }))
    }

    fn release(&self, port: u16) {
        self.inner.state.lock().in_use.remove(&port);
    }
}

/// A reserved port; returned to the allocator when dropped (when the session ends).
#[derive(Debug)]
pub(crate) struct PortLease {
    alloc: Option<PortAllocator>,
    port: u16,
}

impl Drop for PortLease {
    fn drop(&mut self) {
        if let Some(a) = &self.alloc {
            a.release(self.port);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[tokio::test]
    async fn hands_out_even_ports_skips_taken_and_reuses_released() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        // A range of its own so parallel tests do not collide.
        let blocker = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 31102)).unwrap();
        let a = PortAllocator::new(ip, 31100..=31107);
        let (s1, l1) = a.bind().unwrap();
        let (s2, l2) = a.bind().unwrap();
        let (s3, l3) = a.bind().unwrap();
        let ports: Vec<u16> = [&s1, &s2, &s3].iter().map(|s| s.local_addr().unwrap().port()).collect();
        assert_eq!(ports, vec![31100, 31104, 31106], "even ports, the one taken by another socket skipped");
        assert_eq!(a.in_use(), 3);
        // All four even slots are used (one by the blocker): exhausted.
        assert!(matches!(a.bind(), Err(MediaError::PortsExhausted { .. })));
        drop((s2, l2));
        assert_eq!(a.in_use(), 2);
        let (s4, _l4) = a.bind().unwrap();
        assert_eq!(s4.local_addr().unwrap().port(), 31104);
        drop((s1, l1, s3, l3, blocker));
    }
}
