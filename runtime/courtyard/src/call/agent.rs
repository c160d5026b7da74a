//! Agents' phones for the ACD: ringing an agent over SIP (UAC INVITE to the registered contact)
//! and the answered agent leg that gets bridged to the caller.

use std::net::IpAddr;
use std::time::Duration;

use courtyard_acd::{AgentDialer, AgentLeg, BoxFuture, RingRequest, RingResult};
use courtyard_media::{MediaConfig, MediaSession, PortAllocator};
use courtyard_sip::sdp::LocalMedia;
use courtyard_sip::{CallProgress, Dialog, Endpoint, OutboundCall, OutboundInvite};

/// An agent's answered phone: its dialog and its RTP session.
pub struct AgentCall {
    /// Agent id (= extension in the demo).
    pub agent_id: String,
    /// The SIP dialog with the agent's phone.
    pub dialog: Dialog,
    /// The agent leg's media session.
    pub media: MediaSession,
}

impl AgentCall {
    /// Hangs up the agent's phone and frees the RTP port.
    pub async fn release(mut self) {
        let _ = self.dialog.hangup().await;
        self.media.close().await;
    }
}

/// Rings agents' registered phones through the SIP endpoint.
pub struct SipDialer {
    sip: Endpoint,
    ports: PortAllocator,
    rtp_ip: IpAddr,
}

impl SipDialer {
    /// A dialer using the runtime's endpoint and RTP ports.
    pub fn new(sip: Endpoint, ports: PortAllocator, rtp_ip: IpAddr) -> Self {
        SipDialer { sip, ports, rtp_ip }
    }

    /// Rings `extension` showing `caller` as the calling number; shared by the ACD and by blind
    /// transfers to an agent.
    pub fn ring_extension(
        &self,
        agent_id: String,
        extension: String,
        caller: String,
        timeout: Duration,
    ) -> BoxFuture<'static, RingResult> {
        let sip = self.sip.clone();
        let ports = self.ports.clone();
        let rtp_ip = self.rtp_ip;
        Box::pin(async move {
            let Some(binding) = sip.registrar().lookup(&extension).into_iter().next() else {
                tracing::info!(%extension, "agent phone not registered");
                return RingResult::Unreachable;
            };
            let media = match crate::media_rt::open(&ports, MediaConfig::default()).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "no RTP port for the agent leg");
                    return RingResult::Unreachable;
                }
            };
            let mut inv = OutboundInvite::new(binding.contact.clone(), caller, LocalMedia::new(rtp_ip, media.local_addr().port()));
            // Reach the phone where its REGISTER came from (NAT-friendly), over the same transport.
            inv.proxy = Some(binding.source.addr);
            inv.transport = binding.source.transport;
            let out = match sip.invite(inv).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::info!(error = %e, %extension, "cannot ring the agent");
                    media.close().await;
                    return RingResult::Unreachable;
                }
            };
            let mut guard = CancelOnDrop(Some(out));
            let result = tokio::time::timeout(timeout, async {
                let out = guard.0.as_mut().expect("present until taken");
                while let Some(p) = out.next().await {
                    match p {
                        CallProgress::Answered { dialog, negotiated } => return Ok((dialog, negotiated)),
                        CallProgress::Failed { status, reason } => return Err((status, reason)),
                        CallProgress::Trying | CallProgress::Ringing { .. } => {}
                    }
                }
                Err((0, "no answer".to_string()))
            })
            .await;
            match result {
                Ok(Ok((dialog, negotiated))) => {
                    guard.0.take();
                    let neg = negotiated.or_else(|| dialog.media());
                    match neg.and_then(|n| n.remote_rtp.map(|a| (a, n.codec, n.telephone_event))) {
                        Some((addr, codec, te)) => media.set_remote(addr, super::media_codec(codec), te),
                        None => tracing::warn!(%extension, "agent answered without usable SDP"),
                    }
                    tracing::info!(%extension, "agent answered");
                    RingResult::Answered(AgentLeg::new(AgentCall { agent_id, dialog, media }))
                }
                Ok(Err((status, reason))) => {
                    guard.0.take();
                    media.close().await;
                    tracing::info!(%extension, status, %reason, "agent did not take the call");
                    if matches!(status, 486 | 600 | 603) { RingResult::Rejected } else { RingResult::Unreachable }
                }
                Err(_) => {
                    // Ring timeout: the guard sends CANCEL.
                    drop(guard);
                    media.close().await;
                    RingResult::NoAnswer
                }
            }
        })
    }
}

/// Sends CANCEL for a still-ringing INVITE when the ring future is dropped (the ACD stops
/// ringing an agent when the caller leaves or another agent answered first).
struct CancelOnDrop(Option<OutboundCall>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(mut out) = self.0.take() {
            tokio::spawn(async move { out.cancel().await });
        }
    }
}

impl AgentDialer for SipDialer {
    fn ring(&self, req: RingRequest) -> BoxFuture<'static, RingResult> {
        self.ring_extension(req.agent_id, req.extension, req.call.caller, req.timeout)
    }

    fn release(&self, leg: AgentLeg) {
        if let Ok(call) = leg.downcast::<AgentCall>() {
            tokio::spawn(call.release());
        }
    }
}

/// The registrar's digest algorithms from `[sip] digest_algorithms` (names as in `algorithm=`).
pub fn digest_algorithms(names: &[String]) -> anyhow::Result<Vec<courtyard_sip::Algorithm>> {
    let mut out = Vec::new();
    for n in names {
        match courtyard_sip::Algorithm::from_token(Some(n)) {
            Some(a) if !out.contains(&a) => out.push(a),
            Some(_) => {}
            None => anyhow::bail!("[sip] digest_algorithms: '{n}' is not MD5 or SHA-256"),
        }
    }
    if out.is_empty() {
        anyhow::bail!("[sip] digest_algorithms is empty: name at least one of MD5, SHA-256");
    }
    Ok(out)
}
