//! Supervisor listen / whisper / barge: the ACD validates the request (the agent is on a call)
//! and hands it here; we ring the supervisor's registered phone (UAC INVITE, like ringing an
//! agent) and, once answered, link its media to the bridged call's two legs:
//!
//! | mode | supervisor hears | who hears the supervisor |
//! | --- | --- | --- |
//! | listen | caller and agent | nobody |
//! | whisper | caller and agent | the agent only |
//! | barge | caller and agent | both |
//!
//! The links live until the supervisor hangs up or the bridged call ends (then we hang up the
//! supervisor's phone). The HTTP request returns once the supervisor answered, so the console
//! knows the session is live.

use std::net::IpAddr;
use std::time::Duration;

use courtyard_acd::{BoxFuture, RingResult, SuperviseMode, SuperviseTarget, SupervisorMedia};
use courtyard_media::{AudioLink, PortAllocator, link_audio};
use courtyard_sip::{DialogEvent, Endpoint};

use crate::call::agent::{AgentCall, SipDialer};
use crate::call::connect::Connections;

/// How long the supervisor's phone rings before the request fails.
const SUPERVISOR_RING: Duration = Duration::from_secs(20);

/// Performs supervision media for the ACD on the runtime's bridged calls.
pub struct Supervisor {
    dialer: SipDialer,
    calls: Connections,
}

impl Supervisor {
    /// A supervisor using the runtime's SIP endpoint and RTP ports, attaching to `calls`.
    pub fn new(sip: Endpoint, ports: PortAllocator, rtp_ip: IpAddr, calls: Connections) -> Self {
        Supervisor { dialer: SipDialer::new(sip, ports, rtp_ip), calls }
    }
}

impl SupervisorMedia for Supervisor {
    fn supervise(&self, target: SuperviseTarget) -> BoxFuture<'static, Result<(), String>> {
        let calls = self.calls.clone();
        let ext = target.request.supervisor_extension.clone();
        let mode = target.request.mode;
        // The supervisor's phone shows what it is about: "listen-8001".
        let shown = format!("{}-{}", mode_name(mode), target.request.agent_id);
        let ring = self.dialer.ring_extension(ext.clone(), ext.clone(), shown, SUPERVISOR_RING);
        Box::pin(async move {
            if calls.get(&target.call_id).is_none() {
                return Err(format!("call {} is not bridged to an agent yet", target.call_id));
            }
            let sup = match ring.await {
                RingResult::Answered(l) => l.downcast::<AgentCall>().map_err(|_| "internal: unexpected leg type".to_string())?,
                RingResult::NoAnswer => return Err(format!("the supervisor's phone {ext} did not answer")),
                RingResult::Rejected => return Err(format!("the supervisor's phone {ext} declined")),
                RingResult::Unreachable => return Err(format!("the supervisor's phone {ext} is not registered")),
            };
            // The call may have ended while the supervisor's phone rang.
            let Some(conn) = calls.get(&target.call_id) else {
                sup.release().await;
                return Err(format!("call {} ended before the supervisor answered", target.call_id));
            };
            let agent = conn.agent_media();
            let mut links: Vec<AudioLink> = vec![link_audio(&conn.caller_media, &sup.media), link_audio(&agent, &sup.media)];
            match mode {
                SuperviseMode::Listen => {}
                SuperviseMode::Whisper => links.push(link_audio(&sup.media, &agent)),
                SuperviseMode::Barge => {
                    links.push(link_audio(&sup.media, &agent));
                    links.push(link_audio(&sup.media, &conn.caller_media));
                }
            }
            tracing::info!(call_id = %target.call_id, agent = %target.request.agent_id, supervisor = %ext, mode = mode_name(mode), "supervisor attached");
            tokio::spawn(async move {
                let mut sup = sup;
                let supervisor_left = loop {
                    tokio::select! {
                        _ = conn.ended.cancelled() => break false,
                        ev = sup.dialog.next_event() => match ev {
                            Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => break true,
                            Some(DialogEvent::ReInvite(n)) => {
                                if let Some(a) = n.remote_rtp { sup.media.set_remote(a, crate::call::media_codec(n.codec), n.telephone_event); }
                            }
                            Some(DialogEvent::Info(_)) => {}
                            Some(DialogEvent::Refer { id, .. }) => sup.dialog.decline_refer(id),
                        },
                    }
                };
                drop(links);
                tracing::info!(call_id = %conn.call_id, supervisor_left, "supervision ended");
                if supervisor_left {
                    sup.media.close().await;
                } else {
                    sup.release().await;
                }
            });
            Ok(())
        })
    }
}

fn mode_name(m: SuperviseMode) -> &'static str {
    match m {
        SuperviseMode::Listen => "listen",
        SuperviseMode::Whisper => "whisper",
        SuperviseMode::Barge => "barge",
    }
}
