//! The TCP transport: accepted and outgoing connections, each with a reader task that frames
//! by Content-Length and a writer queue. Responses go back on the connection the request came
//! in on (keyed by the remote address).

use super::{InboundHandler, Peer, Transport};
use crate::framing::StreamDecoder;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Connections silent for this long are closed.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

type Conns = Arc<Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Bytes>>>>;

/// TCP listener plus the table of live connections.
#[derive(Clone)]
pub struct TcpTransport {
    local: SocketAddr,
    conns: Conns,
    handler: Arc<Mutex<Option<InboundHandler>>>,
}

impl TcpTransport {
    /// Binds the listener; call [`TcpTransport::start`] once the handler exists.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<(Self, TcpListener)> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        Ok((
            TcpTransport { local, conns: Arc::default(), handler: Arc::default() },
            listener,
        ))
    }

    /// Bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Starts accepting connections.
    pub fn start(&self, listener: TcpListener, handler: InboundHandler) -> tokio::task::JoinHandle<()> {
        *self.handler.lock() = Some(handler);
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, from)) => {
                        let _ = stream.set_nodelay(true);
                        this.run_connection(stream, from);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "TCP accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        })
    }

    fn run_connection(&self, stream: TcpStream, remote: SocketAddr) {
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
        self.conns.lock().insert(remote, tx);
        tokio::spawn(async move {
            while let Some(b) = rx.recv().await {
                if wr.write_all(&b).await.is_err() {
                    break;
                }
            }
        });
        let conns = self.conns.clone();
        let handler = self.handler.lock().clone();
        tokio::spawn(async move {
            let mut dec = StreamDecoder::new();
            let mut buf = vec![0u8; 16384];
            let peer = Peer { transport: Transport::Tcp, addr: remote };
            'conn: loop {
                // an idle connection (no keep-alive, no traffic) is closed so scanners cannot
                // pile up sockets; phones send CRLF keep-alives or re-REGISTER well within this
                let n = match tokio::time::timeout(IDLE_TIMEOUT, rd.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                    Ok(Ok(n)) => n,
                };
                dec.push(&buf[..n]);
                loop {
                    match dec.next_message() {
                        Ok(Some(m)) => {
                            if let Some(h) = &handler {
                                h(Ok(m), peer)
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let fatal = e.fatal;
                            if let Some(h) = &handler {
                                h(Err(e), peer)
                            }
                            if fatal {
                                break 'conn;
                            }
                        }
                    }
                }
            }
            // give a final response a moment to flush before the writer is dropped
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            conns.lock().remove(&remote);
        });
    }

    /// Queues `data` for `to`, connecting first if there is no connection yet.
    pub fn send(&self, to: SocketAddr, data: Bytes) {
        if let Some(tx) = self.conns.lock().get(&to)
            && tx.send(data.clone()).is_ok() {
                return;
            }
        let this = self.clone();
        tokio::spawn(async move {
            match TcpStream::connect(to).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    this.run_connection(stream, to);
                    if let Some(tx) = this.conns.lock().get(&to) {
                        let _ = tx.send(data);
                    }
                }
                Err(e) => tracing::debug!(%to, error = %e, "TCP connect failed"),
            }
        });
    }
}
