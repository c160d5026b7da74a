//! A caller connected to an agent: bridge the audio, record the conversation, and wait until
//! either side hangs up — or the agent hands the caller on.
//!
//! Every bridged call is listed in [`Connections`] (by call id and agent), which is how the API
//! finds it: supervisors attach to its two media sessions (`crate::supervise`), and transfers
//! are [`Command`]s to the task that owns the bridge. A blind transfer ends the bridge and the
//! caller is taken on by [`serve`] (ring the extension, dial out, or back to the queue); an
//! attended transfer first bridges the agent to the consulted party while the caller hears hold
//! music, then either hands the caller over (`complete`) or returns to them (`cancel`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use courtyard_acd::RingResult;
use courtyard_acd::BoxFuture;
use courtyard_media::{BridgeHandle, MediaSession, RecordMode, bridge};
use courtyard_sip::DialogEvent;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::agent::{AgentCall, SipDialer};
use super::leg::CallLeg;
use super::queue::Hold;
use crate::app::Shared;

/// How long a transfer target's phone rings.
const TRANSFER_RING: Duration = Duration::from_secs(30);

/// Where an agent sends the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// Back into an ACD queue (keeps the caller's data and priority).
    Queue(String),
    /// Another agent's (or any registered) extension.
    Extension(String),
    /// An external number, dialled through a trunk after the dial-plan guard.
    External(String),
}

impl std::fmt::Display for TransferTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferTarget::Queue(q) => write!(f, "queue:{q}"),
            TransferTarget::Extension(e) => write!(f, "extension:{e}"),
            TransferTarget::External(n) => write!(f, "external:{n}"),
        }
    }
}

/// Requests to the task that owns a bridged call; each is answered once it took effect.
pub enum Command {
    /// Blind transfer: the agent leaves, the caller goes to the target.
    Blind(TransferTarget, oneshot::Sender<Result<(), String>>),
    /// Attended transfer, step 1: ring `extension` and, once answered, talk agent ⇄ extension
    /// while the caller holds. Answered when the consulted phone answers (or fails).
    Consult(String, oneshot::Sender<Result<(), String>>),
    /// Attended transfer, step 2: the consulted party takes the caller, the agent leaves.
    Complete(oneshot::Sender<Result<(), String>>),
    /// Attended transfer abandoned: the consulted party is hung up, the agent has the caller back.
    Cancel(oneshot::Sender<Result<(), String>>),
}

/// One bridged call as the API sees it.
pub struct Connection {
    /// The caller's call id.
    pub call_id: String,
    /// The caller's media session.
    pub caller_media: MediaSession,
    agent: Mutex<(String, MediaSession)>,
    /// Fires when this bridge is over (either side hung up, or the caller was handed on).
    pub ended: CancellationToken,
    commands: mpsc::UnboundedSender<Command>,
}

impl Connection {
    /// The agent (or transfer target) currently talking to the caller.
    pub fn agent_id(&self) -> String {
        self.agent.lock().0.clone()
    }

    /// The current agent's media session.
    pub fn agent_media(&self) -> MediaSession {
        self.agent.lock().1.clone()
    }

    /// Sends a command to the bridge's task and waits for its answer.
    pub async fn request(&self, make: impl FnOnce(oneshot::Sender<Result<(), String>>) -> Command) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).map_err(|_| "the call is no longer connected".to_string())?;
        rx.await.map_err(|_| "the call ended before the request took effect".to_string())?
    }
}

/// Bridged calls in progress, by call id. Cheap to clone.
#[derive(Clone, Default)]
pub struct Connections {
    inner: Arc<Mutex<HashMap<String, Arc<Connection>>>>,
}

impl Connections {
    /// The bridged call with this id.
    pub fn get(&self, call_id: &str) -> Option<Arc<Connection>> {
        self.inner.lock().get(call_id).cloned()
    }

    /// The bridged call this agent is talking on.
    pub fn by_agent(&self, agent_id: &str) -> Option<Arc<Connection>> {
        self.inner.lock().values().find(|c| c.agent_id() == agent_id).cloned()
    }

    fn insert(&self, c: Arc<Connection>) {
        self.inner.lock().insert(c.call_id.clone(), c);
    }

    fn remove(&self, call_id: &str) {
        self.inner.lock().remove(call_id);
    }
}

/// Who ended a bridged conversation.
pub enum EndedBy {
    /// The caller hung up.
    Caller,
    /// The agent hung up (or the agent leg failed).
    Agent,
    /// The agent transferred the caller blind; the agent leg is already released.
    Transfer(TransferTarget),
    /// Attended transfer completed: this consulted party now has the caller.
    Handover(AgentCall),
}

/// What [`serve`] leaves to its caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Served {
    /// The conversation is over.
    Done,
    /// The caller was transferred to this queue (the queue wait takes over).
    ToQueue(String),
}

/// Connects the caller to `agent` and follows transfers (to extensions, external numbers, and
/// attended hand-overs) until the conversation is over or the caller must go back to a queue.
/// `in_acd`: the call is connected in the ACD, which is told (`call_ended`, the agent enters
/// wrap-up) when the first agent hands the caller on to someone else.
pub async fn serve(shared: &Arc<Shared>, leg: &CallLeg, mut agent: AgentCall, in_acd: bool) -> Served {
    let mut acd_open = in_acd;
    // An external leg holds a trunk slot for as long as it talks.
    let mut _trunk_slot = None;
    loop {
        let next = match talk(shared, leg, agent).await {
            EndedBy::Caller | EndedBy::Agent => return Served::Done,
            EndedBy::Transfer(TransferTarget::Queue(q)) => return Served::ToQueue(q),
            EndedBy::Handover(next) => Ok(next),
            EndedBy::Transfer(target) => {
                let mut hold = Hold::start(leg);
                let r = tokio::select! {
                    r = reach(shared, leg, &target) => r,
                    _ = leg.ended.cancelled() => Err(String::new()),
                };
                hold.stop(leg);
                super::refer::outcome(leg.call_id(), r.as_ref().map(|_| ()).map_err(String::as_str));
                r.map(|(call, slot)| {
                    _trunk_slot = slot;
                    call
                })
            }
        };
        if acd_open {
            let _ = shared.acd.call_ended(leg.call_id()).await;
            acd_open = false;
        }
        match next {
            Ok(a) => agent = a,
            Err(why) => {
                if !leg.ended.is_cancelled() {
                    tracing::info!(%why, "transfer failed; ending the call");
                    leg.record.lock().vars.insert("transfer_failed".into(), why);
                    let _ = leg.say_text("转接失败,请稍后再拨。").await;
                }
                return Served::Done;
            }
        }
    }
}

/// Rings an extension or dials an external number for a transfer.
async fn reach(shared: &Arc<Shared>, leg: &CallLeg, target: &TransferTarget) -> Result<(AgentCall, Option<crate::outbound::trunk::TrunkSlot>), String> {
    let caller = courtyard_flows::CallControl::info(leg).caller;
    match target {
        TransferTarget::Extension(ext) => ring(shared, ext, &caller).await.map(|a| (a, None)),
        TransferTarget::External(number) => {
            let actor = format!("transfer:{}", leg.call_id());
            match crate::outbound::dial_external(shared, "", number, "", &actor, TRANSFER_RING).await {
                crate::outbound::trunk::DialOutcome::Answered(mut call, slot) => {
                    call.agent_id = number.clone();
                    Ok((call, Some(slot)))
                }
                crate::outbound::trunk::DialOutcome::Busy => Err(format!("{number} is busy")),
                crate::outbound::trunk::DialOutcome::NoAnswer => Err(format!("{number} did not answer")),
                crate::outbound::trunk::DialOutcome::Rejected { status, reason } => Err(format!("{number} refused ({status}): {reason}")),
                crate::outbound::trunk::DialOutcome::Failed(e) => Err(format!("{number}: {e}")),
            }
        }
        TransferTarget::Queue(q) => Err(format!("queue {q} is not dialled")),
    }
}

/// Rings a registered extension for a transfer or consultation.
pub async fn ring(shared: &Arc<Shared>, ext: &str, caller: &str) -> Result<AgentCall, String> {
    let dialer = SipDialer::new(shared.sip.clone(), shared.ports.clone(), shared.rtp_ip());
    match dialer.ring_extension(ext.to_string(), ext.to_string(), caller.to_string(), TRANSFER_RING).await {
        RingResult::Answered(l) => l.downcast::<AgentCall>().map_err(|_| "internal: unexpected leg type".to_string()),
        RingResult::NoAnswer => Err(format!("{ext} did not answer")),
        RingResult::Rejected => Err(format!("{ext} declined the call")),
        RingResult::Unreachable => Err(format!("{ext} is not reachable (phone not registered?)")),
    }
}

/// A consultation in progress (attended transfer).
struct Consult {
    call: AgentCall,
    _bridge: BridgeHandle,
}

/// Bridges the caller to an answered agent leg until one side hangs up or the agent hands the
/// caller on; records the conversation when recording is enabled. Returns why it ended.
pub async fn talk(shared: &Arc<Shared>, leg: &CallLeg, mut agent: AgentCall) -> EndedBy {
    let call_id = leg.call_id().to_string();
    leg.record.lock().agent = Some(agent.agent_id.clone());
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
    let (tx, mut commands) = mpsc::unbounded_channel();
    let conn = Arc::new(Connection {
        call_id: call_id.clone(),
        caller_media: leg.media().clone(),
        agent: Mutex::new((agent.agent_id.clone(), agent.media.clone())),
        ended: CancellationToken::new(),
        commands: tx,
    });
    shared.agent_calls.insert(conn.clone());
    let mut bridge_handle = Some(bridge(leg.media(), &agent.media));
    tracing::info!(agent = %agent.agent_id, "caller connected to agent");

    let mut consult: Option<Consult> = None;
    let mut ringing: Option<(BoxFuture<'static, Result<AgentCall, String>>, oneshot::Sender<Result<(), String>>)> = None;
    let mut hold: Option<Hold> = None;
    // The REFER id of a transfer asked for from the agent's phone.
    let mut by_phone = None;
    let ended_by = loop {
        tokio::select! {
            _ = leg.ended.cancelled() => break EndedBy::Caller,
            ev = agent.dialog.next_event() => match ev {
                Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => break EndedBy::Agent,
                Some(DialogEvent::ReInvite(n)) => {
                    if let Some(a) = n.remote_rtp { agent.media.set_remote(a, super::media_codec(n.codec), n.telephone_event); }
                }
                Some(DialogEvent::Info(d)) => { let _ = agent.media.inject_dtmf(d); }
                Some(DialogEvent::Refer { target, id, .. }) => {
                    // The transfer button on the agent's phone (call/refer.rs).
                    if consult.is_some() || ringing.is_some() { let _ = agent.dialog.notify_refer(id, 491); continue; }
                    if let Some(t) = super::refer::accept(shared, &agent, &call_id, &target, id).await {
                        leg.record.lock().vars.insert("transfer".into(), t.to_string());
                        by_phone = Some(id);
                        break EndedBy::Transfer(t);
                    }
                }
            },
            ev = async { match consult.as_mut() { Some(c) => c.call.dialog.next_event().await, None => std::future::pending().await } } => {
                match ev {
                    Some(DialogEvent::Bye) | Some(DialogEvent::Terminated(_)) | None => {
                        // The consulted party hung up: back to the caller.
                        if let Some(c) = consult.take() { c.call.media.close().await; }
                        if let Some(mut h) = hold.take() { h.stop(leg); }
                        bridge_handle = Some(bridge(leg.media(), &agent.media));
                    }
                    _ => {}
                }
            }
            r = async { match ringing.as_mut() { Some((f, _)) => f.await, None => std::future::pending().await } } => {
                let Some((_, reply)) = ringing.take() else { continue };
                match r {
                    Ok(call) => {
                        let b = bridge(&agent.media, &call.media);
                        tracing::info!(agent = %agent.agent_id, consulted = %call.agent_id, "agent consulting");
                        consult = Some(Consult { call, _bridge: b });
                        let _ = reply.send(Ok(()));
                    }
                    Err(e) => {
                        if let Some(mut h) = hold.take() { h.stop(leg); }
                        bridge_handle = Some(bridge(leg.media(), &agent.media));
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Some(cmd) = commands.recv() => match cmd {
                Command::Blind(target, reply) => {
                    if consult.is_some() || ringing.is_some() {
                        let _ = reply.send(Err("a consultation is in progress: complete or cancel it first".into()));
                        continue;
                    }
                    leg.record.lock().vars.insert("transfer".into(), target.to_string());
                    let _ = reply.send(Ok(()));
                    break EndedBy::Transfer(target);
                }
                Command::Consult(ext, reply) => {
                    if consult.is_some() || ringing.is_some() {
                        let _ = reply.send(Err("a consultation is already in progress".into()));
                        continue;
                    }
                    bridge_handle = None;
                    hold = Some(Hold::start(leg));
                    let dialer = SipDialer::new(shared.sip.clone(), shared.ports.clone(), shared.rtp_ip());
                    let ring = dialer.ring_extension(ext.clone(), ext.clone(), agent.agent_id.clone(), TRANSFER_RING);
                    let fut: BoxFuture<'static, Result<AgentCall, String>> = Box::pin(async move {
                        match ring.await {
                            RingResult::Answered(l) => l.downcast::<AgentCall>().map_err(|_| "internal: unexpected leg type".to_string()),
                            RingResult::NoAnswer => Err(format!("{ext} did not answer")),
                            RingResult::Rejected => Err(format!("{ext} declined the call")),
                            RingResult::Unreachable => Err(format!("{ext} is not reachable (phone not registered?)")),
                        }
                    });
                    ringing = Some((fut, reply));
                }
                Command::Complete(reply) => match consult.take() {
                    Some(c) => {
                        leg.record.lock().vars.insert("transfer".into(), format!("attended:{}", c.call.agent_id));
                        if let Some(mut h) = hold.take() { h.stop(leg); }
                        let _ = reply.send(Ok(()));
                        drop(c._bridge);
                        break EndedBy::Handover(c.call);
                    }
                    None => { let _ = reply.send(Err("no consultation to complete (consult first, and wait for the answer)".into())); }
                },
                Command::Cancel(reply) => {
                    if let Some(c) = consult.take() {
                        drop(c._bridge);
                        c.call.release().await;
                    } else if ringing.take().is_none() {
                        let _ = reply.send(Err("no consultation to cancel".into()));
                        continue;
                    }
                    if let Some(mut h) = hold.take() { h.stop(leg); }
                    bridge_handle = Some(bridge(leg.media(), &agent.media));
                    let _ = reply.send(Ok(()));
                }
            },
        }
    };
    shared.agent_calls.remove(&call_id);
    conn.ended.cancel();
    drop(bridge_handle);
    if let Some(mut h) = hold.take() {
        h.stop(leg);
    }
    if let Some(c) = consult.take() {
        c.call.release().await;
    }
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
    match &ended_by {
        EndedBy::Caller => {
            leg.record.lock().hangup_side.get_or_insert_with(|| "caller".into());
            agent.release().await;
        }
        EndedBy::Agent => {
            leg.record.lock().hangup_side.get_or_insert_with(|| "agent".into());
            agent.media.close().await;
        }
        EndedBy::Transfer(t) if let Some(id) = by_phone => super::refer::finish(agent, &call_id, matches!(t, TransferTarget::Queue(_)), id),
        EndedBy::Transfer(_) | EndedBy::Handover(_) => agent.release().await,
    }
    ended_by
}
