//! The UDP transport: one socket, one receive loop, non-blocking sends.

use super::{InboundHandler, Peer, Transport};
use crate::framing::frame_datagram;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;

/// Shared UDP socket.
#[derive(Clone)]
pub struct UdpTransport {
    socket: Arc<UdpSocket>,
}

impl UdpTransport {
    /// Binds the socket.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(addr).await?;
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
