//! Agent-first outbound calls: click-to-call (外呼) and missed-call call-back (回拨).
//!
//! The agent's phone rings first, showing the number about to be called; when the agent answers,
//! the number is dialled through the trunk (after the dial-plan guard) and the two legs are
//! bridged until either side hangs up. Ringing the agent first means the callee never answers
//! into silence. The request returns as soon as the checks pass (the call id identifies the
//! CDR, written with direction "outbound", the agent and `vars.origin`).

use std::sync::Arc;

use courtyard_acd::RingResult;
use courtyard_media::bridge;
use courtyard_sip::DialogEvent;

use super::campaigns::API_RING_TIMEOUT;
use super::trunk::DialOutcome;
use crate::app::Shared;
use crate::call::agent::{AgentCall, SipDialer};
use crate::call::record::{CallRecord, now_ms};

/// Why a click-to-call could not start (mapped to HTTP statuses by the API).
#[derive(Debug, thiserror::Error)]
pub enum OriginateRefused {
    /// Destination refused by the dial-plan guard (audited).
    #[error("{0}")]
    DialPlan(String),
    /// Unknown agent, or agent phone not registered.
    #[error("{0}")]
    Agent(String),
    /// No trunk configured, or the trunk is down (OPTIONS keep-alive).
    #[error("{0}")]
    NoTrunk(String),
}

/// Why the call is made (stored in the CDR's `vars.origin`).
#[derive(Debug, Clone)]
pub enum Origin {
    /// Desktop click-to-call.
    ClickToCall,
    /// Call-back of a missed call (its call id); marked called back once the caller answers.
    MissedCallBack(String),
}

/// Checks the request and starts the call in the background; returns the new call's id.
pub async fn originate(shared: &Arc<Shared>, agent_id: &str, number: &str, actor: &str, origin: Origin) -> Result<String, OriginateRefused> {
    let number = super::check_destination(shared, number, actor).await.map_err(|r| OriginateRefused::DialPlan(r.to_string()))?;
    let Some(agent) = shared.cfg.agents.iter().find(|a| a.extension == agent_id) else {
        return Err(OriginateRefused::Agent(format!("no agent '{agent_id}'")));
    };
    let Some(trunk) = shared.outbound.trunk("") else {
        return Err(OriginateRefused::NoTrunk("no [[trunk]] is configured on this node".into()));
    };
    // A trunk the keep-alive found down: refuse now rather than ring the agent for nothing.
    if trunk.health.get().state == super::health::TrunkState::Down {
        return Err(OriginateRefused::NoTrunk(format!(
            "trunk down: '{}' answered none of its last {} OPTIONS keep-alives",
            trunk.cfg.name,
            super::health::DOWN_AFTER
        )));
    }
    if shared.sip.registrar().lookup(&agent.extension).is_empty() {
        return Err(OriginateRefused::Agent(format!("agent {agent_id}'s phone is not registered")));
    }
    let call_id = format!("out-{}", uuid::Uuid::new_v4().simple());
    let task = Call {
        shared: shared.clone(),
        call_id: call_id.clone(),
        agent_id: agent_id.to_string(),
        extension: agent.extension.clone(),
        number,
        actor: actor.to_string(),
        origin,
    };
    tokio::spawn(task.run());
    Ok(call_id)
}

struct Call {
    shared: Arc<Shared>,
    call_id: String,
    agent_id: String,
    extension: String,
    number: String,
    actor: String,
    origin: Origin,
}

impl Call {
    async fn run(self) {
        let shared = &self.shared;
        let trunk_caller = shared.outbound.trunk("").map(|t| t.cfg.caller_id.clone()).unwrap_or_default();
        let mut rec = CallRecord {
            call_id: self.call_id.clone(),
            caller: trunk_caller.clone(),
            called: self.number.clone(),
            direction: "outbound".into(),
            started_ms: now_ms(),
            agent: Some(self.agent_id.clone()),
            ..Default::default()
        };
        let origin = match &self.origin {
            Origin::ClickToCall => "click-to-call".to_string(),
            Origin::MissedCallBack(id) => format!("call-back:{id}"),
        };
        rec.vars.insert("origin".into(), origin);
        rec.vars.insert("requested_by".into(), self.actor.clone());

        let dialer = SipDialer::new(shared.sip.clone(), shared.ports.clone(), shared.rtp_ip());
        let ring = dialer.ring_extension(self.agent_id.clone(), self.extension.clone(), self.number.clone(), API_RING_TIMEOUT);
        let agent = match ring.await {
            RingResult::Answered(leg) => match leg.downcast::<AgentCall>() {
                Ok(a) => a,
                Err(_) => return self.finish(None, rec, "internal: unexpected agent leg").await,
            },
            other => {
                let why = match other {
                    RingResult::NoAnswer => "agent did not answer",
                    RingResult::Rejected => "agent declined",
                    _ => "agent unreachable",
                };
                return self.finish(None, rec, why).await;
            }
        };
        let actor = format!("agent:{}", self.agent_id);
        let outcome = super::dial_external(shared, "", &self.number, "", &actor, API_RING_TIMEOUT);
        // The agent hanging up while the number rings abandons the attempt (CANCEL on drop).
        let mut agent = agent;
        let outcome = tokio::select! {
            o = outcome => o,
            _ = wait_end(&mut agent) => {
                agent.media.close().await;
                return self.finish(None, rec, "agent hung up before the answer").await;
            }
        };
        let (mut callee, _slot) = match outcome {
            DialOutcome::Answered(c, slot) => (c, slot),
            DialOutcome::Busy => return self.not_connected(agent, rec, "busy".into()).await,
            DialOutcome::NoAnswer => return self.not_connected(agent, rec, "no-answer".into()).await,
            DialOutcome::Rejected { status, reason } => {
                return self.not_connected(agent, rec, format!("rejected {status} {reason}")).await;
            }
            DialOutcome::Failed(r) => return self.not_connected(agent, rec, format!("failed: {r}")).await,
        };
        rec.answered_ms = Some(now_ms());
        let answered = shared.cdr_answered(&rec);
        if let Origin::MissedCallBack(id) = &self.origin {
            if let Err(e) = shared.acd.mark_called_back(id).await {
                tracing::warn!(missed = %id, error = %e, "missed call could not be marked as called back");
            }
        }
        tracing::info!(call_id = %self.call_id, agent = %self.agent_id, "agent connected to the called number");
        let bridged = bridge(&agent.media, &callee.media);
        let side = tokio::select! {
            _ = wait_end(&mut agent) => "agent",
            _ = wait_end(&mut callee) => "caller",
        };
        drop(bridged);
        rec.hangup_side = Some(side.into());
        if side == "agent" {
            callee.release().await;
            agent.media.close().await;
        } else {
            agent.release().await;
            callee.media.close().await;
        }
        self.finish(Some(answered), rec, "").await;
    }

    async fn not_connected(&self, agent: AgentCall, rec: CallRecord, why: String) {
        agent.release().await;
        self.finish(None, rec, &why).await;
    }

    async fn finish(&self, answered: Option<crate::call::AnsweredCdr>, mut rec: CallRecord, cause: &str) {
        if !cause.is_empty() {
            tracing::info!(call_id = %self.call_id, cause, "outbound call not connected");
            rec.cause = Some(cause.to_string());
        }
        rec.ended_ms = Some(now_ms());
        self.shared.cdr_finish(answered, &rec).await;
    }
}

/// Waits until the leg's far end hangs up (BYE, dialog gone); relays INFO digits and re-INVITEs.
async fn wait_end(leg: &mut AgentCall) {
    loop {
        match leg.dialog.next_event().await {
            Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => return,
            Some(DialogEvent::Info(d)) => {
                let _ = leg.media.inject_dtmf(d);
            }
            Some(DialogEvent::Refer { id, .. }) => leg.dialog.decline_refer(id),
            Some(DialogEvent::ReInvite(n)) => {
                if let Some(a) = n.remote_rtp {
                    leg.media.set_remote(a, crate::call::media_codec(n.codec), n.telephone_event);
                }
            }
        }
    }
}
