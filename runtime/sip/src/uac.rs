//! Outbound calls (UAC): INVITE to an agent's phone or a trunk, digest answers to 401/407,
//! CANCEL, and the 2xx ACK (re-sent whenever the 2xx is retransmitted).

use crate::auth;
use crate::builder;
use crate::core::{Core, token};
use crate::dialog::{Dialog, DialogId, DialogState, uri_target};
use crate::error::SipError;
use crate::message::Message;
use crate::sdp::{self, LocalMedia, Negotiated};
use crate::transaction::client::{AckTemplate, ClientEvent, ClientKey};
use crate::transport::{Peer, Transport};
use crate::uri::NameAddr;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// An outbound call request.
#[derive(Debug, Clone)]
pub struct OutboundInvite {
    /// Request-URI, e.g. `sip:8001@192.0.2.10:5060` or `sip:13800138000@trunk-ip`.
    pub target: String,
    /// Our user (From and Contact), e.g. the service number.
    pub from_user: String,
    /// Optional From display name.
    pub display_name: Option<String>,
    /// To user; defaults to the target's user.
    pub to_user: Option<String>,
    /// Our media (the offer is built from it).
    pub local_media: LocalMedia,
    /// (user, password) for 401/407 challenges from a trunk.
    pub credentials: Option<(String, String)>,
    /// Next hop instead of the target's host:port (e.g. a registered phone's NAT address,
    /// [`crate::Binding::source`]).
    pub proxy: Option<SocketAddr>,
    /// Transport to use (large INVITEs switch to TCP automatically when TCP is enabled).
    pub transport: Transport,
    /// Extra headers (e.g. P-Asserted-Identity).
    pub headers: Vec<(String, String)>,
}

impl OutboundInvite {
    /// A UDP call to `target` from `from_user` with no credentials.
    pub fn new(target: impl Into<String>, from_user: impl Into<String>, local_media: LocalMedia) -> Self {
        OutboundInvite {
            target: target.into(),
            from_user: from_user.into(),
            display_name: None,
            to_user: None,
            local_media,
            credentials: None,
            proxy: None,
            transport: Transport::Udp,
            headers: Vec::new(),
        }
    }
}

/// Progress of an outbound call.
#[derive(Debug)]
pub enum CallProgress {
    /// 100 Trying.
    Trying,
    /// 180/183; `early_media` when the provisional carried SDP.
    Ringing {
        /// Status code (180, 183 ...).
        status: u16,
        /// Media negotiated from an SDP in the provisional.
        early_media: Option<Negotiated>,
    },
    /// 2xx: the call is up.
    Answered {
        /// The established dialog.
        dialog: Dialog,
        /// Media from the answer.
        negotiated: Option<Negotiated>,
    },
    /// Final failure (or 408 on timeout, 487 after cancel).
    Failed {
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
}

/// Handle on an outbound call in progress.
pub struct OutboundCall {
    call_id: String,
    rx: mpsc::Receiver<CallProgress>,
    cancel: Option<oneshot::Sender<()>>,
}

impl OutboundCall {
    /// Call-ID.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Next progress event; `None` after the final one.
    pub async fn next(&mut self) -> Option<CallProgress> {
        self.rx.recv().await
    }

    /// Cancels the call if it is still ringing (a `Failed { status: 487 }` follows).
    pub async fn cancel(&mut self) {
        if let Some(c) = self.cancel.take() {
            let _ = c.send(());
        }
    }
}

/// Everything the call task needs to (re)build its INVITE.
struct Uac {
    core: Arc<Core>,
    inv: OutboundInvite,
    call_id: String,
    from: String,
    from_tag: String,
    to: String,
    peer: Peer,
    offer: Vec<u8>,
}

impl Uac {
    fn build(&self, cseq: u32, auth: &[(&'static str, String)]) -> (ClientKey, Vec<u8>, AckTemplate) {
        let core = &self.core;
        let branch = format!("{}{}", crate::via::MAGIC_COOKIE, token());
        let via = core.via(self.peer.transport, &branch);
        let mut headers: Vec<(&str, String)> = vec![
            ("Via", via.clone()),
            ("Max-Forwards", "70".into()),
            ("From", self.from.clone()),
            ("To", self.to.clone()),
            ("Call-ID", self.call_id.clone()),
            ("CSeq", format!("{cseq} INVITE")),
            ("Contact", core.contact(&self.inv.from_user, self.peer.transport)),
            ("User-Agent", core.cfg.user_agent.clone()),
            ("Allow", crate::core::ALLOW.into()),
        ];
        for (header, value) in auth {
            headers.push((header, value.clone()));
        }
        for (n, v) in &self.inv.headers {
            headers.push((n.as_str(), v.clone()));
        }
        headers.push(("Content-Type", "application/sdp".into()));
        let bytes = builder::request("INVITE", &self.inv.target, &headers, &self.offer);
        let ack = AckTemplate {
            uri: self.inv.target.clone(),
            headers: vec![("Via", via), ("From", self.from.clone()), ("Call-ID", self.call_id.clone())],
            cseq,
        };
        (ClientKey { branch, method: "INVITE".into() }, bytes, ack)
    }

    fn cancel_request(&self, key: &ClientKey, cseq: u32) -> Vec<u8> {
        let headers: Vec<(&str, String)> = vec![
            ("Via", self.core.via(self.peer.transport, &key.branch)),
            ("Max-Forwards", "70".into()),
            ("From", self.from.clone()),
            ("To", self.to.clone()),
            ("Call-ID", self.call_id.clone()),
            ("CSeq", format!("{cseq} CANCEL")),
            ("User-Agent", self.core.cfg.user_agent.clone()),
        ];
        builder::request("CANCEL", &self.inv.target, &headers, b"")
    }

    /// Establishes the dialog from a 2xx and sends the ACK.
    fn on_2xx(&self, resp: &Message, cseq: u32) -> (Dialog, Option<Negotiated>) {
        let core = &self.core;
        let remote_target = resp
            .header("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|n| n.uri_text)
            .unwrap_or_else(|| self.inv.target.clone());
        let mut route_set: Vec<String> = resp.headers_named("Record-Route").map(str::to_string).collect();
        route_set.reverse();
        // next hop: first loose route, else the remote target (unless a proxy was forced)
        let hop = match (self.inv.proxy, route_set.first()) {
            (Some(p), _) => Some(p),
            (None, Some(r)) => NameAddr::parse(r).ok().and_then(|n| uri_target(&n.uri_text)),
            (None, None) => uri_target(&remote_target),
        };
        let peer = Peer { transport: self.peer.transport, addr: hop.unwrap_or(self.peer.addr) };
        let negotiated = sdp::sdp_from_body(resp.header("Content-Type"), &resp.body)
            .and_then(|raw| sdp::parse(&raw).ok())
            .and_then(|sd| self.inv.local_media.accept_answer(&sd).ok());
        let remote = resp.header("To").unwrap_or_default().to_string();
        let branch = format!("{}{}", crate::via::MAGIC_COOKIE, token());
        let mut headers: Vec<(&str, String)> = vec![
            ("Via", core.via(peer.transport, &branch)),
            ("Max-Forwards", "70".into()),
            ("From", self.from.clone()),
            ("To", remote.clone()),
            ("Call-ID", self.call_id.clone()),
            ("CSeq", format!("{cseq} ACK")),
        ];
        for r in &route_set {
            headers.push(("Route", r.clone()));
        }
        let ack = Bytes::from(builder::request("ACK", &remote_target, &headers, b""));
        let (tx, rx) = mpsc::unbounded_channel();
        let id = DialogId { call_id: self.call_id.clone(), local_tag: self.from_tag.clone() };
        let state = DialogState {
            local: self.from.clone(),
            remote,
            remote_target,
            route_set,
            peer,
            local_cseq: cseq,
            remote_cseq: 0,
            local_user: self.inv.from_user.clone(),
            events: tx,
            local_media: self.inv.local_media.clone(),
            sdp_version: 1,
            current: negotiated.clone(),
            pending_2xx: None,
            epoch: 0,
            awaiting_ack_answer: false,
            ack: Some(ack.clone()),
        };
        // the dialog exists before the ACK leaves, so an immediate BYE from the peer finds it
        core.dialogs.lock().insert(id.clone(), state);
        core.ctx.transports.send(peer, ack);
        (Dialog::new(core.clone(), id, self.call_id.clone(), rx), negotiated)
    }
}

pub(crate) async fn invite(core: Arc<Core>, inv: OutboundInvite) -> Result<OutboundCall, SipError> {
    let next_hop = match inv.proxy {
        Some(p) => p,
        None => match uri_target(&inv.target) {
            Some(a) => a,
            None => resolve(&inv.target).await.ok_or_else(|| SipError::BadTarget(inv.target.clone()))?,
        },
    };
    let target_user = crate::uri::SipUri::parse(&inv.target)
        .map_err(|_| SipError::BadTarget(inv.target.clone()))?
        .user
        .unwrap_or_default();
    let call_id = format!("{}@{}", token(), core.host);
    let from_tag = token();
    let offer = sdp::to_bytes(&inv.local_media.offer(1));
    // RFC 3261 §18.1.1: estimate the request size (fixed headers are well under 700 bytes)
    let custom: usize = inv.headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    let estimate = offer.len() + 700 + custom + inv.target.len() * 2 + inv.display_name.as_ref().map_or(0, |d| d.len());
    let transport = core.ctx.transports.choose(inv.transport, estimate);
    let display = inv.display_name.as_ref().map(|d| format!("\"{}\" ", d.replace(['"', '\r', '\n'], ""))).unwrap_or_default();
    let from = format!("{display}<sip:{}@{}>;tag={from_tag}", inv.from_user, core.host);
    let to_host = crate::uri::SipUri::parse(&inv.target).map(|u| u.host).unwrap_or_default();
    let to = format!("<sip:{}@{}>", inv.to_user.clone().unwrap_or(target_user), to_host);
    let (tx, rx) = mpsc::channel(8);
    let (cancel_tx, cancel_rx) = oneshot::channel();
    let out = OutboundCall { call_id: call_id.clone(), rx, cancel: Some(cancel_tx) };
    let uac = Uac { core, inv, call_id, from, from_tag, to, peer: Peer { transport, addr: next_hop }, offer };
    tokio::spawn(run(uac, tx, cancel_rx));
    Ok(out)
}

/// Challenges answered per call at most: a proxy and the server behind it need two; a trunk that
/// keeps inventing realms must not make us re-send the INVITE forever.
const MAX_CHALLENGES: usize = 4;

/// A digest challenge we answer on every retry of the INVITE: a proxy (407) and the server
/// behind it (401) each challenge once, and the proxy wants its answer on the request that then
/// meets the server's challenge too (RFC 3261 §22.3).
struct Answer {
    /// `Authorization` or `Proxy-Authorization`.
    header: &'static str,
    /// The challenge's realm: one answer per header and realm.
    realm: String,
    /// The WWW-/Proxy-Authenticate value.
    challenge: String,
    /// Uses of its nonce so far (qop=auth's nonce count).
    nc: u32,
    /// How often this realm has challenged us.
    tries: u32,
}

impl Answer {
    /// The header for the next request: the nonce count goes up with every use.
    fn next(&mut self, target: &str, user: &str, password: &str) -> Option<(&'static str, String)> {
        self.nc += 1;
        auth::authorize_nc(&self.challenge, "INVITE", target, user, password, self.nc).map(|v| (self.header, v))
    }
}

async fn run(uac: Uac, tx: mpsc::Sender<CallProgress>, mut cancel_rx: oneshot::Receiver<()>) {
    let mut cseq: u32 = 1;
    let mut answers: Vec<Answer> = Vec::new();
    let (mut key, bytes, ack) = uac.build(cseq, &[]);
    let mut rx = uac.core.send_request(key.clone(), uac.peer, bytes, Some(ack));
    let mut cancel_wanted = false;
    // the oneshot must not be polled again once it resolved (sent, or the handle was dropped)
    let mut cancel_resolved = false;
    let mut provisional = false;
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => ev,
            c = &mut cancel_rx, if !cancel_resolved => {
                cancel_resolved = true;
                if c.is_ok() {
                    cancel_wanted = true;
                    if provisional {
                        send_cancel(&uac, &key, cseq);
                    }
                }
                continue;
            }
        };
        let Some(ev) = ev else {
            let _ = tx.send(CallProgress::Failed { status: 500, reason: "transaction ended".into() }).await;
            return;
        };
        let resp = match ev {
            ClientEvent::Timeout => {
                let _ = tx.send(CallProgress::Failed { status: 408, reason: "Request Timeout".into() }).await;
                return;
            }
            ClientEvent::Response(r) => r,
        };
        let code = resp.status().unwrap_or(0);
        let reason = match &resp.start {
            crate::message::StartLine::Response { reason, .. } => reason.clone(),
            _ => String::new(),
        };
        match code {
            100 => {
                provisional = true;
                let _ = tx.send(CallProgress::Trying).await;
            }
            101..=199 => {
                let first = !provisional;
                provisional = true;
                if cancel_wanted && first {
                    send_cancel(&uac, &key, cseq);
                }
                let early_media = sdp::sdp_from_body(resp.header("Content-Type"), &resp.body)
                    .and_then(|raw| sdp::parse(&raw).ok())
                    .and_then(|sd| uac.inv.local_media.accept_answer(&sd).ok());
                let _ = tx.send(CallProgress::Ringing { status: code, early_media }).await;
            }
            200..=299 => {
                let (dialog, negotiated) = uac.on_2xx(&resp, cseq);
                let _ = tx.send(CallProgress::Answered { dialog, negotiated }).await;
                // keep ACKing retransmitted 2xx until the transaction's Timer M ends it
                let core = uac.core.clone();
                let id = DialogId { call_id: uac.call_id.clone(), local_tag: uac.from_tag.clone() };
                while let Some(ClientEvent::Response(r)) = rx.recv().await {
                    if r.status().is_some_and(|c| (200..300).contains(&c)) {
                        let found = core.dialogs.lock().get(&id).and_then(|d| d.ack.clone().map(|a| (d.peer, a)));
                        if let Some((peer, ack)) = found {
                            core.ctx.transports.send(peer, ack);
                        }
                    }
                }
                return;
            }
            401 | 407 if !cancel_wanted => {
                let (challenge_h, answer_h) = if code == 401 {
                    ("WWW-Authenticate", "Authorization")
                } else {
                    ("Proxy-Authenticate", "Proxy-Authorization")
                };
                let Some((user, password)) = uac.inv.credentials.as_ref() else {
                    let reason = format!("{reason}: the trunk wants digest authentication and no username/password is configured");
                    let _ = tx.send(CallProgress::Failed { status: code, reason }).await;
                    return;
                };
                let Some(challenge) = resp.headers_named(challenge_h).find(|c| auth::can_answer(c)) else {
                    let reason = format!("{reason}: no digest challenge we can answer (MD5 or SHA-256)");
                    let _ = tx.send(CallProgress::Failed { status: code, reason }).await;
                    return;
                };
                let realm = auth::challenge_realm(challenge).unwrap_or_default();
                // RFC 2617 §3.2.1: the same realm challenging again after our answer means the
                // credentials were refused, unless it says stale=true (only the nonce expired).
                // Re-sending the same password would just loop, so the call fails with a reason
                // naming the cause. A new realm (the server behind a proxy) is a first challenge.
                let stale = auth::is_stale(challenge);
                let answered = answers.len();
                match answers.iter_mut().find(|a| a.header == answer_h && a.realm == realm) {
                    Some(a) if !stale || a.tries >= 2 => {
                        let reason = format!(
                            "{reason}: the trunk refused our credentials for realm \"{realm}\" (check the trunk's username and password)"
                        );
                        let _ = tx.send(CallProgress::Failed { status: code, reason }).await;
                        return;
                    }
                    Some(a) => {
                        // A fresh nonce: its count starts again.
                        (a.challenge, a.nc) = (challenge.to_string(), 0);
                        a.tries += 1;
                    }
                    None if answered >= MAX_CHALLENGES => {
                        let reason = format!("{reason}: the trunk challenged in {} realms; giving up", MAX_CHALLENGES + 1);
                        let _ = tx.send(CallProgress::Failed { status: code, reason }).await;
                        return;
                    }
                    None => answers.push(Answer { header: answer_h, realm, challenge: challenge.to_string(), nc: 0, tries: 1 }),
                }
                cseq += 1;
                provisional = false;
                let headers: Vec<(&'static str, String)> =
                    answers.iter_mut().filter_map(|a| a.next(&uac.inv.target, user, password)).collect();
                let (k, bytes, ack) = uac.build(cseq, &headers);
                key = k;
                rx = uac.core.send_request(key.clone(), uac.peer, bytes, Some(ack));
            }
            _ => {
                let _ = tx.send(CallProgress::Failed { status: code, reason }).await;
                return;
            }
        }
    }
}

/// A/AAAA lookup of the target's host (no SRV/NAPTR: trunks are configured with host:port).
pub(crate) async fn resolve(target: &str) -> Option<SocketAddr> {
    let u = crate::uri::SipUri::parse(target).ok()?;
    if u.host.is_empty() {
        return None;
    }
    let port = u.port.unwrap_or(5060);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((u.host.as_str(), port)).await.ok()?.collect();
    // our sockets are usually IPv4: prefer an A record
    addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied()
}

fn send_cancel(uac: &Uac, key: &ClientKey, cseq: u32) {
    let bytes = uac.cancel_request(key, cseq);
    let mut rx = uac.core.send_request(ClientKey { branch: key.branch.clone(), method: "CANCEL".into() }, uac.peer, bytes, None);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
}
