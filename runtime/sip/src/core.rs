//! The dispatcher between transports, transactions, dialogs, registrar and the runtime.
//! Everything here runs synchronously on the receive path: a request is validated, matched
//! to a transaction or dialog, and answered (or queued to the runtime) without awaiting.

use crate::auth::{self, CredentialStore, NonceSource, Verdict};
use crate::builder;
use crate::call::IncomingCall;
use crate::dialog::{DialogId, DialogState};
use crate::endpoint::SipConfig;
use crate::framing::FrameError;
use crate::message::Message;
use crate::policy::CallerVerdict;
use crate::ratelimit::{Admission, RateLimiter};
use crate::registrar::Registrar;
use crate::sdp;
use crate::transaction::Ctx;
use crate::transaction::client::{AckTemplate, ClientEvent, ClientKey, ClientTable};
use crate::transaction::server::{Matched, ServerKey, ServerTable};
use crate::transaction::timers::{TimerEvent, TimerKind, TimerTarget};
use crate::transport::{Peer, Transport};
use crate::validate::{self, Rejection, Request};
use crate::via::Via;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, watch};

/// Methods we answer (Allow header).
pub(crate) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER, REFER";

/// A pending inbound INVITE (until its final response), for CANCEL.
pub(crate) struct PendingInvite {
    pub req: Arc<Request>,
    pub to_tag: String,
}

/// Shared state of one endpoint.
pub(crate) struct Core {
    pub cfg: SipConfig,
    pub ctx: Ctx,
    pub servers: ServerTable,
    pub clients: ClientTable,
    pub dialogs: Mutex<HashMap<DialogId, DialogState>>,
    pub invites: Mutex<HashMap<ServerKey, PendingInvite>>,
    pub registrar: Registrar,
    pub limiter: RateLimiter,
    pub nonces: NonceSource,
    pub creds: Arc<dyn CredentialStore>,
    pub incoming: mpsc::Sender<IncomingCall>,
    /// Host written into Via and Contact.
    pub host: String,
    pub udp_port: u16,
    pub tcp_port: Option<u16>,
    pub tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// A random token for tags, branches and Call-IDs.
pub(crate) fn token() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

impl Core {
    /// Port we listen on for `t`.
    pub fn port_for(&self, t: Transport) -> u16 {
        match t {
            Transport::Udp => self.udp_port,
            Transport::Tcp => self.tcp_port.unwrap_or(self.udp_port),
        }
    }

    /// Our Via value for a new request over `t`.
    pub fn via(&self, t: Transport, branch: &str) -> String {
        format!("SIP/2.0/{} {}:{};branch={branch};rport", t.as_str(), self.host, self.port_for(t))
    }

    /// Our Contact URI for `user` over `t`.
    pub fn contact(&self, user: &str, t: Transport) -> String {
        let tp = if t == Transport::Tcp { ";transport=tcp" } else { "" };
        format!("<sip:{user}@{}:{}{tp}>", self.host, self.port_for(t))
    }

    // ----- inbound ---------------------------------------------------------------------

    pub fn on_inbound(self: &Arc<Self>, result: Result<Message, FrameError>, peer: Peer) {
        if self.limiter.is_banned(peer.addr.ip(), Instant::now()) {
            return;
        }
        match validate::inbound(result) {
            validate::Inbound::Response(msg, via) => self.on_response(*msg, via),
            validate::Inbound::Request(req) => self.on_request(*req, peer),
            validate::Inbound::Reject(Rejection::Respond { code, reason, headers, msg, mut via }) => {
                if self.limiter.admit(peer.addr.ip(), Instant::now()) == Admission::Banned {
                    return;
                }
                via.stamp_source(peer.addr);
                tracing::debug!(%peer.addr, code, %reason, "rejecting request");
                self.stateless(&msg, &via, peer, code, &reason, &headers);
            }
            validate::Inbound::Reject(Rejection::Drop(reason)) | validate::Inbound::Drop(reason) => {
                tracing::debug!(%peer.addr, %reason, "dropping message");
            }
        }
    }

    fn on_response(self: &Arc<Self>, msg: Message, via: Via) {
        let (Some(branch), Some((_, method))) = (via.branch(), msg.cseq()) else { return };
        let key = ClientKey { branch: branch.to_string(), method: method.to_string() };
        if !self.clients.on_response(&self.ctx, &key, Arc::new(msg)) {
            tracing::trace!(branch = %key.branch, "response matches no transaction; dropped");
        }
    }

    fn stateless(&self, msg: &Message, via: &Via, peer: Peer, code: u16, reason: &str, headers: &[(&str, String)]) {
        let out = builder::response(msg, via, code, reason, Some(&token()), headers, b"");
        self.ctx.transports.send(peer, Bytes::from(out));
    }

    fn on_request(self: &Arc<Self>, mut req: Request, peer: Peer) {
        if req.method != "ACK" && req.to.tag().is_none() && self.limiter.admit(peer.addr.ip(), Instant::now()) == Admission::Banned {
            return;
        }
        req.via.stamp_source(peer.addr);
        let key = ServerKey::for_request(&req.msg, &req.via, peer.addr, None);
        let is_ack = req.method == "ACK";
        if self.servers.on_request(&self.ctx, &key, is_ack) == Matched::Absorbed {
            return;
        }
        let req = Arc::new(req);
        if is_ack {
            crate::dialog::on_ack(self, &req);
            return;
        }
        if req.method == "CANCEL" {
            self.on_cancel(&req, key, peer);
            return;
        }
        if req.to.tag().is_some() {
            crate::dialog::on_in_dialog(self, req, key, peer);
            return;
        }
        match req.method.as_str() {
            "INVITE" => self.on_invite(req, key, peer),
            "REGISTER" => self.on_register(&req, key, peer),
            "OPTIONS" => {
                let hs = [("Allow", ALLOW.to_string()), ("Accept", "application/sdp".into()), ("Supported", "".into())];
                let hs: Vec<_> = hs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
                self.respond_new(&req, key, peer, 200, "OK", &hs, b"");
            }
            "BYE" | "INFO" | "UPDATE" | "PRACK" => {
                self.respond_new(&req, key, peer, 481, "Call/Transaction Does Not Exist", &[], b"")
            }
            "SUBSCRIBE" | "NOTIFY" | "MESSAGE" | "PUBLISH" | "REFER" => {
                self.respond_new(&req, key, peer, 405, "Method Not Allowed", &[("Allow", ALLOW.into())], b"")
            }
            _ => self.respond_new(&req, key, peer, 501, "Not Implemented", &[("Allow", ALLOW.into())], b""),
        }
    }

    /// Creates a non-INVITE (or INVITE) server transaction and answers it in one go.
    pub fn respond_new(&self, req: &Request, key: ServerKey, peer: Peer, code: u16, reason: &str, headers: &[(&str, String)], body: &[u8]) {
        self.servers.create(key.clone(), req.method == "INVITE", peer, None);
        let out = builder::response(&req.msg, &req.via, code, reason, Some(&token()), &self.with_server(headers), body);
        self.servers.respond(&self.ctx, &key, code, Bytes::from(out));
    }

    pub fn with_server<'a>(&self, headers: &[(&'a str, String)]) -> Vec<(&'a str, String)> {
        let mut v = headers.to_vec();
        v.push(("Server", self.cfg.user_agent.clone()));
        v
    }

    fn on_cancel(&self, req: &Request, key: ServerKey, peer: Peer) {
        let invite_key = ServerKey::for_request(&req.msg, &req.via, peer.addr, Some("INVITE"));
        let pending = self.invites.lock().remove(&invite_key);
        match pending {
            Some(p) if self.servers.cancel(&invite_key) => {
                self.respond_new(req, key, peer, 200, "OK", &[], b"");
                let out = builder::response(&p.req.msg, &p.req.via, 487, "Request Terminated", Some(&p.to_tag), &self.with_server(&[]), b"");
                self.servers.respond(&self.ctx, &invite_key, 487, Bytes::from(out));
            }
            other => {
                if let Some(p) = other {
                    self.invites.lock().insert(invite_key, p);
                }
                self.respond_new(req, key, peer, 481, "Call/Transaction Does Not Exist", &[], b"");
            }
        }
    }

    fn challenge_headers(&self, header: &'static str, stale: bool) -> Vec<(&'static str, String)> {
        self.cfg
            .registrar
            .algorithms
            .iter()
            .map(|alg| (header, self.nonces.challenge(&self.cfg.realm, *alg, stale)))
            .collect()
    }

    fn on_invite(self: &Arc<Self>, req: Arc<Request>, key: ServerKey, peer: Peer) {
        let from_user = req.from.user().unwrap_or_default();
        match self.cfg.caller_policy.classify(peer.addr, &from_user) {
            CallerVerdict::Allow => {}
            CallerVerdict::Drop => return,
            CallerVerdict::Reject(code, reason) => return self.respond_new(&req, key, peer, code, &reason, &[], b""),
            CallerVerdict::Challenge => {
                let v = auth::verify(
                    req.msg.header("Proxy-Authorization"),
                    "INVITE",
                    &self.cfg.realm,
                    &self.cfg.registrar.algorithms,
                    &self.nonces,
                    self.creds.as_ref(),
                );
                match v {
                    Verdict::Ok(_) => {}
                    Verdict::Missing | Verdict::Stale => {
                        let hs = self.challenge_headers("Proxy-Authenticate", v == Verdict::Stale);
                        return self.respond_new(&req, key, peer, 407, "Proxy Authentication Required", &hs, b"");
                    }
                    Verdict::Failed => {
                        self.limiter.auth_failed(peer.addr.ip(), Instant::now());
                        return self.respond_new(&req, key, peer, 403, "Forbidden", &[], b"");
                    }
                }
            }
        }
        let (cancel_tx, cancel_rx) = watch::channel(false);
        self.servers.create(key.clone(), true, peer, Some(cancel_tx));
        let trying = builder::response(&req.msg, &req.via, 100, "Trying", None, &[], b"");
        self.servers.respond(&self.ctx, &key, 100, Bytes::from(trying));
        let to_tag = token();
        let remote_sdp = if req.msg.body.is_empty() {
            None
        } else {
            let raw = sdp::sdp_from_body(req.msg.header("Content-Type"), &req.msg.body);
            match raw.as_deref().map(sdp::parse) {
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    let reason = format!("Not Acceptable Here ({e})");
                    let out = builder::response(&req.msg, &req.via, 488, &reason, Some(&to_tag), &self.with_server(&[]), b"");
                    self.servers.respond(&self.ctx, &key, 488, Bytes::from(out));
                    return;
                }
                None => None,
            }
        };
        self.invites.lock().insert(key.clone(), PendingInvite { req: req.clone(), to_tag: to_tag.clone() });
        let call = IncomingCall::new(self.clone(), req.clone(), key.clone(), peer, to_tag, remote_sdp, cancel_rx);
        if let Err(e) = self.incoming.try_send(call) {
            // the runtime is not keeping up (or gone): tell the caller to retry elsewhere
            let call = match e {
                mpsc::error::TrySendError::Full(c) | mpsc::error::TrySendError::Closed(c) => c,
            };
            call.reject_now(503, "Service Unavailable");
        }
    }

    fn on_register(&self, req: &Request, key: ServerKey, peer: Peer) {
        let v = auth::verify(
            req.msg.header("Authorization"),
            "REGISTER",
            &self.cfg.realm,
            &self.cfg.registrar.algorithms,
            &self.nonces,
            self.creds.as_ref(),
        );
        match v {
            Verdict::Missing | Verdict::Stale => {
                let hs = self.challenge_headers("WWW-Authenticate", v == Verdict::Stale);
                self.respond_new(req, key, peer, 401, "Unauthorized", &hs, b"");
            }
            Verdict::Ok(user) if req.to.user().as_deref() == Some(user.as_str()) => {
                let out = self.registrar.register(&user, &req.msg, peer, Instant::now());
                self.respond_new(req, key, peer, out.code, &out.reason, &out.headers, b"");
            }
            Verdict::Ok(_) | Verdict::Failed => {
                self.limiter.auth_failed(peer.addr.ip(), Instant::now());
                self.respond_new(req, key, peer, 403, "Forbidden", &[], b"");
            }
        }
    }

    // ----- outbound --------------------------------------------------------------------

    /// Starts a client transaction for a request we built.
    pub fn send_request(&self, key: ClientKey, peer: Peer, bytes: Vec<u8>, ack: Option<AckTemplate>) -> mpsc::UnboundedReceiver<ClientEvent> {
        self.clients.start(&self.ctx, key, peer, Bytes::from(bytes), ack)
    }

    // ----- timers ----------------------------------------------------------------------

    pub fn on_timer(self: &Arc<Self>, ev: TimerEvent) {
        match &ev.target {
            TimerTarget::Server(k) => {
                self.servers.on_timer(&self.ctx, k, ev.kind, ev.epoch);
                if matches!(ev.kind, TimerKind::H | TimerKind::L) {
                    self.invites.lock().remove(k);
                }
            }
            TimerTarget::Client(k) => self.clients.on_timer(&self.ctx, k, ev.kind, ev.epoch),
            TimerTarget::Dialog(id) => crate::dialog::on_timer(self, id, ev.kind, ev.epoch),
        }
    }
}
