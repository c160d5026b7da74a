//! Server transactions (RFC 3261 §17.2, with RFC 6026's Accepted state for INVITE).
//!
//! The table is keyed by (branch, sent-by, method) with ACK folded into INVITE so a non-2xx
//! ACK finds its transaction; branches without the magic cookie (RFC 2543 peers, RFC 4475
//! badbranch) are keyed by Call-ID, CSeq number, From tag and sent-by instead.

use super::Ctx;
use super::timers::{TimerEvent, TimerKind, TimerTarget};
use crate::message::Message;
use crate::transport::Peer;
use crate::via::{MAGIC_COOKIE, Via};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;

/// Identifies a server transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    /// Branch (or the RFC 2543 substitute).
    pub branch: String,
    /// Top Via sent-by.
    pub sent_by: String,
    /// Method, with ACK mapped to INVITE.
    pub method: String,
    /// Where the request came from: a retransmission comes from the same place, and a
    /// different source cannot absorb or cancel someone else's transaction.
    pub source: SocketAddr,
}

impl ServerKey {
    /// Key for a request with top Via `via`; `method_override` lets CANCEL look up its INVITE.
    pub fn for_request(msg: &Message, via: &Via, source: SocketAddr, method_override: Option<&str>) -> ServerKey {
        let method = method_override.or(msg.method()).unwrap_or_default();
        let method = if method == "ACK" { "INVITE" } else { method };
        let branch = match via.branch() {
            Some(b) if b.starts_with(MAGIC_COOKIE) => b.to_string(),
            _ => {
                let from_tag = msg
                    .header("From")
                    .and_then(|f| crate::uri::NameAddr::parse(f).ok())
                    .and_then(|n| n.tag().map(str::to_string))
                    .unwrap_or_default();
                let cseq = msg.cseq().map(|c| c.0).unwrap_or_default();
                format!("2543:{}:{}:{}:{}", msg.call_id().unwrap_or_default(), cseq, from_tag, via.branch().unwrap_or(""))
            }
        };
        ServerKey { branch, sent_by: via.sent_by(), method: method.to_string(), source }
    }
}

/// Server transaction states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE, no response yet.
    Trying,
    /// A provisional response was sent (INVITE starts here after 100 Trying).
    Proceeding,
    /// Final non-2xx sent (INVITE) or final sent (non-INVITE).
    Completed,
    /// INVITE: ACK received for the non-2xx.
    Confirmed,
    /// INVITE: 2xx sent; retransmitted INVITEs are absorbed (RFC 6026).
    Accepted,
}

/// One server transaction.
pub struct ServerTx {
    /// INVITE transaction?
    pub invite: bool,
    /// Current state.
    pub state: ServerState,
    /// Where responses go.
    pub peer: Peer,
    /// Last response sent (resent on retransmitted requests and Timer G).
    pub last: Option<Bytes>,
    /// Generation for stale-timer detection.
    pub epoch: u64,
    /// Current Timer G interval.
    pub interval: Duration,
    /// Set to true when a CANCEL matched this INVITE.
    pub cancelled: Option<watch::Sender<bool>>,
}

/// What to do with an incoming request after the transaction layer saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Matched {
    /// A retransmission (or a non-2xx ACK): already handled.
    Absorbed,
    /// No transaction: the TU must handle it (and create one unless it is an ACK).
    New,
}

/// All server transactions.
#[derive(Default)]
pub struct ServerTable {
    txs: Mutex<HashMap<ServerKey, ServerTx>>,
}

impl ServerTable {
    /// Number of live transactions (for tests and metrics).
    pub fn len(&self) -> usize {
        self.txs.lock().len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Matches a request against existing transactions (RFC 3261 §17.2.3).
    pub fn on_request(&self, ctx: &Ctx, key: &ServerKey, is_ack: bool) -> Matched {
        let mut txs = self.txs.lock();
        let Some(tx) = txs.get_mut(key) else { return Matched::New };
        if is_ack {
            if tx.invite && tx.state == ServerState::Completed {
                tx.state = ServerState::Confirmed;
                tx.epoch += 1;
                let wait = if tx.peer.transport.reliable() { Duration::ZERO } else { ctx.t.t4 };
                ctx.timers.schedule(wait, ev(key, TimerKind::I, tx.epoch));
                return Matched::Absorbed;
            }
            // ACK for a 2xx carries a new branch; one reaching here is a duplicate
            return if tx.state == ServerState::Accepted { Matched::New } else { Matched::Absorbed };
        }
        if let Some(last) = &tx.last {
            ctx.transports.send(tx.peer, last.clone());
        }
        Matched::Absorbed
    }

    /// Creates a transaction for a new request. INVITE transactions start in Proceeding.
    pub fn create(&self, key: ServerKey, invite: bool, peer: Peer, cancelled: Option<watch::Sender<bool>>) {
        let state = if invite { ServerState::Proceeding } else { ServerState::Trying };
        self.txs.lock().insert(
            key,
            ServerTx { invite, state, peer, last: None, epoch: 0, interval: Duration::ZERO, cancelled },
        );
    }

    /// Sends a response within the transaction and advances its state. Returns false if the
    /// transaction no longer exists (e.g. already answered or timed out).
    pub fn respond(&self, ctx: &Ctx, key: &ServerKey, code: u16, bytes: Bytes) -> bool {
        let mut txs = self.txs.lock();
        let Some(tx) = txs.get_mut(key) else { return false };
        if matches!(tx.state, ServerState::Completed | ServerState::Confirmed | ServerState::Accepted) {
            return false;
        }
        ctx.transports.send(tx.peer, bytes.clone());
        tx.last = Some(bytes);
        let reliable = tx.peer.transport.reliable();
        if code < 200 {
            tx.state = ServerState::Proceeding;
            return true;
        }
        tx.epoch += 1;
        let epoch = tx.epoch;
        if tx.invite {
            if code < 300 {
                tx.state = ServerState::Accepted;
                ctx.timers.schedule(ctx.t.t64(), ev(key, TimerKind::L, epoch));
            } else {
                tx.state = ServerState::Completed;
                if !reliable {
                    tx.interval = ctx.t.t1;
                    ctx.timers.schedule(ctx.t.t1, ev(key, TimerKind::G, epoch));
                }
                ctx.timers.schedule(ctx.t.t64(), ev(key, TimerKind::H, epoch));
            }
        } else {
            tx.state = ServerState::Completed;
            if reliable {
                txs.remove(key);
            } else {
                ctx.timers.schedule(ctx.t.t64(), ev(key, TimerKind::J, epoch));
            }
        }
        true
    }

    /// Marks a pending INVITE as cancelled; returns false when there is none to cancel
    /// (no transaction, or a final response was already sent).
    pub fn cancel(&self, key: &ServerKey) -> bool {
        let txs = self.txs.lock();
        match txs.get(key) {
            Some(tx) if tx.invite && tx.state == ServerState::Proceeding => {
                if let Some(c) = &tx.cancelled {
                    let _ = c.send(true);
                }
                true
            }
            _ => false,
        }
    }

    /// Whether an INVITE transaction is still waiting for a final response.
    pub fn is_pending(&self, key: &ServerKey) -> bool {
        matches!(self.txs.lock().get(key), Some(tx) if tx.state == ServerState::Proceeding)
    }

    /// Handles a fired timer. Returns true when Timer H expired (no ACK for our non-2xx).
    pub fn on_timer(&self, ctx: &Ctx, key: &ServerKey, kind: TimerKind, epoch: u64) {
        let mut txs = self.txs.lock();
        let Some(tx) = txs.get_mut(key) else { return };
        if tx.epoch != epoch {
            return;
        }
        match kind {
            TimerKind::G if tx.state == ServerState::Completed => {
                if let Some(last) = &tx.last {
                    ctx.transports.send(tx.peer, last.clone());
                }
                tx.interval = (tx.interval * 2).min(ctx.t.t2);
                ctx.timers.schedule(tx.interval, ev(key, TimerKind::G, epoch));
            }
            TimerKind::H | TimerKind::I | TimerKind::J | TimerKind::L => {
                if kind == TimerKind::H {
                    tracing::debug!(branch = %key.branch, "Timer H: no ACK for final response");
                }
                txs.remove(key);
            }
            _ => {}
        }
    }
}

fn ev(key: &ServerKey, kind: TimerKind, epoch: u64) -> TimerEvent {
    TimerEvent { target: TimerTarget::Server(key.clone()), kind, epoch }
}
