//! A caller connected to an agent: bridge the audio, record the conversation, and wait until
//! either side hangs up.

use std::sync::Arc;

use courtyard_media::{RecordMode, bridge};
use courtyard_sip::DialogEvent;

use super::agent::AgentCall;
use super::leg::CallLeg;
use crate::app::Shared;

/// Who ended a bridged conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The caller hung up.
    Caller,
    /// The agent hung up (or the agent leg failed).
    Agent,
}

/// Bridges the caller to an answered agent leg until one side hangs up; records the
/// conversation when recording is enabled. Returns who hung up.
pub async fn talk(shared: &Arc<Shared>, leg: &CallLeg, mut agent: AgentCall) -> EndedBy {
    let call_id = leg.call_id().to_string();
    {
        let mut r = leg.record.lock();
        r.agent = Some(agent.agent_id.clone());
    }
    let recording = if shared.cfg.recording.enabled {
        let id = shared.new_recording_id();
        let path = shared.recording_path(&id);
        match leg.media().record_start(&path, RecordMode::Mixed).await {
            Ok(()) => Some(id),
            Err(e) => {
                tracing::warn!(error = %e, "call recording could not start");
                None
            }
        }
    } else {
        None
    };
    let bridge_handle = bridge(leg.media(), &agent.media);
    tracing::info!(agent = %agent.agent_id, "caller connected to agent");
    let ended_by = loop {
        tokio::select! {
            _ = leg.ended.cancelled() => break EndedBy::Caller,
            ev = agent.dialog.next_event() => match ev {
                Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => break EndedBy::Agent,
                Some(DialogEvent::ReInvite(n)) => {
                    if let Some(a) = n.remote_rtp { agent.media.set_remote(a, super::media_codec(n.codec), n.telephone_event); }
                }
                Some(DialogEvent::Info(d)) => { let _ = agent.media.inject_dtmf(d); }
            },
        }
    };
    drop(bridge_handle);
    if let Some(id) = recording {
        match leg.media().record_stop().await {
            Ok(Some(info)) if !info.paths.is_empty() => {
                let ms = u32::try_from(info.duration.as_millis()).unwrap_or(u32::MAX);
                if let Err(e) = shared.index_recording(&id, &info.paths[0], ms, &call_id, "call").await {
                    tracing::warn!(error = %e, "call recording could not be indexed");
                } else {
                    leg.record.lock().recordings.push(id);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "call recording could not be finished"),
        }
    }
    match ended_by {
        EndedBy::Caller => {
            leg.record.lock().hangup_side.get_or_insert_with(|| "caller".into());
            agent.release().await;
        }
        EndedBy::Agent => {
            leg.record.lock().hangup_side.get_or_insert_with(|| "agent".into());
            agent.media.close().await;
        }
    }
    ended_by
}
