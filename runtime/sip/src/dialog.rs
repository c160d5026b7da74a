//! Dialogs (RFC 3261 §12–15): the state both sides share after a 2xx to an INVITE, the
//! [`Dialog`] handle the runtime holds, and in-dialog request handling: ACK for our 2xx (which
//! stops its retransmission), BYE in both directions, re-INVITE for hold/unhold and media
//! changes (answered automatically from the dialog's [`LocalMedia`]), INFO DTMF, OPTIONS.

use crate::builder;
use crate::core::{ALLOW, Core, token};
use crate::error::SipError;
use crate::sdp::{self, LocalMedia, Negotiated};
use crate::transaction::client::{ClientEvent, ClientKey};
use crate::transaction::server::ServerKey;
use crate::transaction::timers::{TimerEvent, TimerKind, TimerTarget};
use crate::transport::Peer;
use crate::uri::{NameAddr, SipUri};
use crate::validate::Request;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Identifies a dialog from our side: Call-ID and our tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag (To tag as UAS, From tag as UAC).
    pub local_tag: String,
}

/// What happens in an established call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogEvent {
    /// The other side hung up (we answered its BYE with 200).
    Bye,
    /// Media changed: a re-INVITE (hold/unhold) we already answered, or the answer in the ACK
    /// to a late-offer call.
    ReInvite(Negotiated),
    /// A DTMF digit received by SIP INFO (application/dtmf-relay or application/dtmf).
    Info(char),
    /// The dialog ended for another reason (no ACK for our 200, BYE timed out ...).
    Terminated(String),
    /// The peer asked us to transfer the call (in-dialog REFER, already answered 202): report
    /// the outcome with [`Dialog::notify_refer`], or refuse with [`Dialog::decline_refer`].
    Refer {
        /// The Refer-To URI (without angle brackets).
        target: String,
        /// The Referred-By header value, if sent.
        referred_by: Option<String>,
        /// The REFER's CSeq number: the `id` of its subscription, which every NOTIFY about it
        /// carries (`Event: refer;id=N`, RFC 3515 §2.4.6) so a phone that sent a second REFER
        /// in the same dialog can tell the reports apart.
        id: u32,
    },
}

/// Internal dialog state, owned by the endpoint's dialog table.
pub(crate) struct DialogState {
    pub local: String,
    pub remote: String,
    pub remote_target: String,
    pub route_set: Vec<String>,
    pub peer: Peer,
    pub local_cseq: u32,
    pub remote_cseq: u32,
    pub local_user: String,
    pub events: mpsc::UnboundedSender<DialogEvent>,
    pub local_media: LocalMedia,
    pub sdp_version: u64,
    pub current: Option<Negotiated>,
    /// Our 2xx waiting for its ACK (bytes, current interval, when it was first sent).
    pub pending_2xx: Option<(Bytes, Duration, std::time::Instant)>,
    pub epoch: u64,
    /// We sent an offer in a 2xx and expect the answer in the ACK.
    pub awaiting_ack_answer: bool,
    /// UAC: the ACK we sent, resent when the 2xx is retransmitted.
    pub ack: Option<Bytes>,
}

impl DialogState {
    pub(crate) fn for_uas(
        core: &Core,
        req: &Request,
        to_tag: &str,
        peer: Peer,
        local_media: LocalMedia,
        current: Option<Negotiated>,
        ok: Bytes,
    ) -> (DialogState, DialogId, mpsc::UnboundedReceiver<DialogEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let to = req.msg.header("To").unwrap_or_default();
        let local_user = req.uri.user_decoded().unwrap_or_else(|| "courtyard".into());
        let remote_target = req
            .msg
            .header("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map(|n| n.uri_text)
            .unwrap_or_else(|| req.from.uri_text.clone());
        let state = DialogState {
            local: format!("{to};tag={to_tag}"),
            remote: req.msg.header("From").unwrap_or_default().to_string(),
            remote_target,
            route_set: req.msg.headers_named("Record-Route").map(str::to_string).collect(),
            peer,
            local_cseq: rand::random::<u16>() as u32 + 1,
            remote_cseq: req.cseq,
            local_user,
            events: tx,
            local_media,
            sdp_version: 1,
            awaiting_ack_answer: current.is_none(),
            current,
            pending_2xx: Some((ok, core.ctx.t.t1, std::time::Instant::now())),
            epoch: 0,
            ack: None,
        };
        (state, DialogId { call_id: req.call_id.clone(), local_tag: to_tag.to_string() }, rx)
    }
}

/// The runtime's handle on an established call. Dropping it hangs up (sends BYE) if the
/// call is still up.
pub struct Dialog {
    pub(crate) core: Arc<Core>,
    pub(crate) id: DialogId,
    pub(crate) call_id: String,
    events: mpsc::UnboundedReceiver<DialogEvent>,
    ended: bool,
}

impl std::fmt::Debug for Dialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialog").field("call_id", &self.call_id).finish()
    }
}

impl Dialog {
    pub(crate) fn new(core: Arc<Core>, id: DialogId, call_id: String, events: mpsc::UnboundedReceiver<DialogEvent>) -> Self {
        Dialog { core, id, call_id, events, ended: false }
    }

    /// Call-ID of the call.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Dialog identifier.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Current negotiated media (changes with re-INVITEs).
    pub fn media(&self) -> Option<Negotiated> {
        self.core.dialogs.lock().get(&self.id).and_then(|d| d.current.clone())
    }

    /// Next event; `None` once the dialog is gone and all events were read.
    pub async fn next_event(&mut self) -> Option<DialogEvent> {
        let ev = self.events.recv().await;
        if matches!(ev, Some(DialogEvent::Bye | DialogEvent::Terminated(_)) | None) {
            self.ended = true;
        }
        ev
    }

    /// Hangs up: sends BYE and waits for its final response (or Timer F). No-op if the dialog
    /// has already ended.
    pub async fn hangup(&mut self) -> Result<(), SipError> {
        self.ended = true;
        let mut rx = send_in_dialog(&self.core, &self.id, "BYE", &[], b"", true)?;
        while let Some(ev) = rx.recv().await {
            match ev {
                ClientEvent::Response(r) if r.status().unwrap_or(0) >= 200 => return Ok(()),
                ClientEvent::Response(_) => {}
                ClientEvent::Timeout => return Err(SipError::Timeout),
            }
        }
        Ok(())
    }

    /// Sends an in-dialog INFO carrying one DTMF digit (application/dtmf-relay).
    pub async fn send_dtmf_info(&self, digit: char) -> Result<(), SipError> {
        let body = format!("Signal={digit}\r\nDuration=160\r\n");
        let mut rx = send_in_dialog(&self.core, &self.id, "INFO", &[("Content-Type", "application/dtmf-relay".into())], body.as_bytes(), false)?;
        while let Some(ev) = rx.recv().await {
            match ev {
                ClientEvent::Response(r) if r.status().unwrap_or(0) >= 200 => return Ok(()),
                ClientEvent::Response(_) => {}
                ClientEvent::Timeout => return Err(SipError::Timeout),
            }
        }
        Ok(())
    }
}

impl Drop for Dialog {
    fn drop(&mut self) {
        if !self.ended && self.core.dialogs.lock().contains_key(&self.id)
            && let Ok(mut rx) = send_in_dialog(&self.core, &self.id, "BYE", &[], b"", true) {
                tokio::spawn(async move { while rx.recv().await.is_some() {} });
            }
    }
}

/// Builds and sends an in-dialog request; `end` removes the dialog (BYE).
pub(crate) fn send_in_dialog(
    core: &Arc<Core>,
    id: &DialogId,
    method: &str,
    extra: &[(&str, String)],
    body: &[u8],
    end: bool,
) -> Result<mpsc::UnboundedReceiver<ClientEvent>, SipError> {
    let mut dialogs = core.dialogs.lock();
    let d = if end { dialogs.remove(id) } else { None };
    let d_ref = match &d {
        Some(d) => d,
        None => dialogs.get_mut(id).ok_or(SipError::DialogGone)?,
    };
    let cseq = d_ref.local_cseq + 1;
    let branch = format!("{}{}", crate::via::MAGIC_COOKIE, token());
    let mut headers: Vec<(&str, String)> = vec![
        ("Via", core.via(d_ref.peer.transport, &branch)),
        ("Max-Forwards", "70".into()),
        ("From", d_ref.local.clone()),
        ("To", d_ref.remote.clone()),
        ("Call-ID", id.call_id.clone()),
        ("CSeq", format!("{cseq} {method}")),
        ("User-Agent", core.cfg.user_agent.clone()),
    ];
    for r in &d_ref.route_set {
        headers.push(("Route", r.clone()));
    }
    headers.extend(extra.iter().cloned());
    let bytes = builder::request(method, &d_ref.remote_target, &headers, body);
    let peer = d_ref.peer;
    if d.is_none()
        && let Some(d) = dialogs.get_mut(id) {
            d.local_cseq = cseq;
        }
    drop(dialogs);
    Ok(core.send_request(ClientKey { branch, method: method.into() }, peer, bytes, None))
}

/// Starts retransmitting our 2xx until the ACK arrives (RFC 3261 §13.3.1.4).
pub(crate) fn start_2xx_retransmit(core: &Arc<Core>, id: &DialogId, peer: Peer) {
    let epoch = core.dialogs.lock().get(id).map(|d| d.epoch).unwrap_or(0);
    let ev = |kind| TimerEvent { target: TimerTarget::Dialog(id.clone()), kind, epoch };
    // over UDP the retransmission timer also notices the 64*T1 deadline (one timer per call)
    if peer.transport.reliable() {
        core.ctx.timers.schedule(core.ctx.t.t64(), ev(TimerKind::AckTimeout));
    } else {
        core.ctx.timers.schedule(core.ctx.t.t1, ev(TimerKind::Retransmit2xx));
    }
}

pub(crate) fn on_timer(core: &Arc<Core>, id: &DialogId, kind: TimerKind, epoch: u64) {
    let mut dialogs = core.dialogs.lock();
    let Some(d) = dialogs.get_mut(id) else { return };
    if d.epoch != epoch {
        return;
    }
    let Some((bytes, interval, since)) = d.pending_2xx.clone() else { return };
    let expired = since.elapsed() >= core.ctx.t.t64();
    match kind {
        TimerKind::Retransmit2xx if !expired => {
            core.ctx.transports.send(d.peer, bytes.clone());
            let next = (interval * 2).min(core.ctx.t.t2);
            d.pending_2xx = Some((bytes, next, since));
            core.ctx.timers.schedule(next, TimerEvent { target: TimerTarget::Dialog(id.clone()), kind, epoch });
        }
        TimerKind::Retransmit2xx | TimerKind::AckTimeout => {
            d.pending_2xx = None;
            let _ = d.events.send(DialogEvent::Terminated("no ACK for our 200 OK".into()));
            drop(dialogs);
            tracing::info!(call_id = %id.call_id, "no ACK for 2xx within 64*T1: sending BYE");
            if let Ok(mut rx) = send_in_dialog(core, id, "BYE", &[], b"", true) {
                tokio::spawn(async move { while rx.recv().await.is_some() {} });
            }
        }
        _ => {}
    }
}

fn dialog_id(req: &Request) -> Option<DialogId> {
    Some(DialogId { call_id: req.call_id.clone(), local_tag: req.to.tag()?.to_string() })
}

/// ACK for a 2xx: stop retransmitting; a late-offer answer in it completes the negotiation.
pub(crate) fn on_ack(core: &Arc<Core>, req: &Request) {
    let Some(id) = dialog_id(req) else { return };
    let mut dialogs = core.dialogs.lock();
    let Some(d) = dialogs.get_mut(&id) else { return };
    if d.pending_2xx.take().is_some() {
        d.epoch += 1;
    }
    if d.awaiting_ack_answer && !req.msg.body.is_empty() {
        d.awaiting_ack_answer = false;
        let raw = sdp::sdp_from_body(req.msg.header("Content-Type"), &req.msg.body);
        if let Some(Ok(answer)) = raw.as_deref().map(sdp::parse)
            && let Ok(n) = d.local_media.accept_answer(&answer) {
                d.current = Some(n.clone());
                let _ = d.events.send(DialogEvent::ReInvite(n));
            }
    }
}

fn dtmf_from_info(req: &Request) -> Option<char> {
    let ct = req.msg.header("Content-Type")?.to_ascii_lowercase();
    let body = String::from_utf8_lossy(&req.msg.body);
    let sig = if ct.starts_with("application/dtmf-relay") {
        body.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| v.trim().to_string())
        })?
    } else if ct.starts_with("application/dtmf") {
        body.trim().to_string()
    } else {
        return None;
    };
    let c = sig.chars().next()?;
    match sig.as_str() {
        "10" => Some('*'),
        "11" => Some('#'),
        _ if sig.len() == 1 && (c.is_ascii_digit() || "*#ABCDabcd".contains(c)) => Some(c.to_ascii_uppercase()),
        _ => None,
    }
}

/// A request carrying our tag: route it to its dialog.
pub(crate) fn on_in_dialog(core: &Arc<Core>, req: Arc<Request>, key: ServerKey, peer: Peer) {
    let Some(id) = dialog_id(&req) else { return };
    let mut dialogs = core.dialogs.lock();
    let Some(d) = dialogs.get_mut(&id) else {
        drop(dialogs);
        return core.respond_new(&req, key, peer, 481, "Call/Transaction Does Not Exist", &[], b"");
    };
    if req.cseq <= d.remote_cseq && req.method != "ACK" {
        drop(dialogs);
        return core.respond_new(&req, key, peer, 500, "Server Internal Error (CSeq out of order)", &[("Retry-After", "1".into())], b"");
    }
    d.remote_cseq = req.cseq;
    match req.method.as_str() {
        "BYE" => {
            let d = dialogs.remove(&id);
            drop(dialogs);
            core.respond_new(&req, key, peer, 200, "OK", &[], b"");
            if let Some(d) = d {
                let _ = d.events.send(DialogEvent::Bye);
            }
        }
        "INVITE" => {
            if d.pending_2xx.is_some() {
                drop(dialogs);
                return core.respond_new(&req, key, peer, 491, "Request Pending", &[], b"");
            }
            if let Some(c) = req.msg.header("Contact").and_then(|c| NameAddr::parse(c).ok())
                && c.uri.is_some() {
                    d.remote_target = c.uri_text;
                }
            let version = d.sdp_version + 1;
            let (body, negotiated) = if req.msg.body.is_empty() {
                d.awaiting_ack_answer = true;
                (sdp::to_bytes(&d.local_media.offer(version)), None)
            } else {
                let raw = sdp::sdp_from_body(req.msg.header("Content-Type"), &req.msg.body);
                let answer = raw.as_deref().map(sdp::parse).map(|r| r.map_err(sdp::NegotiationError::from));
                match answer.map(|o| o.and_then(|o| d.local_media.answer(&o, version))) {
                    Some(Ok(n)) => (sdp::to_bytes(&n.local_sdp), Some(n)),
                    Some(Err(e)) => {
                        drop(dialogs);
                        let reason = format!("Not Acceptable Here ({e})");
                        return core.respond_new(&req, key, peer, 488, &reason, &[], b"");
                    }
                    None => {
                        drop(dialogs);
                        return core.respond_new(&req, key, peer, 415, "Unsupported Media Type", &[("Accept", "application/sdp".into())], b"");
                    }
                }
            };
            d.sdp_version = version;
            if let Some(n) = &negotiated {
                d.current = Some(n.clone());
            }
            let headers = core.with_server(&[
                ("Contact", core.contact(&d.local_user, peer.transport)),
                ("Allow", ALLOW.into()),
                ("Content-Type", "application/sdp".into()),
            ]);
            let ok = Bytes::from(builder::response(&req.msg, &req.via, 200, "OK", None, &headers, &body));
            d.epoch += 1;
            d.pending_2xx = Some((ok.clone(), core.ctx.t.t1, std::time::Instant::now()));
            if let Some(n) = negotiated {
                let _ = d.events.send(DialogEvent::ReInvite(n));
            }
            drop(dialogs);
            core.servers.create(key.clone(), true, peer, None);
            core.servers.respond(&core.ctx, &key, 200, ok);
            start_2xx_retransmit(core, &id, peer);
        }
        "INFO" => {
            let digit = dtmf_from_info(&req);
            if let Some(c) = digit {
                let _ = d.events.send(DialogEvent::Info(c));
            }
            drop(dialogs);
            core.respond_new(&req, key, peer, 200, "OK", &[], b"");
        }
        "OPTIONS" => {
            drop(dialogs);
            core.respond_new(&req, key, peer, 200, "OK", &[("Allow", ALLOW.into())], b"");
        }
        "REFER" => crate::refer::on_refer(core, d, &req, key, peer),
        _ => {
            drop(dialogs);
            core.respond_new(&req, key, peer, 501, "Not Implemented", &[("Allow", ALLOW.into())], b"");
        }
    }
}

/// Where to send requests for `uri` (host:port of the URI, default 5060).
pub(crate) fn uri_target(uri: &str) -> Option<std::net::SocketAddr> {
    let u = SipUri::parse(uri).ok()?;
    let host = u.host.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = host.parse().ok()?;
    Some(std::net::SocketAddr::new(ip, u.port.unwrap_or(5060)))
}
