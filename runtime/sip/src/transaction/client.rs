//! Client transactions (RFC 3261 §17.1, RFC 6026 Accepted state for INVITE).
//!
//! The TU hands over a fully built request and gets a channel of [`ClientEvent`]s. Timers A/E
//! retransmit over UDP, B/F time out, and a 3xx–6xx final to an INVITE is ACKed here (the ACK
//! reuses the INVITE's branch); 2xx ACKs belong to the dialog.

use super::Ctx;
use super::timers::{TimerEvent, TimerKind, TimerTarget};
use crate::message::Message;
use crate::transport::Peer;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Identifies a client transaction: our branch and the CSeq method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    /// Branch we generated.
    pub branch: String,
    /// CSeq method.
    pub method: String,
}

/// What the TU hears from a client transaction.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// A response (provisional, final, or a retransmitted 2xx for INVITE).
    Response(Arc<Message>),
    /// Timer B/F fired without a final response.
    Timeout,
}

/// Data needed to ACK a non-2xx final response.
#[derive(Debug, Clone)]
pub struct AckTemplate {
    /// Request-URI of the INVITE.
    pub uri: String,
    /// The INVITE's Via, From, Call-ID and Route headers.
    pub headers: Vec<(&'static str, String)>,
    /// CSeq number.
    pub cseq: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
}

struct ClientTx {
    invite: bool,
    state: State,
    peer: Peer,
    request: Bytes,
    interval: Duration,
    epoch: u64,
    events: mpsc::UnboundedSender<ClientEvent>,
    ack: Option<AckTemplate>,
    ack_bytes: Option<Bytes>,
}

/// All client transactions.
#[derive(Default)]
pub struct ClientTable {
    txs: Mutex<HashMap<ClientKey, ClientTx>>,
}

impl ClientTable {
    /// Number of live transactions.
    pub fn len(&self) -> usize {
        self.txs.lock().len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends `request` and starts its timers.
    pub fn start(
        &self,
        ctx: &Ctx,
        key: ClientKey,
        peer: Peer,
        request: Bytes,
        ack: Option<AckTemplate>,
    ) -> mpsc::UnboundedReceiver<ClientEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        let invite = key.method == "INVITE";
        if !peer.transport.reliable() {
            let k = if invite { TimerKind::A } else { TimerKind::E };
            ctx.timers.schedule(ctx.t.t1, ev(&key, k, 0));
        }
        ctx.timers.schedule(ctx.t.t64(), ev(&key, if invite { TimerKind::B } else { TimerKind::F }, 0));
        // insert before sending: on loopback the first response can beat the insert otherwise
        let mut txs = self.txs.lock();
        txs.insert(
            key,
            ClientTx {
                invite,
                state: State::Calling,
                peer,
                request: request.clone(),
                interval: ctx.t.t1,
                epoch: 0,
                events: tx,
                ack,
                ack_bytes: None,
            },
        );
        drop(txs);
        ctx.transports.send(peer, request);
        rx
    }

    /// Routes a response to its transaction; false if none matched (the response is dropped).
    pub fn on_response(&self, ctx: &Ctx, key: &ClientKey, msg: Arc<Message>) -> bool {
        let mut txs = self.txs.lock();
        let Some(tx) = txs.get_mut(key) else { return false };
        let code = msg.status().unwrap_or(0);
        let reliable = tx.peer.transport.reliable();
        match (tx.state, code) {
            (State::Calling | State::Proceeding, 100..=199) => {
                tx.state = State::Proceeding;
                let _ = tx.events.send(ClientEvent::Response(msg));
            }
            (State::Calling | State::Proceeding, 200..=299) if tx.invite => {
                tx.state = State::Accepted;
                tx.epoch += 1;
                ctx.timers.schedule(ctx.t.t64(), ev(key, TimerKind::M, tx.epoch));
                let _ = tx.events.send(ClientEvent::Response(msg));
            }
            (State::Accepted, 200..=299) => {
                let _ = tx.events.send(ClientEvent::Response(msg));
            }
            (State::Calling | State::Proceeding, 200..=699) => {
                tx.state = State::Completed;
                tx.epoch += 1;
                if tx.invite {
                    if let Some(ack) = build_ack(tx.ack.as_ref(), &msg) {
                        ctx.transports.send(tx.peer, ack.clone());
                        tx.ack_bytes = Some(ack);
                    }
                    let wait = if reliable { Duration::ZERO } else { Duration::from_secs(32) };
                    ctx.timers.schedule(wait, ev(key, TimerKind::D, tx.epoch));
                } else {
                    let wait = if reliable { Duration::ZERO } else { ctx.t.t4 };
                    ctx.timers.schedule(wait, ev(key, TimerKind::K, tx.epoch));
                }
                let _ = tx.events.send(ClientEvent::Response(msg));
            }
            (State::Completed, 300..=699) if tx.invite => {
                if let Some(ack) = &tx.ack_bytes {
                    ctx.transports.send(tx.peer, ack.clone());
                }
            }
            _ => {}
        }
        true
    }

    /// Handles a fired timer.
    pub fn on_timer(&self, ctx: &Ctx, key: &ClientKey, kind: TimerKind, epoch: u64) {
        let mut txs = self.txs.lock();
        let Some(tx) = txs.get_mut(key) else { return };
        if tx.epoch != epoch {
            return;
        }
        match kind {
            TimerKind::A if tx.state == State::Calling => {
                ctx.transports.send(tx.peer, tx.request.clone());
                tx.interval *= 2;
                ctx.timers.schedule(tx.interval, ev(key, TimerKind::A, epoch));
            }
            TimerKind::E if matches!(tx.state, State::Calling | State::Proceeding) => {
                ctx.transports.send(tx.peer, tx.request.clone());
                tx.interval = if tx.state == State::Proceeding { ctx.t.t2 } else { (tx.interval * 2).min(ctx.t.t2) };
                ctx.timers.schedule(tx.interval, ev(key, TimerKind::E, epoch));
            }
            TimerKind::B | TimerKind::F if matches!(tx.state, State::Calling | State::Proceeding) => {
                if kind == TimerKind::F || tx.state == State::Calling {
                    let _ = tx.events.send(ClientEvent::Timeout);
                    txs.remove(key);
                }
            }
            TimerKind::D | TimerKind::K | TimerKind::M => {
                txs.remove(key);
            }
            _ => {}
        }
    }

    /// Forgets a transaction (e.g. the INVITE was answered and the caller is done with it).
    pub fn remove(&self, key: &ClientKey) {
        self.txs.lock().remove(key);
    }
}

fn build_ack(t: Option<&AckTemplate>, resp: &Message) -> Option<Bytes> {
    let t = t?;
    let mut headers: Vec<(&str, String)> = t.headers.iter().map(|(n, v)| (*n, v.clone())).collect();
    headers.push(("To", resp.header("To")?.to_string()));
    headers.push(("CSeq", format!("{} ACK", t.cseq)));
    headers.push(("Max-Forwards", "70".into()));
    Some(Bytes::from(crate::builder::request("ACK", &t.uri, &headers, b"")))
}

fn ev(key: &ClientKey, kind: TimerKind, epoch: u64) -> TimerEvent {
    TimerEvent { target: TimerTarget::Client(key.clone()), kind, epoch }
}
