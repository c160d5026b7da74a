//! In-dialog REFER (RFC 3515): the transfer button of a phone. A REFER on an existing dialog is
//! validated (exactly one parseable Refer-To), answered `202 Accepted` and handed to the runtime
//! as [`DialogEvent::Refer`]; the runtime then reports progress on the implicit subscription with
//! [`Dialog::notify_refer`] (`message/sipfrag` NOTIFYs). Out-of-dialog REFER stays 405 (core.rs).
//! Attended transfer (Refer-To with `Replaces`, RFC 3891) is passed up like any other target.

use crate::core::{ALLOW, Core};
use crate::dialog::{Dialog, DialogEvent, DialogState, send_in_dialog};
use crate::error::SipError;
use crate::transaction::client::ClientEvent;
use crate::transaction::server::ServerKey;
use crate::transport::Peer;
use crate::uri::NameAddr;
use crate::validate::Request;
use std::sync::Arc;

/// Subscription lifetime announced while the transfer is in progress (seconds).
const REFER_EXPIRES: u32 = 60;

/// Why a REFER is refused (400 reason phrase), or the Refer-To URI and the Referred-By value.
fn parse(req: &Request) -> Result<(String, Option<String>), &'static str> {
    let mut refer_to = req.msg.headers_named("Refer-To");
    let Some(first) = refer_to.next() else { return Err("Bad Request (missing Refer-To)") };
    if refer_to.next().is_some() {
        return Err("Bad Request (more than one Refer-To)");
    }
    let target = match NameAddr::parse(first) {
        Ok(n) if n.uri.is_some() => n.uri_text,
        _ => return Err("Bad Request (malformed Refer-To)"),
    };
    let referred_by = req.msg.header("Referred-By").map(str::to_string);
    Ok((target, referred_by))
}

/// A REFER on dialog `d` (the dialog table is locked by the caller; `d` is known to exist).
pub(crate) fn on_refer(core: &Arc<Core>, d: &mut DialogState, req: &Request, key: ServerKey, peer: Peer) {
    let (target, referred_by) = match parse(req) {
        Ok(v) => v,
        Err(reason) => return core.respond_new(req, key, peer, 400, reason, &[], b""),
    };
    if d.events.is_closed() {
        // Nobody owns this call any more (it is being torn down): nothing can act on the REFER.
        return core.respond_new(req, key, peer, 603, "Decline", &[], b"");
    }
    let contact = core.contact(&d.local_user, peer.transport);
    core.respond_new(req, key, peer, 202, "Accepted", &[("Contact", contact), ("Allow", ALLOW.into())], b"");
    tracing::info!(call_id = %req.call_id, %target, "in-dialog REFER accepted");
    let _ = d.events.send(DialogEvent::Refer { target, referred_by, id: req.cseq });
}

/// The reason phrase we put in a sipfrag for the status codes the runtime reports.
pub fn sipfrag_reason(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        487 => "Request Terminated",
        491 => "Request Pending",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        603 => "Declined",
        c if c < 200 => "Trying",
        c if c < 300 => "OK",
        _ => "Service Unavailable",
    }
}

impl Dialog {
    /// Reports the progress of a REFER on its implicit subscription: a NOTIFY whose
    /// `message/sipfrag` body is `SIP/2.0 <code> <reason>`. A provisional `code` keeps the
    /// subscription active; a final one terminates it. The NOTIFY's own response is consumed in
    /// the background (any final response ends its transaction).
    /// `id` is the REFER's CSeq number ([`DialogEvent::Refer`]'s `id`).
    pub fn notify_refer(&self, id: u32, code: u16) -> Result<(), SipError> {
        let state = if code < 200 {
            format!("active;expires={REFER_EXPIRES}")
        } else {
            "terminated;reason=noresource".to_string()
        };
        let contact = {
            let dialogs = self.core.dialogs.lock();
            let d = dialogs.get(&self.id).ok_or(SipError::DialogGone)?;
            self.core.contact(&d.local_user, d.peer.transport)
        };
        let body = format!("SIP/2.0 {code} {}\r\n", sipfrag_reason(code));
        let headers = [
            ("Event", format!("refer;id={id}")),
            ("Subscription-State", state),
            ("Contact", contact),
            ("Content-Type", "message/sipfrag;version=2.0".to_string()),
        ];
        let mut rx = send_in_dialog(&self.core, &self.id, "NOTIFY", &headers, body.as_bytes(), false)?;
        let call_id = self.call_id.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                match ev {
                    ClientEvent::Response(r) if r.status().unwrap_or(0) >= 200 => {
                        tracing::debug!(%call_id, status = r.status().unwrap_or(0), "NOTIFY (refer) answered");
                        return;
                    }
                    ClientEvent::Response(_) => {}
                    ClientEvent::Timeout => {
                        tracing::info!(%call_id, "NOTIFY (refer) timed out");
                        return;
                    }
                }
            }
        });
        Ok(())
    }

    /// Refuses a REFER the runtime cannot act on (a caller REFERing the IVR): NOTIFY
    /// `SIP/2.0 603 Declined`, terminating the subscription. The call itself continues.
    pub fn decline_refer(&self, id: u32) {
        if let Err(e) = self.notify_refer(id, 603) {
            tracing::debug!(error = %e, call_id = %self.call_id, "REFER could not be declined");
        }
    }
}
