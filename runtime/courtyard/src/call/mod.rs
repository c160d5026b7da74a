//! One call through the runtime: the inbound handler, the plugin's view of the call, the queue
//! wait, the agent leg and the call record.

pub mod agent;
pub mod cdr_writer;
pub mod connect;
pub mod feature_codes;
pub mod inbound;
pub mod leg;
pub mod prompt;
pub mod queue;
pub mod record;
pub mod refer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use courtyard_acd::RingResult;
use courtyard_flows::wit::{CallError, NamedPrompt, QueueOutcome, Segment};
use courtyard_flows::{CallControl, CallOutcome, PolicyAction};
use courtyard_store::model::{Cdr, HangupSide, Recording};

use crate::app::Shared;
use leg::CallLeg;
use record::CallRecord;

/// Longest chain of fallback flows followed after plugin failures (a loop guard).
const MAX_FALLBACKS: usize = 3;

impl Shared {
    /// Runs the routed flow on an answered call, following fallback flows when a plugin fails;
    /// a flow that cannot run at all gets the default apology and the default queue.
    pub async fn run_flow(self: &Arc<Self>, flow: &str, leg: Arc<CallLeg>) {
        let mut flow = flow.to_string();
        for _ in 0..MAX_FALLBACKS {
            leg.record.lock().flow = Some(flow.clone());
            let info = courtyard_flows::CallControl::info(leg.as_ref());
            // A staged rollout picks its share of calls by Call-ID, or every call of its estates.
            let estate = self.call_estate(&info.caller, info.estate_id.as_deref());
            let pick = courtyard_flows::CallPick { key: &info.call_id, estate: estate.as_deref() };
            match self.flows.run_inbound_picked(&flow, leg.clone(), self.services.clone(), Some(&pick)).await {
                Ok(report) => {
                    leg.record.lock().plugin_version = Some(format!("{}@{}", report.plugin_version, report.version));
                    match report.outcome {
                        CallOutcome::Failed { failure, action } => {
                            tracing::warn!(%flow, kind = %failure.kind, message = %failure.message, "plugin failed; failure policy applied");
                            {
                                let mut r = leg.record.lock();
                                r.failure = Some(format!("{}: {}", failure.kind, failure.message));
                                r.cause.get_or_insert_with(|| format!("plugin-{}", failure.kind));
                            }
                            if let PolicyAction::FallbackFlow(next) = action {
                                flow = next;
                                continue;
                            }
                        }
                        CallOutcome::CallerHungUp => {
                            leg.record.lock().hangup_side.get_or_insert_with(|| "caller".into());
                        }
                        CallOutcome::Completed | CallOutcome::Outbound(_) => {}
                    }
                    return;
                }
                Err(e) => {
                    tracing::error!(%flow, error = %e, "flow cannot run; apologising and queueing the caller");
                    leg.record.lock().failure = Some(e.to_string());
                    let prompt = [Segment::Prompt(NamedPrompt {
                        key: courtyard_flows::policy::APOLOGY_PROMPT_KEY.into(),
                        fallback_text: "系统繁忙,正在为您转接人工客服".into(),
                    })];
                    if leg.say(&prompt, false).await.is_ok() {
                        let _ = leg.enqueue("default", 0).await;
                    }
                    return;
                }
            }
        }
        tracing::error!("fallback flows chained more than {MAX_FALLBACKS} times; ending the call");
    }

    /// The estate a call belongs to: the route's, else that of the caller's first unit (one
    /// service number serves many estates; the directory knows where a known caller lives).
    fn call_estate(&self, caller: &str, route_estate: Option<&str>) -> Option<String> {
        if let Some(e) = route_estate {
            return Some(e.to_string());
        }
        let residents = self.store.lookup_caller(caller).ok()?;
        let unit_id = residents.first()?.unit_ids.first()?.clone();
        self.store.get::<courtyard_store::model::Unit>(&unit_id).ok().flatten().map(|u| u.estate_id)
    }

    /// Puts the caller in an ACD queue and waits for the outcome (see [`queue::wait`]).
    pub async fn enqueue(self: &Arc<Self>, leg: &CallLeg, queue_name: &str, priority: u32) -> Result<QueueOutcome, CallError> {
        queue::wait(self, leg, queue_name, priority).await
    }

    /// Blind transfer: an agent extension is rung and bridged; other destinations need an
    /// outbound trunk, which this runtime does not have configured, so they are refused.
    pub async fn transfer(self: &Arc<Self>, leg: &CallLeg, target: &str) -> Result<(), CallError> {
        if target.is_empty() || target.len() > 20 || !target.chars().all(|c| c.is_ascii_digit()) {
            return Err(CallError::NotAllowed(format!(
                "transfer target '{target}' is not a plain number (only digits are dialled)"
            )));
        }
        if !self.cfg.agents.iter().any(|a| a.extension == target) {
            return Err(CallError::NotAllowed(format!(
                "transfer to '{target}' is refused: only agent extensions are reachable (no outbound trunk configured)"
            )));
        }
        leg.record.lock().vars.insert("transfer".into(), target.into());
        let dialer = agent::SipDialer::new(self.sip.clone(), self.ports.clone(), self.rtp_ip());
        let caller = leg.info().caller;
        let ring = dialer.ring_extension(target.into(), target.into(), caller, Duration::from_secs(30));
        let result = tokio::select! {
            r = ring => r,
            _ = leg.ended.cancelled() => return Err(CallError::Hangup),
        };
        match result {
            RingResult::Answered(agent_leg) => match agent_leg.downcast::<agent::AgentCall>() {
                Ok(agent_call) => {
                    connect::talk(self, leg, agent_call).await;
                    Ok(())
                }
                Err(_) => Err(CallError::Failed("internal: unexpected agent leg type".into())),
            },
            RingResult::NoAnswer => Err(CallError::Failed(format!("{target} did not answer"))),
            RingResult::Rejected => Err(CallError::Failed(format!("{target} declined the call"))),
            RingResult::Unreachable => Err(CallError::Failed(format!("{target} is not reachable (phone not registered?)"))),
        }
    }

    /// Stores a recording in the recordings index.
    pub async fn index_recording(&self, id: &str, path: &Path, duration_ms: u32, call_id: &str, kind: &str) -> anyhow::Result<()> {
        let rec = Recording {
            id: id.to_string(),
            call_id: Some(call_id.to_string()),
            // The store and the API take a plain file name inside the recordings directory.
            file: path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
            duration_ms,
            created_at: self.store.now(),
            mime: "audio/wav".into(),
            kind: kind.to_string(),
        };
        self.store.insert_recording(&rec).await?;
        Ok(())
    }

    /// Writes the call record at answer without holding the call up: the write (a store
    /// transaction and a durable flush, which waits for the disk) runs beside the flow. Pass the
    /// returned [`AnsweredCdr`] to [`Shared::cdr_finish`], which waits for it, so the finished
    /// record always lands after the answered one.
    ///
    /// Why not await it here: under load the flush waited for the disk and for a CPU, and every
    /// caller heard that wait as silence before the first prompt (docs/benchmarks.md, session 7).
    pub fn cdr_answered(self: &Arc<Self>, rec: &CallRecord) -> AnsweredCdr {
        let shared = self.clone();
        let rec = rec.clone();
        AnsweredCdr(tokio::spawn(async move { shared.cdr_write(&rec, false).await }))
    }

    /// Writes the finished call record once the answered one (if any) is stored.
    pub async fn cdr_finish(&self, answered: Option<AnsweredCdr>, rec: &CallRecord) {
        if let Some(AnsweredCdr(write)) = answered {
            let _ = write.await;
        }
        self.cdr_write(rec, true).await;
    }

    /// Writes the call record: once at answer (so a crash leaves a trace that recovery marks as
    /// interrupted) and again, complete, at the end.
    pub async fn cdr_write(&self, rec: &CallRecord, finished: bool) {
        let tz = self.store.now().timezone();
        let at = |ms: i64| tz.timestamp_millis_opt(ms).single();
        let Some(start) = at(rec.started_ms) else { return };
        let cdr = Cdr {
            call_id: rec.call_id.clone(),
            direction: rec.direction.clone(),
            caller: rec.caller.clone(),
            called: rec.called.clone(),
            start,
            answer: rec.answered_ms.and_then(at),
            end: if finished { rec.ended_ms.and_then(at) } else { None },
            flow: rec.flow.clone(),
            plugin_version: rec.plugin_version.clone(),
            ivr_path: rec.path.clone(),
            queue: rec.queue.clone(),
            agent: rec.agent.clone(),
            hangup_side: rec.hangup_side.as_deref().map(|s| match s {
                "caller" => HangupSide::Caller,
                "agent" => HangupSide::Callee,
                _ => HangupSide::System,
            }),
            hangup_cause: rec.cause.clone().or_else(|| rec.failure.clone()),
            recording_id: rec.recordings.last().cloned(),
            vars: rec.vars.clone(),
            interrupted: false,
        };
        // Keeping stored vars: an agent's wrap-up posted while the call was ending went to the
        // stored record, not to this in-memory one. Written in a group with other calls' records.
        if let Err(e) = self.cdrs.write(cdr).await {
            tracing::error!(error = %e, call_id = %rec.call_id, "call record could not be written");
        }
    }
}

/// The answered call record's write in flight ([`Shared::cdr_answered`]).
#[must_use = "pass it to Shared::cdr_finish, so the finished record is written after it"]
pub struct AnsweredCdr(tokio::task::JoinHandle<()>);

/// The media crate's codec for the one SIP negotiated (the two crates stay independent).
pub fn media_codec(c: courtyard_sip::Codec) -> courtyard_media::Codec {
    match c {
        courtyard_sip::Codec::Pcmu => courtyard_media::Codec::Pcmu,
        courtyard_sip::Codec::Pcma => courtyard_media::Codec::Pcma,
    }
}
