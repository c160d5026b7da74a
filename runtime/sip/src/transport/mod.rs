//! UDP and TCP transports: where messages come from and how bytes leave.
//!
//! Sending is synchronous from the caller's point of view (UDP `try_send_to`, TCP through a
//! per-connection queue), so the transaction layer can answer inside its receive path without
//! awaiting. A request larger than [`UDP_MTU_LIMIT`] that would go over UDP is sent over TCP
//! instead (RFC 3261 §18.1.1).

pub mod tcp;
pub mod udp;

use crate::framing::FrameError;
use crate::message::Message;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;

/// RFC 3261 §18.1.1: requests within 200 bytes of a 1500-byte path MTU go over TCP.
pub const UDP_MTU_LIMIT: usize = 1300;

/// Transport protocol of a hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Datagrams.
    Udp,
    /// Stream with Content-Length framing.
    Tcp,
}

impl Transport {
    /// Via/URI token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// Unreliable transports need retransmission timers.
    pub fn reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }
}

/// The other end of a hop: transport plus socket address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Protocol.
    pub transport: Transport,
    /// Remote socket address.
    pub addr: SocketAddr,
}

/// Sees every SIP message the endpoint receives (after framing) or sends, for operations:
/// responses-by-code counters and on-demand message traces. Called inline on the hot path, so
/// implementations must be cheap and must not block.
pub trait MessageObserver: Send + Sync {
    /// A framed message received from `peer` (before rate limiting and validation).
    fn inbound(&self, msg: &Message, peer: Peer);
    /// Bytes about to be sent to `peer` (one whole message).
    fn outbound(&self, data: &[u8], peer: Peer);
}

/// Callback the transports deliver framed messages (or framing errors) to.
pub type InboundHandler = Arc<dyn Fn(Result<Message, FrameError>, Peer) + Send + Sync>;

/// Both transports behind one `send`.
pub struct Transports {
    /// The UDP socket.
    pub udp: udp::UdpTransport,
    /// The TCP listener and connections, when enabled.
    pub tcp: Option<tcp::TcpTransport>,
    /// Sees every message sent (see [`MessageObserver`]).
    pub observer: Option<Arc<dyn MessageObserver>>,
}

impl Transports {
    /// Sends `data` to `peer`; UDP sends of large requests are switched to TCP when we can.
    pub fn send(&self, peer: Peer, data: Bytes) {
        if let Some(o) = &self.observer {
            o.outbound(&data, peer);
        }
        match peer.transport {
            Transport::Udp => self.udp.send(peer.addr, data),
            Transport::Tcp => match &self.tcp {
                Some(t) => t.send(peer.addr, data),
                None => tracing::warn!(%peer.addr, "TCP disabled; dropping message"),
            },
        }
    }

    /// Chooses the transport for a new outgoing request (RFC 3261 §18.1.1 size rule).
    pub fn choose(&self, wanted: Transport, size: usize) -> Transport {
        if wanted == Transport::Udp && size > UDP_MTU_LIMIT && self.tcp.is_some() {
            Transport::Tcp
        } else {
            wanted
        }
    }
}
