//! Feature codes an agent dials from their registered phone to change ACD state without the web
//! console: the runtime answers, applies the change, says a short confirmation and hangs up.
//!
//! | dial | effect |
//! | --- | --- |
//! | `*20` | log out (签出) |
//! | `*21` | ready (示闲) |
//! | `*22` | not ready (示忙), reason "示忙" |
//! | `*23` | break (小休) |
//! | `*24` | log in at this phone's extension (签入) |
//!
//! Only a configured agent extension dialling from the address its phone registered from is
//! recognised, so a trunk caller presenting an agent's number cannot change the agent's state.

use std::sync::Arc;

use courtyard_acd::RequestedState;
use courtyard_media::{MediaConfig, PlayOptions};
use courtyard_sip::sdp::LocalMedia;
use courtyard_sip::{DialogEvent, IncomingCall};
use courtyard_tts::{Lang, Speech};

use crate::app::Shared;

/// A state change requested by dialling a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureCode {
    /// `*20`.
    Logout,
    /// `*21`.
    Ready,
    /// `*22`.
    NotReady,
    /// `*23`.
    Break,
    /// `*24`.
    Login,
}

/// The feature code an INVITE asks for, if the caller is a registered agent phone dialling one.
pub fn recognise(shared: &Shared, call: &IncomingCall) -> Option<FeatureCode> {
    let code = match call.request_user().as_str() {
        "*20" => FeatureCode::Logout,
        "*21" => FeatureCode::Ready,
        "*22" => FeatureCode::NotReady,
        "*23" => FeatureCode::Break,
        "*24" => FeatureCode::Login,
        _ => return None,
    };
    let agent = call.from_user();
    if !shared.cfg.agents.iter().any(|a| a.extension == agent) {
        return None;
    }
    let from = call.source().ip();
    shared.sip.registrar().lookup(&agent).iter().any(|b| b.source.addr.ip() == from).then_some(code)
}

/// Applies the code for the calling agent, answers with a spoken confirmation and hangs up.
pub async fn handle(shared: Arc<Shared>, call: IncomingCall, code: FeatureCode) -> anyhow::Result<()> {
    let agent = call.from_user();
    let result = match code {
        FeatureCode::Ready => shared.acd.set_state(&agent, RequestedState::Ready).await,
        FeatureCode::NotReady => shared.acd.set_state(&agent, RequestedState::NotReady { reason: "示忙".into() }).await,
        FeatureCode::Break => shared.acd.set_state(&agent, RequestedState::Break).await,
        FeatureCode::Logout => shared.acd.agent_logout(&agent).await,
        FeatureCode::Login => shared.acd.agent_login(&agent, &agent).await,
    };
    let text = match (&result, code) {
        (Err(_), _) => "操作失败",
        (Ok(()), FeatureCode::Ready) => "已示闲",
        (Ok(()), FeatureCode::NotReady) => "已示忙",
        (Ok(()), FeatureCode::Break) => "小休开始",
        (Ok(()), FeatureCode::Logout) => "已签出",
        (Ok(()), FeatureCode::Login) => "已签入",
    };
    match &result {
        Ok(()) => tracing::info!(%agent, ?code, "agent state changed by feature code"),
        Err(e) => tracing::info!(%agent, ?code, error = %e, "feature code refused"),
    }
    shared.audit(&agent, "agent.feature-code", &agent, Some(format!("{code:?}: {text}"))).await;

    let media = match crate::media_rt::open(&shared.ports, MediaConfig::default()).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "no RTP port for the feature-code confirmation");
            // The change is applied; the phone just gets no spoken confirmation.
            call.reject(if result.is_ok() { 480 } else { 403 }, "No Confirmation").await;
            return Ok(());
        }
    };
    let local = LocalMedia::new(shared.rtp_ip(), media.local_addr().port());
    let (mut dialog, negotiated) = match call.answer(&local).await {
        Ok(x) => x,
        Err(e) => {
            media.close().await;
            return Err(e.into());
        }
    };
    if let Some((addr, codec, te)) = negotiated.and_then(|n| n.remote_rtp.map(|a| (a, n.codec, n.telephone_event))) {
        media.set_remote(addr, super::media_codec(codec), te);
    }
    let pcm = shared.tts.speak(Lang::Zh, &[Speech::Text(text.to_string())]).await;
    let hung_up = match pcm {
        Ok(pcm) => loop {
            tokio::select! {
                _ = media.play(pcm.clone(), PlayOptions { barge_in: false }) => break false,
                ev = dialog.next_event() => match ev {
                    Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => break true,
                    Some(DialogEvent::Refer { id, .. }) => dialog.decline_refer(id),
                    _ => {}
                },
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "feature-code confirmation could not be synthesized");
            false
        }
    };
    if !hung_up {
        let _ = dialog.hangup().await;
    }
    media.close().await;
    Ok(())
}
