//! The UDP transport: one socket, one receive loop, non-blocking sends.

use super::{InboundHandler, Peer, Transport};
use crate::framing::frame_datagram;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;

/// Requested kernel buffer size (Linux caps it at net.core.rmem_max / wmem_max).
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;

/// Shared UDP socket.
#[derive(Clone)]
pub struct UdpTransport {
    socket: Arc<UdpSocket>,
}

impl UdpTransport {
    /// Binds the socket with large kernel buffers: a burst of thousands of datagrams while
    /// the receive task is descheduled must queue, not be dropped (a drop costs the caller a
    /// 500 ms retransmission).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        for size in [SOCKET_BUFFER, SOCKET_BUFFER / 4] {
            if socket.set_recv_buffer_size(size).is_ok() {
                break;
            }
        }
        let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
        socket.bind(&addr.into())?;
        socket.set_nonblocking(true)?;
        let socket = UdpSocket::from_std(socket.into())?;
        Ok(UdpTransport { socket: Arc::new(socket) })
    }

    /// Actual bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sends without awaiting; if the socket buffer is full the send finishes in a task.
    pub fn send(&self, to: SocketAddr, data: Bytes) {
        match self.socket.try_send_to(&data, to) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let s = self.socket.clone();
                tokio::spawn(async move {
                    if let Err(e) = s.send_to(&data, to).await {
                        tracing::debug!(%to, error = %e, "UDP send failed");
                    }
                });
            }
            Err(e) => tracing::debug!(%to, error = %e, "UDP send failed"),
        }
    }

    /// Receives datagrams until the socket fails, handing each framed message to `handler`.
    pub fn spawn_receiver(&self, handler: InboundHandler) -> tokio::task::JoinHandle<()> {
        let socket = self.socket.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                let (n, from) = match socket.recv_from(&mut buf).await {
                    Ok(x) => x,
                    Err(e) => {
                        // ICMP port unreachable shows up here on some systems; keep serving
                        tracing::debug!(error = %e, "UDP recv error");
                        continue;
                    }
                };
                let peer = Peer { transport: Transport::Udp, addr: from };
                match frame_datagram(&buf[..n]) {
                    Ok(Some(msg)) => handler(Ok(msg), peer),
                    Ok(None) => {}
                    Err(e) => handler(Err(e), peer),
                }
            }
        })
    }
}
