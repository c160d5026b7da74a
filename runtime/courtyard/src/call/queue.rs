//! The caller's wait in an ACD queue: the recording notice, hold music, position and
//! estimated-wait announcements, the "press 1 for a callback" option, and the connection to the
//! agent who answers.

use std::sync::Arc;

use courtyard_acd::{CallRef, OverflowTarget, QueueEvent, QueueTicket};
use courtyard_flows::wit::{CallError, QueueOutcome};
use courtyard_media::PlayOptions;
use tokio_util::sync::CancellationToken;

use super::agent::AgentCall;
use super::connect::{self, Served};
use super::leg::CallLeg;
use super::prompt::hold_music;
use crate::app::Shared;

/// Key a waiting caller presses to leave a callback request and keep their turn.
const CALLBACK_KEY: char = '1';

/// Enqueues the caller and waits until the queue is done with the call.
pub async fn wait(shared: &Arc<Shared>, leg: &CallLeg, queue_name: &str, priority: u32) -> Result<QueueOutcome, CallError> {
    let info = courtyard_flows::CallControl::info(leg);
    let resident = shared.store.lookup_caller(&info.caller).ok().and_then(|v| v.into_iter().next());
    let mut call = CallRef::new(info.call_id.clone(), info.caller.clone());
    call.priority = priority;
    call.vip = resident.as_ref().is_some_and(|r| r.vip);
    call.emergency = queue_name == "emergency";
    call.estate = info.estate_id.clone();
    call.data_ref = resident.map(|r| r.id);
    let ticket = shared.acd.enqueue(call, queue_name).await.map_err(|e| CallError::Failed(format!("queue '{queue_name}': {e}")))?;

    if shared.cfg.recording.enabled && !shared.cfg.recording.notice.is_empty() {
        let notice = shared.cfg.recording.notice.clone();
        if let Err(e) = leg.say_text(&notice).await {
            let _ = shared.acd.caller_left(&info.call_id).await;
            return Err(e);
        }
    }
    follow(shared, leg, ticket, priority).await
}

/// Follows a queue ticket until the caller is served, leaves, or the queue gives up.
async fn follow(shared: &Arc<Shared>, leg: &CallLeg, mut ticket: QueueTicket, priority: u32) -> Result<QueueOutcome, CallError> {
    let info = courtyard_flows::CallControl::info(leg);
    let mut hold = Hold::start(leg);
    let outcome = loop {
        tokio::select! {
            _ = leg.ended.cancelled() => {
                let _ = shared.acd.caller_left(&info.call_id).await;
                hold.stop(leg);
                return Err(CallError::Hangup);
            }
            d = leg.next_digit() => {
                if d == Some(CALLBACK_KEY) {
                    let _ = shared.acd.request_callback(&info.call_id, false).await;
                    break QueueOutcome::CallbackRequested;
                }
            }
            ev = ticket.next() => match ev {
                None | Some(QueueEvent::Timeout) => break QueueOutcome::Timeout,
                Some(QueueEvent::Queued { .. }) | Some(QueueEvent::Ringing { .. }) => {}
                Some(QueueEvent::Overflow { target: OverflowTarget::Queue { name } }) => {
                    leg.record.lock().queue = Some(name);
                }
                Some(QueueEvent::Overflow { .. }) => break QueueOutcome::CallbackRequested,
                Some(QueueEvent::Announcement(a)) => {
                    hold.stop(leg);
                    if let Err(e) = leg.say_text(&a.text).await {
                        let _ = shared.acd.caller_left(&info.call_id).await;
                        return Err(e);
                    }
                    hold = Hold::start(leg);
                }
                Some(QueueEvent::Connected { agent_id, leg: agent_leg, .. }) => {
                    hold.stop(leg);
                    let Ok(agent_call) = agent_leg.downcast::<AgentCall>() else {
                        let _ = shared.acd.call_ended(&info.call_id).await;
                        return Err(CallError::Failed("internal: unexpected agent leg type".into()));
                    };
                    let _ = shared.acd.remember_agent(&info.caller, &agent_id).await;
                    match connect::serve(shared, leg, agent_call, true).await {
                        Served::Done => {
                            let _ = shared.acd.call_ended(&info.call_id).await;
                            break QueueOutcome::Answered(agent_id);
                        }
                        Served::ToQueue(q) => {
                            leg.record.lock().queue = Some(q.clone());
                            match shared.acd.transfer_to_queue(&info.call_id, &q).await {
                                Ok(t) => {
                                    ticket = t;
                                    hold = Hold::start(leg);
                                }
                                Err(e) => {
                                    // The ACD no longer holds the call (it was handed over
                                    // outside the ACD first): queue the caller afresh.
                                    tracing::debug!(error = %e, "transfer to queue: enqueueing again");
                                    let _ = shared.acd.call_ended(&info.call_id).await;
                                    return Box::pin(wait(shared, leg, &q, priority)).await;
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    hold.stop(leg);
    Ok(outcome)
}

/// Hold music playing in the background until stopped.
pub(crate) struct Hold {
    stop: CancellationToken,
}

impl Hold {
    pub(crate) fn start(leg: &CallLeg) -> Hold {
        let stop = CancellationToken::new();
        let media = leg.media().clone();
        let token = stop.clone();
        tokio::spawn(async move {
            let music = hold_music();
            while !token.is_cancelled() {
                tokio::select! {
                    _ = token.cancelled() => break,
                    r = media.play(music.clone(), PlayOptions { barge_in: false }) => if r.is_err() { break },
                }
            }
        });
        Hold { stop }
    }

    pub(crate) fn stop(&mut self, leg: &CallLeg) {
        if !self.stop.is_cancelled() {
            self.stop.cancel();
            leg.media().stop_play();
        }
    }
}
