//! An answered outbound call running a flow: the callee's dialog and RTP wrapped as the same
//! [`CallLeg`] inbound calls use (so prompts, digits, transfer and queueing behave alike), the
//! answering-machine-safe silence before the flow speaks, and the outbound call record.

use std::sync::Arc;
use std::time::Duration;

use courtyard_flows::wit::{CallInfo, Direction, Target};
use courtyard_flows::{CallControl, CallOutcome};
use courtyard_sip::{DialogEvent, Direction as SdpDirection};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::app::Shared;
use crate::call::agent::AgentCall;
use crate::call::leg::CallLeg;
use crate::call::record::{CallRecord, now_ms};

/// What the outbound flow run is about.
pub struct FlowRun {
    /// Outbound flow (registry key).
    pub flow: String,
    /// Number presented to the callee.
    pub caller_id: String,
    /// The flow's target record.
    pub target: Target,
    /// Silence after the answer before the flow starts (answering-machine-safe start).
    pub answer_delay: Duration,
    /// Unix ms when the INVITE went out.
    pub started_ms: i64,
}

/// Runs `run.flow` on an answered outbound call until the flow ends or the callee hangs up;
/// writes the CDR (direction "outbound") at answer and at the end. Returns the flow's outcome
/// (`Ok("confirmed")`, `Ok("hung-up")` when the callee left first) or `Err(reason)` when the
/// plugin failed or could not run.
pub async fn run_flow(shared: Arc<Shared>, call: AgentCall, run: FlowRun) -> Result<String, String> {
    let AgentCall { dialog, media, .. } = call;
    let call_id: String = dialog.call_id().chars().map(|c| if c == '/' { '_' } else { c }).collect();
    let record = Arc::new(Mutex::new(CallRecord {
        call_id: call_id.clone(),
        caller: run.caller_id.clone(),
        called: run.target.number.clone(),
        direction: "outbound".into(),
        started_ms: run.started_ms,
        answered_ms: Some(now_ms()),
        flow: Some(run.flow.clone()),
        ..Default::default()
    }));
    {
        let mut r = record.lock();
        if !run.target.campaign_id.is_empty() {
            r.vars.insert("campaign_id".into(), run.target.campaign_id.clone());
            r.vars.insert("target_id".into(), run.target.target_id.clone());
        }
    }
    let first = record.lock().clone();
    let answered = shared.cdr_answered(&first);

    let ended = CancellationToken::new();
    let (hangup_tx, hangup_rx) = tokio::sync::oneshot::channel::<()>();
    let dialog_task = spawn_dialog(dialog, media.clone(), record.clone(), ended.clone(), hangup_rx);
    let info = CallInfo {
        call_id: call_id.clone(),
        caller: run.caller_id.clone(),
        called: run.target.number.clone(),
        direction: Direction::Outbound,
        estate_id: None,
        language: shared.cfg.tts.language.clone(),
    };
    // The leg subscribes to the callee's digits now, so a key pressed during the silence counts.
    let leg = Arc::new(CallLeg::new(info, media.clone(), ended.clone(), hangup_tx, record.clone(), shared.clone()));
    shared.live_insert(leg.clone());

    // Answering-machine-safe start: stay silent first; a callee who hangs up meanwhile ends it.
    let silent = tokio::select! {
        _ = ended.cancelled() => false,
        _ = tokio::time::sleep(run.answer_delay) => true,
    };
    let outcome = if !silent {
        Ok("hung-up".to_string())
    } else {
        // The flow unwinds by itself when the callee hangs up (every call function then fails
        // with `hangup`), so it is never cut off mid-instruction.
        match shared.flows.run_outbound(&run.flow, leg.clone(), shared.services.clone(), run.target.clone()).await {
            Ok(report) => {
                record.lock().plugin_version = Some(format!("{}@{}", report.plugin_version, report.version));
                match report.outcome {
                    CallOutcome::Outbound(s) => Ok(s),
                    CallOutcome::CallerHungUp => Ok("hung-up".to_string()),
                    CallOutcome::Completed => Ok("completed".to_string()),
                    CallOutcome::Failed { failure, .. } => {
                        let reason = format!("{}: {}", failure.kind, failure.message);
                        record.lock().failure = Some(reason.clone());
                        Err(reason)
                    }
                }
            }
            Err(e) => {
                record.lock().failure = Some(e.to_string());
                Err(format!("flow cannot run: {e}"))
            }
        }
    };
    match &outcome {
        Ok(s) => {
            record.lock().vars.insert("outcome".into(), s.clone());
        }
        Err(e) => tracing::warn!(%call_id, error = %e, "outbound flow failed"),
    }
    leg.hangup().await;
    let _ = dialog_task.await;
    shared.live_remove(&leg);
    media.close().await;
    let mut rec = record.lock().clone();
    rec.ended_ms = Some(now_ms());
    shared.cdr_finish(Some(answered), &rec).await;
    tracing::info!(%call_id, outcome = ?outcome, "outbound call ended");
    outcome
}

/// The dialog task of an outbound leg: the callee's BYE ends the call, our hangup sends BYE,
/// INFO digits reach the media session, re-INVITEs move or hold the audio.
fn spawn_dialog(
    mut dialog: courtyard_sip::Dialog,
    media: courtyard_media::MediaSession,
    record: Arc<Mutex<CallRecord>>,
    ended: CancellationToken,
    mut hangup_rx: tokio::sync::oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ev = dialog.next_event() => match ev {
                    Some(DialogEvent::Bye) => {
                        record.lock().hangup_side.get_or_insert_with(|| "caller".into());
                        break;
                    }
                    Some(DialogEvent::Info(d)) => { let _ = media.inject_dtmf(d); }
                    Some(DialogEvent::Refer { id, .. }) => dialog.decline_refer(id),
                    Some(DialogEvent::ReInvite(n)) => {
                        if let Some(addr) = n.remote_rtp {
                            media.set_remote(addr, crate::call::media_codec(n.codec), n.telephone_event);
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
}
