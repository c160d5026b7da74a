//! An inbound call from INVITE to BYE: screen, route, answer, run the flow, write the record.

use std::sync::Arc;

use courtyard_flows::wit::{CallInfo, Direction};
use courtyard_media::MediaConfig;
use courtyard_sip::sdp::LocalMedia;
use courtyard_sip::{DialogEvent, Direction as SdpDirection, IncomingCall};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::leg::CallLeg;
use super::record::{CallRecord, now_ms};
use crate::app::Shared;

/// Handles one inbound INVITE until the call is over. Never panics on peer input; every
/// rejection carries a status a phone can show.
pub async fn handle(shared: Arc<Shared>, call: IncomingCall) {
    let call_id = call.call_id().to_string();
    let span = tracing::info_span!("call", %call_id, caller = %call.from_user(), called = %call.request_user());
    async move {
        if let Err(e) = run(shared, call).await {
            tracing::warn!(error = %e, "call ended with an error");
        }
    }
    .instrument(span)
    .await
}

async fn run(shared: Arc<Shared>, call: IncomingCall) -> anyhow::Result<()> {
    let called = call.request_user().to_string();
    let caller = call.from_user().to_string();
    // The store keys records by call id and forbids '/', which a SIP Call-ID may contain.
    let call_id: String = call.call_id().chars().map(|c| if c == '/' { '_' } else { c }).collect();
    if shared.draining() {
        call.reject(503, "Service Unavailable").await;
        return Ok(());
    }
    if shared.cfg.sip.blacklist.iter().any(|b| b == &caller) || shared.store_blacklisted(&caller) {
        tracing::info!("blacklisted caller refused");
        call.reject(403, "Forbidden").await;
        return Ok(());
    }
    if let Some(code) = super::feature_codes::recognise(&shared, &call) {
        return super::feature_codes::handle(shared, call, code).await;
    }
    let Some(route) = shared.route(&called) else {
        tracing::info!("no route for the called number");
        call.reject(404, "Not Found").await;
        return Ok(());
    };
    if crate::media_rt::overloaded(shared.cfg.media.max_load) {
        tracing::warn!(max_load = shared.cfg.media.max_load, "call refused: every media thread is overloaded");
        crate::limits::counts().refused_for_media_load();
        // A few seconds' pause: long enough for a proxy to try another node, short enough that
        // calls come back as soon as this one has room.
        call.reject_with(503, "Service Unavailable (media overloaded)", &[("Retry-After", "5".into())]).await;
        return Ok(());
    }
    let _slot = match crate::limits::counts().admit(&shared.cfg.limits, &caller, call.source().ip()) {
        Ok(slot) => slot,
        Err(refusal) => {
            tracing::info!(code = refusal.code, reason = refusal.reason, "call refused by a concurrent-call limit");
            call.reject(refusal.code, refusal.reason).await;
            return Ok(());
        }
    };
    let media = match crate::media_rt::open(&shared.ports, MediaConfig::default()).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "no RTP port available");
            call.reject(503, "Service Unavailable").await;
            return Ok(());
        }
    };
    let record = Arc::new(Mutex::new(CallRecord {
        call_id: call_id.clone(),
        caller: caller.clone(),
        called: called.clone(),
        direction: "inbound".into(),
        started_ms: now_ms(),
        flow: Some(route.flow.clone()),
        ..Default::default()
    }));
    call.ringing().await;
    let local = LocalMedia::new(shared.rtp_ip(), media.local_addr().port());
    let (mut dialog, negotiated) = match call.answer(&local).await {
        Ok(x) => x,
        Err(e) => {
            tracing::info!(error = %e, "answer failed (no common codec, or the caller left)");
            media.close().await;
            return Ok(());
        }
    };
    match negotiated.as_ref().and_then(|n| n.remote_rtp.map(|a| (a, n.codec, n.telephone_event))) {
        Some((addr, codec, te)) => media.set_remote(addr, super::media_codec(codec), te),
        None => tracing::warn!("the caller's SDP gave no usable RTP address; waiting for the caller's RTP"),
    }
    record.lock().answered_ms = Some(now_ms());
    let first = record.lock().clone();
    let answered = shared.cdr_answered(&first);
    let _ = shared.events.send(serde_json::json!({
        "type": "call_started", "call_id": first.call_id, "caller": first.caller, "called": first.called,
        "flow": first.flow, "at_ms": first.answered_ms,
    }));

    // The dialog task: remote BYE ends the call; our hangup sends BYE; INFO digits reach media.
    let ended = CancellationToken::new();
    let (hangup_tx, hangup_rx) = tokio::sync::oneshot::channel::<()>();
    let dialog_task = {
        let ended = ended.clone();
        let media = media.clone();
        let record = record.clone();
        tokio::spawn(async move {
            let mut hangup_rx = hangup_rx;
            loop {
                tokio::select! {
                    ev = dialog.next_event() => match ev {
                        Some(DialogEvent::Bye) => {
                            record.lock().hangup_side.get_or_insert_with(|| "caller".into());
                            break;
                        }
                        Some(DialogEvent::Info(d)) => { let _ = media.inject_dtmf(d); }
                        // A caller cannot transfer the IVR (or the agent) away.
                        Some(DialogEvent::Refer { id, .. }) => dialog.decline_refer(id),
                        Some(DialogEvent::ReInvite(n)) => {
                            // Hold (peer sendonly/inactive) stops our audio; unhold resumes it.
                            if let Some(addr) = n.remote_rtp {
                                media.set_remote(addr, super::media_codec(n.codec), n.telephone_event);
                            }
                            media.set_sending(matches!(n.direction, SdpDirection::SendRecv | SdpDirection::SendOnly));
                        }
                        Some(DialogEvent::Terminated(reason)) => {
                            let mut r = record.lock();
                            r.hangup_side.get_or_insert_with(|| "system".into());
                            r.cause.get_or_insert_with(|| reason.to_string());
                            break;
                        }
                        None => break,
                    },
                    _ = &mut hangup_rx => { let _ = dialog.hangup().await; break; }
                    _ = ended.cancelled() => { let _ = dialog.hangup().await; break; }
                }
            }
            ended.cancel();
        })
    };

    let info = CallInfo {
        call_id,
        caller,
        called,
        direction: Direction::Inbound,
        estate_id: route.estate_id.clone(),
        language: shared.cfg.tts.language.clone(),
    };
    let leg = Arc::new(CallLeg::new(info, media.clone(), ended.clone(), hangup_tx, record.clone(), shared.clone()));
    shared.live_insert(leg.clone());
    shared.run_flow(&route.flow, leg.clone()).await;
    // The flow is done: end the call if the caller is still there.
    courtyard_flows::CallControl::hangup(leg.as_ref()).await;
    let _ = dialog_task.await;
    shared.live_remove(&leg);
    crate::metrics::media_finished(&media);
    media.close().await;
    let mut rec = record.lock().clone();
    rec.ended_ms = Some(now_ms());
    shared.cdr_finish(Some(answered), &rec).await;
    let _ = shared.events.send(serde_json::json!({
        "type": "call_ended", "call_id": rec.call_id, "caller": rec.caller, "agent": rec.agent,
        "queue": rec.queue, "hangup_side": rec.hangup_side, "at_ms": rec.ended_ms,
    }));
    Ok(())
}
