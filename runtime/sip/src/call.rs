//! [`IncomingCall`]: a new inbound INVITE, waiting for the runtime to ring, answer or reject it.

use crate::builder;
use crate::core::{ALLOW, Core};
use crate::dialog::{Dialog, DialogState};
use crate::error::SipError;
use crate::sdp::{self, LocalMedia, Negotiated, SessionDescription};
use crate::transaction::server::ServerKey;
use crate::transport::Peer;
use crate::validate::Request;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;

/// An inbound call before answer: the INVITE server transaction plus its early dialog.
/// Dropping it without a final response answers 480 Temporarily Unavailable.
pub struct IncomingCall {
    core: Arc<Core>,
    req: Arc<Request>,
    key: ServerKey,
    peer: Peer,
    to_tag: String,
    remote_sdp: Option<SessionDescription>,
    cancelled: watch::Receiver<bool>,
    finished: AtomicBool,
}

impl std::fmt::Debug for IncomingCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingCall").field("call_id", &self.req.call_id).field("source", &self.peer.addr).finish()
    }
}

impl IncomingCall {
    pub(crate) fn new(
        core: Arc<Core>,
        req: Arc<Request>,
        key: ServerKey,
        peer: Peer,
        to_tag: String,
        remote_sdp: Option<SessionDescription>,
        cancelled: watch::Receiver<bool>,
    ) -> Self {
        IncomingCall { core, req, key, peer, to_tag, remote_sdp, cancelled, finished: AtomicBool::new(false) }
    }

    /// User part of the Request-URI: the number the caller dialled (routing key).
    pub fn request_user(&self) -> String {
        self.req.uri.user_decoded().unwrap_or_default()
    }

    /// User part of the From URI: the caller's number.
    pub fn from_user(&self) -> String {
        self.req.from.user().unwrap_or_default()
    }

    /// Display name from the From header, if any.
    pub fn from_display(&self) -> Option<&str> {
        self.req.from.display.as_deref()
    }

    /// User part of the To URI.
    pub fn to_user(&self) -> String {
        self.req.to.user().unwrap_or_default()
    }

    /// Transport address the INVITE came from.
    pub fn source(&self) -> SocketAddr {
        self.peer.addr
    }

    /// Transport and address the INVITE came from.
    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Call-ID.
    pub fn call_id(&self) -> &str {
        &self.req.call_id
    }

    /// A header of the INVITE (e.g. `P-Asserted-Identity`, `Diversion`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.msg.header(name)
    }

    /// The caller's SDP offer; `None` for a late-offer INVITE (we offer in the 200 then).
    pub fn remote_sdp(&self) -> Option<&SessionDescription> {
        self.remote_sdp.as_ref()
    }

    /// Resolves once the caller has cancelled (the 487 has already been sent).
    pub async fn cancelled(&self) {
        let mut rx = self.cancelled.clone();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Whether a CANCEL has arrived.
    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }

    fn respond(&self, code: u16, reason: &str, headers: &[(&str, String)], body: &[u8]) -> bool {
        let out = builder::response(&self.req.msg, &self.req.via, code, reason, Some(&self.to_tag), &self.core.with_server(headers), body);
        let sent = self.core.servers.respond(&self.core.ctx, &self.key, code, Bytes::from(out));
        if code >= 200 {
            self.finished.store(true, Ordering::SeqCst);
            self.core.invites.lock().remove(&self.key);
        }
        sent
    }

    /// Sends 180 Ringing.
    pub async fn ringing(&self) {
        self.respond(180, "Ringing", &[("Contact", self.core.contact(&self.to_user_or_service(), self.peer.transport))], b"");
    }

    /// Sends 183 Session Progress with our SDP answer (early media: the IVR can play before answer).
    pub async fn progress(&self, local: &LocalMedia) -> Result<Negotiated, SipError> {
        let n = self.negotiate(local)?;
        let body = sdp::to_bytes(&n.local_sdp);
        self.respond(183, "Session Progress", &[("Contact", self.contact()), ("Content-Type", "application/sdp".into())], &body);
        Ok(n)
    }

    fn to_user_or_service(&self) -> String {
        let u = self.request_user();
        if u.is_empty() { "courtyard".into() } else { u }
    }

    fn contact(&self) -> String {
        self.core.contact(&self.to_user_or_service(), self.peer.transport)
    }

    fn negotiate(&self, local: &LocalMedia) -> Result<Negotiated, SipError> {
        match &self.remote_sdp {
            Some(offer) => local.answer(offer, 1).map_err(SipError::from),
            None => Err(SipError::NotAcceptable(crate::sdp::NegotiationError::NoAudio)),
        }
    }

    /// Rejects with any 3xx–6xx status (404 for unknown numbers, 486 busy, 603 ...).
    pub async fn reject(self, code: u16, reason: &str) {
        self.reject_now(code, reason);
    }

    /// Rejects like [`IncomingCall::reject`] with extra headers: `Retry-After` on a 503 tells a
    /// trunk or proxy how long to send this node nothing (RFC 3261 §21.5.4) rather than retry at
    /// once.
    pub async fn reject_with(self, code: u16, reason: &str, headers: &[(&str, String)]) {
        let code = if (300..=699).contains(&code) { code } else { 500 };
        self.respond(code, reason, headers, b"");
    }

    pub(crate) fn reject_now(&self, code: u16, reason: &str) {
        let code = if (300..=699).contains(&code) { code } else { 500 };
        self.respond(code, reason, &[], b"");
    }

    /// Answers with 200 OK and our SDP. With an offer in the INVITE the result carries the
    /// negotiation (a 488 with the reason is sent when nothing matches); for a late offer we
    /// offer `local` and the outcome arrives as [`crate::DialogEvent::ReInvite`] with the ACK.
    pub async fn answer(self, local: &LocalMedia) -> Result<(Dialog, Option<Negotiated>), SipError> {
        if self.is_cancelled() {
            self.finished.store(true, Ordering::SeqCst);
            return Err(SipError::Cancelled);
        }
        let (negotiated, body) = match &self.remote_sdp {
            Some(offer) => match local.answer(offer, 1) {
                Ok(n) => {
                    let b = sdp::to_bytes(&n.local_sdp);
                    (Some(n), b)
                }
                Err(e) => {
                    let reason = format!("Not Acceptable Here ({e})");
                    self.respond(488, &reason, &[("Warning", format!("304 {} \"{e}\"", self.core.host))], b"");
                    return Err(SipError::NotAcceptable(e));
                }
            },
            None => (None, sdp::to_bytes(&local.offer(1))),
        };
        let headers = [
            ("Contact", self.contact()),
            ("Allow", ALLOW.to_string()),
            ("Content-Type", "application/sdp".to_string()),
        ];
        let out = builder::response(&self.req.msg, &self.req.via, 200, "OK", Some(&self.to_tag), &self.core.with_server(&headers), &body);
        let out = Bytes::from(out);
        let (state, id, rx) = DialogState::for_uas(&self.core, &self.req, &self.to_tag, self.peer, local.clone(), negotiated.clone(), out.clone());
        self.core.dialogs.lock().insert(id.clone(), state);
        if !self.respond_raw(200, out.clone()) {
            self.core.dialogs.lock().remove(&id);
            return Err(SipError::Cancelled);
        }
        crate::dialog::start_2xx_retransmit(&self.core, &id, self.peer);
        Ok((Dialog::new(self.core.clone(), id, self.req.call_id.clone(), rx), negotiated))
    }

    fn respond_raw(&self, code: u16, bytes: Bytes) -> bool {
        let sent = self.core.servers.respond(&self.core.ctx, &self.key, code, bytes);
        self.finished.store(true, Ordering::SeqCst);
        self.core.invites.lock().remove(&self.key);
        sent
    }
}

impl Drop for IncomingCall {
    fn drop(&mut self) {
        if !self.finished.load(Ordering::SeqCst) && !self.is_cancelled() {
            self.reject_now(480, "Temporarily Unavailable");
        }
    }
}
