//! The façade: bind the transports, receive [`IncomingCall`]s, place outbound calls, look up
//! registered agents. See README.md for a complete wiring example.

use crate::auth::{CredentialStore, NonceSource};
use crate::call::IncomingCall;
use crate::core::Core;
use crate::error::SipError;
use crate::policy::{AllowList, CallerPolicy};
use crate::ratelimit::{RateLimitConfig, RateLimiter};
use crate::registrar::{Registrar, RegistrarConfig};
use crate::transaction::Ctx;
use crate::transaction::client::ClientTable;
use crate::transaction::server::ServerTable;
use crate::transaction::timers::{TimerConfig, TimerQueue};
use crate::transport::tcp::TcpTransport;
use crate::transport::udp::UdpTransport;
use crate::transport::{InboundHandler, MessageObserver, Transports};
use crate::uac::{OutboundCall, OutboundInvite};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Endpoint configuration. `Default` listens on 0.0.0.0:5060 (UDP and TCP).
#[derive(Clone)]
pub struct SipConfig {
    /// UDP listen address (port 0 = any free port).
    pub udp: SocketAddr,
    /// TCP listen address; port 0 means "the UDP port if free, else any". `None` disables TCP.
    pub tcp: Option<SocketAddr>,
    /// Host written into Via and Contact; `None` = the bound IP (127.0.0.1 if unspecified).
    pub public_host: Option<String>,
    /// Digest realm for REGISTER and INVITE challenges.
    pub realm: String,
    /// User-Agent / Server header value.
    pub user_agent: String,
    /// T1/T2/T4.
    pub timers: TimerConfig,
    /// Registrar settings (expiry limits, digest algorithms).
    pub registrar: RegistrarConfig,
    /// Flood and brute-force limits.
    pub rate_limit: RateLimitConfig,
    /// Who may place inbound calls.
    pub caller_policy: Arc<dyn CallerPolicy>,
    /// Incoming calls queued for the runtime before new ones get 503.
    pub incoming_queue: usize,
    /// Sees every message received and sent (metrics, on-demand SIP traces); none by default.
    pub observer: Option<Arc<dyn MessageObserver>>,
}

impl std::fmt::Debug for SipConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipConfig").field("udp", &self.udp).field("tcp", &self.tcp).field("realm", &self.realm).finish()
    }
}

impl Default for SipConfig {
    fn default() -> Self {
        let any: SocketAddr = SocketAddr::new(IpAddr::from([0, 0, 0, 0]), 5060);
        SipConfig {
            udp: any,
            tcp: Some(any),
            public_host: None,
            realm: "courtyard".into(),
            user_agent: "Courtyard".into(),
            timers: TimerConfig::default(),
            registrar: RegistrarConfig::default(),
            rate_limit: RateLimitConfig::default(),
            caller_policy: Arc::new(AllowList::default()),
            incoming_queue: 4096,
            observer: None,
        }
    }
}

/// A running SIP endpoint (UAS, UAC and registrar). Cheap to clone.
#[derive(Clone)]
pub struct Endpoint {
    core: Arc<Core>,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SipError {
    let what = what.into();
    move |source| SipError::Io { what, source }
}

impl Endpoint {
    /// Binds UDP (and TCP) and starts serving. Returns the endpoint and the queue of new
    /// inbound calls. `credentials` authenticate REGISTER and challenged INVITEs.
    pub async fn bind(cfg: SipConfig, credentials: Arc<dyn CredentialStore>) -> Result<(Endpoint, mpsc::Receiver<IncomingCall>), SipError> {
        let udp = UdpTransport::bind(cfg.udp).await.map_err(io(format!("UDP {}", cfg.udp)))?;
        let udp_addr = udp.local_addr().map_err(io("UDP local_addr"))?;
        let tcp = match cfg.tcp {
            None => None,
            Some(addr) => {
                let same = SocketAddr::new(addr.ip(), udp_addr.port());
                let bound = if addr.port() == 0 {
                    match TcpTransport::bind(same).await {
                        Ok(t) => t,
                        Err(_) => TcpTransport::bind(addr).await.map_err(io(format!("TCP {addr}")))?,
                    }
                } else {
                    TcpTransport::bind(addr).await.map_err(io(format!("TCP {addr}")))?
                };
                Some(bound)
            }
        };
        let host = cfg.public_host.clone().unwrap_or_else(|| {
            if udp_addr.ip().is_unspecified() {
                tracing::warn!("SIP bound to an unspecified address and no public_host set: advertising 127.0.0.1");
                "127.0.0.1".into()
            } else if udp_addr.is_ipv6() {
                format!("[{}]", udp_addr.ip())
            } else {
                udp_addr.ip().to_string()
            }
        });
        let (incoming_tx, incoming_rx) = mpsc::channel(cfg.incoming_queue.max(1));
        let tcp_port = tcp.as_ref().map(|(t, _)| t.local_addr().port());
        let observer = cfg.observer.clone();
        let transports = Transports { udp: udp.clone(), tcp: tcp.as_ref().map(|(t, _)| t.clone()), observer: observer.clone() };
        let core = Arc::new_cyclic(|weak: &Weak<Core>| {
            let w = weak.clone();
            let timers = TimerQueue::start(Arc::new(move |ev| {
                if let Some(c) = w.upgrade() {
                    c.on_timer(ev)
                }
            }));
            Core {
                ctx: Ctx { transports, timers, t: cfg.timers },
                servers: ServerTable::default(),
                clients: ClientTable::default(),
                dialogs: Default::default(),
                invites: Default::default(),
                registrar: Registrar::new(cfg.registrar.clone()),
                limiter: RateLimiter::new(cfg.rate_limit.clone()),
                nonces: NonceSource::new(cfg.registrar.nonce_lifetime),
                creds: credentials,
                incoming: incoming_tx,
                host,
                udp_port: udp_addr.port(),
                tcp_port,
                tasks: Default::default(),
                cfg,
            }
        });
        let weak = Arc::downgrade(&core);
        let handler: InboundHandler = Arc::new(move |msg, peer| {
            if let (Some(o), Ok(m)) = (&observer, &msg) {
                o.inbound(m, peer);
            }
            if let Some(c) = weak.upgrade() {
                c.on_inbound(msg, peer)
            }
        });
        let mut tasks = vec![udp.spawn_receiver(handler.clone())];
        if let Some((t, listener)) = tcp {
            tasks.push(t.start(listener, handler));
        }
        let weak = Arc::downgrade(&core);
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match weak.upgrade() {
                    Some(c) => c.registrar.sweep(Instant::now()),
                    None => break,
                }
            }
        }));
        core.tasks.lock().extend(tasks);
        tracing::info!(udp = %udp_addr, tcp = ?tcp_port, "SIP endpoint listening");
        Ok((Endpoint { core }, incoming_rx))
    }

    /// Bound UDP address (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::new(self.core.cfg.udp.ip(), self.core.udp_port)
    }

    /// Bound TCP address, if TCP is enabled.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        let ip = self.core.cfg.tcp.map(|a| a.ip())?;
        Some(SocketAddr::new(ip, self.core.tcp_port?))
    }

    /// The registrar (agent phone locations and their events).
    pub fn registrar(&self) -> &Registrar {
        &self.core.registrar
    }

    /// Places an outbound call; progress arrives on the returned handle.
    pub async fn invite(&self, inv: OutboundInvite) -> Result<OutboundCall, SipError> {
        crate::uac::invite(self.core.clone(), inv).await
    }

    /// Sends an OPTIONS keep-alive to `target` (`sip:host:port`); `Ok(None)` when no final
    /// response came within `within` (trunk health checks).
    pub async fn options_probe(&self, target: &str, within: Duration) -> Result<Option<crate::probe::ProbeReply>, SipError> {
        crate::probe::options(self.core.clone(), target, within).await
    }

    /// Number of live dialogs (calls up).
    pub fn active_dialogs(&self) -> usize {
        self.core.dialogs.lock().len()
    }

    /// Number of live server and client transactions (for metrics and leak checks).
    pub fn active_transactions(&self) -> (usize, usize) {
        (self.core.servers.len(), self.core.clients.len())
    }

    /// Stops the receive loops; existing handles see their dialogs end.
    pub fn shutdown(&self) {
        for t in self.core.tasks.lock().drain(..) {
            t.abort();
        }
    }
}
