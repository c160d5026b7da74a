//! The ACD actor and its handle: the only way the rest of the runtime talks to the ACD.
//!
//! One tokio task owns all ACD state (the router). Handle methods are messages to that task, so
//! routing decisions never race each other and no lock is held across an `.await`. The task
//! sleeps until the earliest timer or the next message; ring attempts run as their own tasks
//! (many agents ring at once) and report back as messages.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::agent::{AgentConfig, RequestedState};
use crate::clock::{BoxFuture, Clock};
use crate::config::AcdConfig;
use crate::dialer::{AgentDialer, RingResult};
use crate::error::AcdError;
use crate::events::AcdEvent;
use crate::missed::MissedCall;
use crate::queue::{CallRef, QueueTicket};
use crate::router::{Effect, Router};
use crate::stats::{AcdSnapshot, AgentKpis, QueueKpis, Window};
use crate::supervisor::{SuperviseRequest, SupervisorMedia};

type Job = Box<dyn FnOnce(&mut Router, u64) + Send>;

/// Entry point: builds the router and starts the actor.
#[derive(Debug)]
pub struct Acd;

impl Acd {
    /// Validate `config` and start the ACD on the current tokio runtime.
    ///
    /// `dialer` rings agents' phones; `supervisor` performs listen/whisper/barge media
    /// ([`NoSupervision`](crate::supervisor::NoSupervision) refuses them).
    pub fn spawn(
        config: AcdConfig,
        clock: Arc<dyn Clock>,
        dialer: Arc<dyn AgentDialer>,
        supervisor: Arc<dyn SupervisorMedia>,
    ) -> Result<AcdHandle, AcdError> {
        let (events, _) = broadcast::channel(config.event_capacity.max(16));
        let router = Router::new(config, clock.now_ms(), events.clone())?;
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(run(router, rx, clock.clone(), dialer));
        Ok(AcdHandle { tx, events, supervisor, clock })
    }
}

async fn run(mut router: Router, mut jobs: mpsc::UnboundedReceiver<Job>, clock: Arc<dyn Clock>, dialer: Arc<dyn AgentDialer>) {
    let (ring_tx, mut ring_rx) = mpsc::unbounded_channel::<(String, u64, RingResult)>();
    let mut rings: HashMap<u64, AbortHandle> = HashMap::new();
    loop {
        let sleep: BoxFuture<'static, ()> = match router.next_deadline() {
            Some(at) => clock.sleep_until(at),
            None => Box::pin(std::future::pending()),
        };
        tokio::select! {
            biased;
            _ = sleep => router.fire_timers(clock.now_ms()),
            Some((call_id, attempt, result)) = ring_rx.recv() => {
                rings.remove(&attempt);
                router.ring_done(&call_id, attempt, result, clock.now_ms());
            }
            job = jobs.recv() => match job {
                Some(job) => job(&mut router, clock.now_ms()),
                None => break,
            },
        }
        for effect in router.take_effects() {
            match effect {
                Effect::Ring(req) => {
                    let (attempt, call_id) = (req.attempt, req.call.call_id.clone());
                    let ring = dialer.ring(*req);
                    let tx = ring_tx.clone();
                    let task = tokio::spawn(async move {
                        let result = ring.await;
                        let _ = tx.send((call_id, attempt, result));
                    });
                    rings.insert(attempt, task.abort_handle());
                }
                Effect::CancelRing(attempt) => {
                    if let Some(task) = rings.remove(&attempt) {
                        task.abort();
                    }
                }
                Effect::Release(leg) => dialer.release(leg),
            }
        }
    }
    for task in rings.into_values() {
        task.abort();
    }
    tracing::info!("ACD stopped: every handle was dropped");
}

/// Cheap, cloneable handle to the running ACD. The ACD stops when the last handle is dropped.
#[derive(Clone)]
pub struct AcdHandle {
    tx: mpsc::UnboundedSender<Job>,
    events: broadcast::Sender<AcdEvent>,
    supervisor: Arc<dyn SupervisorMedia>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AcdHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AcdHandle")
    }
}

impl AcdHandle {
    async fn ask<R: Send + 'static>(&self, f: impl FnOnce(&mut Router, u64) -> R + Send + 'static) -> Result<R, AcdError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |router, now| {
            let _ = tx.send(f(router, now));
        });
        self.tx.send(job).map_err(|_| AcdError::Stopped)?;
        rx.await.map_err(|_| AcdError::Stopped)
    }

    /// Live ACD events (wallboard, screen-pop). Subscribe before acting to see every event.
    pub fn subscribe(&self) -> broadcast::Receiver<AcdEvent> {
        self.events.subscribe()
    }

    /// The clock the ACD runs on (timestamps in events use it).
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Put a call in `queue`. The ticket streams position, announcements, offers and the outcome.
    pub async fn enqueue(&self, call: CallRef, queue: &str) -> Result<QueueTicket, AcdError> {
        let queue = queue.to_string();
        self.ask(move |r, now| r.enqueue(call, &queue, now)).await?
    }

    /// The caller hung up while queued (abandon; recorded as a missed call). On a connected call
    /// this is the same as [`call_ended`](Self::call_ended).
    pub async fn caller_left(&self, call_id: &str) -> Result<(), AcdError> {
        let id = call_id.to_string();
        self.ask(move |r, now| r.caller_left(&id, now)).await?
    }

    /// The caller chose the in-queue callback / voicemail option: recorded as a callback request
    /// (a missed call to return, not an abandon). With `keep_place` the request keeps the
    /// caller's place in line: when its turn comes an agent is rung (`RingRequest::callback`)
    /// and the ticket — keep it — gets `Connected`, so the runtime dials the caller back from
    /// the agent's leg. `caller_left` cancels a kept-place callback.
    pub async fn request_callback(&self, call_id: &str, keep_place: bool) -> Result<(), AcdError> {
        let id = call_id.to_string();
        self.ask(move |r, now| r.request_callback(&id, keep_place, now)).await?
    }

    /// The bridged caller ⇄ agent call ended (either side hung up): the agent enters 话后.
    pub async fn call_ended(&self, call_id: &str) -> Result<(), AcdError> {
        let id = call_id.to_string();
        self.ask(move |r, now| r.call_ended(&id, now)).await?
    }

    /// An agent transfers the connected call to a queue: the agent enters wrap-up, the caller is
    /// queued again (same caller data and priority) and the returned ticket follows the new wait.
    pub async fn transfer_to_queue(&self, call_id: &str, queue: &str) -> Result<QueueTicket, AcdError> {
        let (id, q) = (call_id.to_string(), queue.to_string());
        self.ask(move |r, now| r.transfer_to_queue(&id, &q, now)).await?
    }

    /// The agent put the connected call on hold (`true`) or resumed it (`false`).
    pub async fn hold(&self, call_id: &str, on: bool) -> Result<(), AcdError> {
        let id = call_id.to_string();
        self.ask(move |r, now| r.hold(&id, on, now)).await?
    }

    /// Log an agent in at a SIP extension; the agent becomes ready (示闲).
    pub async fn agent_login(&self, agent_id: &str, extension: &str) -> Result<(), AcdError> {
        let (id, ext) = (agent_id.to_string(), extension.to_string());
        self.ask(move |r, now| r.login(&id, &ext, now)).await?
    }

    /// Log an agent out (after the current call, if any).
    pub async fn agent_logout(&self, agent_id: &str) -> Result<(), AcdError> {
        let id = agent_id.to_string();
        self.ask(move |r, now| r.logout(&id, now)).await?
    }

    /// 示闲 / 示忙 (with reason) / 小休. During a call the change applies after it.
    pub async fn set_state(&self, agent_id: &str, state: RequestedState) -> Result<(), AcdError> {
        let id = agent_id.to_string();
        self.ask(move |r, now| r.set_state(&id, state, now)).await?
    }

    /// Add an agent or update their profile (skills, wrap-up).
    pub async fn upsert_agent(&self, agent: AgentConfig) -> Result<(), AcdError> {
        if agent.id.is_empty() {
            return Err(AcdError::InvalidConfig("agent id is empty".into()));
        }
        self.ask(move |r, now| r.upsert_agent(agent, now)).await
    }

    /// Seed the sticky-agent memory (caller number → agent who served them), e.g. from CDRs.
    pub async fn remember_agent(&self, caller: &str, agent_id: &str) -> Result<(), AcdError> {
        let (c, a) = (caller.to_string(), agent_id.to_string());
        self.ask(move |r, _| r.remember_agent(&c, &a)).await?
    }

    /// Listen / whisper / barge on an agent's current call (performed by the `SupervisorMedia`).
    pub async fn supervise(&self, request: SuperviseRequest) -> Result<(), AcdError> {
        let target = self.ask(move |r, _| r.supervise_target(request)).await??;
        let (mode, sup, agent_id, call_id) = (
            target.request.mode,
            target.request.supervisor_extension.clone(),
            target.request.agent_id.clone(),
            target.call_id.clone(),
        );
        self.supervisor.supervise(target).await.map_err(AcdError::Supervision)?;
        let _ = self.events.send(AcdEvent::SupervisionStarted {
            at_ms: self.clock.now_ms(),
            mode,
            supervisor_extension: sup,
            agent_id,
            call_id,
        });
        Ok(())
    }

    /// Current 1-based position and estimated wait (seconds) of a queued call.
    pub async fn position(&self, call_id: &str) -> Result<Option<(usize, u64)>, AcdError> {
        let id = call_id.to_string();
        self.ask(move |r, _| r.position(&id)).await
    }

    /// Queues and agents right now, with today's KPIs (wallboard first paint).
    pub async fn snapshot(&self) -> Result<AcdSnapshot, AcdError> {
        self.ask(|r, now| r.snapshot(now)).await
    }

    /// KPIs of one queue (`Some`) or all queues (`None`) over a window.
    pub async fn queue_kpis(&self, queue: Option<&str>, window: Window) -> Result<QueueKpis, AcdError> {
        let q = queue.map(str::to_string);
        self.ask(move |r, _| r.queue_kpis(q.as_deref(), window)).await?
    }

    /// KPIs and totals of one agent over a window.
    pub async fn agent_kpis(&self, agent_id: &str, window: Window) -> Result<AgentKpis, AcdError> {
        let id = agent_id.to_string();
        self.ask(move |r, now| r.agent_kpis(&id, window, now)).await?
    }

    /// Missed calls (未接来电), newest first; `only_open` hides those already called back.
    pub async fn missed_calls(&self, only_open: bool) -> Result<Vec<MissedCall>, AcdError> {
        self.ask(move |r, _| r.missed_calls(only_open)).await
    }

    /// Mark a missed call as called back.
    pub async fn mark_called_back(&self, call_id: &str) -> Result<(), AcdError> {
        let id = call_id.to_string();
        self.ask(move |r, _| r.mark_called_back(&id)).await?
    }

    /// Wait until the ACD has processed everything sent before (and any timers now due).
    pub async fn sync(&self) -> Result<(), AcdError> {
        self.ask(|_, _| ()).await
    }
}
