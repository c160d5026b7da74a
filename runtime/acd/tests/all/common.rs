//! Test harness: an ACD on a manual clock with a scripted dialer the test answers by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use courtyard_acd::*;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Real-time guard so a broken test fails instead of hanging; never an assertion on speed.
pub const GUARD: Duration = Duration::from_secs(10);

/// Start of the manual clock: 2026-11-27 09:00 China time (01:00 UTC).
pub const T0: u64 = 1_795_741_200_000;

/// A ring the test decides the result of.
pub struct PendingRing {
    pub req: RingRequest,
    reply: oneshot::Sender<RingResult>,
}

impl PendingRing {
    pub fn agent(&self) -> &str {
        &self.req.agent_id
    }
    pub fn call_id(&self) -> &str {
        &self.req.call.call_id
    }
    pub fn answer(self) {
        let leg = AgentLeg::new(format!("leg-{}", self.req.extension));
        let _ = self.reply.send(RingResult::Answered(leg));
    }
    pub fn reject(self) {
        let _ = self.reply.send(RingResult::Rejected);
    }
    pub fn unreachable(self) {
        let _ = self.reply.send(RingResult::Unreachable);
    }
    /// True once the ACD dropped the ring (i.e. stopped the ringing).
    pub fn cancelled(&self) -> bool {
        self.reply.is_closed()
    }
}

pub struct ScriptedDialer {
    tx: mpsc::UnboundedSender<PendingRing>,
    pub released: AtomicUsize,
}

impl ScriptedDialer {
    /// A dialer and the stream of rings it receives.
    pub fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<PendingRing>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Arc::new(Self { tx, released: AtomicUsize::new(0) }), rx)
    }
}

impl AgentDialer for ScriptedDialer {
    fn ring(&self, req: RingRequest) -> BoxFuture<'static, RingResult> {
        let (reply, rx) = oneshot::channel();
        let _ = self.tx.send(PendingRing { req, reply });
        Box::pin(async move { rx.await.unwrap_or(RingResult::NoAnswer) })
    }
    fn release(&self, _leg: AgentLeg) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

pub struct Harness {
    pub acd: AcdHandle,
    pub clock: Arc<ManualClock>,
    pub rings: mpsc::UnboundedReceiver<PendingRing>,
    pub events: broadcast::Receiver<AcdEvent>,
    pub dialer: Arc<ScriptedDialer>,
}

impl Harness {
    pub fn new(cfg: AcdConfig) -> Self {
        Self::with_supervisor(cfg, Arc::new(NoSupervision))
    }

    pub fn with_supervisor(cfg: AcdConfig, sup: Arc<dyn SupervisorMedia>) -> Self {
        let clock = ManualClock::new(T0);
        let (tx, rings) = mpsc::unbounded_channel();
        let dialer = Arc::new(ScriptedDialer { tx, released: AtomicUsize::new(0) });
        let acd = Acd::spawn(cfg, clock.clone(), dialer.clone(), sup).expect("valid config");
        let events = acd.subscribe();
        Self { acd, clock, rings, events, dialer }
    }

    /// Let spawned tasks (ring results) reach the actor, then wait until it processed them.
    pub async fn settle(&self) {
        for _ in 0..3 {
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            self.acd.sync().await.expect("acd running");
        }
    }

    pub async fn advance(&self, secs: u64) {
        self.clock.advance_secs(secs);
        self.settle().await;
    }

    /// The next ring the ACD starts.
    pub async fn ring(&mut self) -> PendingRing {
        tokio::time::timeout(GUARD, self.rings.recv()).await.expect("a ring within the guard").expect("dialer alive")
    }

    /// Assert that no ring is pending now.
    pub async fn no_ring(&mut self) {
        self.settle().await;
        if let Ok(r) = self.rings.try_recv() {
            panic!("unexpected ring of agent {} for call {}", r.agent(), r.call_id());
        }
    }

    pub async fn login(&self, agents: &[(&str, &str)]) {
        for (a, ext) in agents {
            self.acd.agent_login(a, ext).await.expect("login");
        }
    }

    pub async fn enqueue(&self, call: CallRef, queue: &str) -> QueueTicket {
        self.acd.enqueue(call, queue).await.expect("enqueue")
    }

    /// Answer the ring and return the connected agent from the ticket.
    pub async fn answer(&self, ring: PendingRing, ticket: &mut QueueTicket) -> String {
        ring.answer();
        loop {
            match next_event(ticket).await {
                QueueEvent::Connected { agent_id, leg, .. } => {
                    assert!(leg.downcast::<String>().is_ok_and(|l| l.starts_with("leg-")));
                    return agent_id;
                }
                QueueEvent::Timeout | QueueEvent::Overflow { .. } => panic!("call left instead of connecting"),
                _ => {}
            }
        }
    }

    /// Serve a call completely: ring must go to `expect_agent`; answer; end; no wrap-up wait.
    pub async fn serve(&mut self, call: CallRef, queue: &str) -> String {
        let id = call.call_id.clone();
        let mut t = self.enqueue(call, queue).await;
        let r = self.ring().await;
        let agent = self.answer(r, &mut t).await;
        self.acd.call_ended(&id).await.expect("ended");
        self.settle().await;
        agent
    }

    pub async fn state(&self, agent: &str) -> AgentState {
        let snap = self.acd.snapshot().await.expect("snapshot");
        snap.agents.into_iter().find(|a| a.agent_id == agent).expect("agent exists").state
    }
}

pub async fn next_event(t: &mut QueueTicket) -> QueueEvent {
    tokio::time::timeout(GUARD, t.next()).await.expect("an event within the guard").expect("ticket open")
}

/// Drain everything already in the ticket.
pub fn drain(t: &mut QueueTicket) -> Vec<QueueEvent> {
    let mut v = Vec::new();
    while let Ok(e) = t.rx_try() {
        v.push(e);
    }
    v
}

/// Small extension: non-blocking read of a ticket, via a zero-time poll.
pub trait TryNext {
    fn rx_try(&mut self) -> Result<QueueEvent, ()>;
}

impl TryNext for QueueTicket {
    fn rx_try(&mut self) -> Result<QueueEvent, ()> {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let mut fut = std::pin::pin!(self.next());
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Some(e)) => Ok(e),
            _ => Err(()),
        }
    }
}

pub fn agent(id: &str) -> AgentConfig {
    AgentConfig::new(id)
}

pub fn queue(name: &str) -> QueueConfig {
    QueueConfig { wrap_up_secs: 0, announce: AnnounceConfig { enabled: false, ..Default::default() }, ..QueueConfig::new(name) }
}

pub fn config(queues: Vec<QueueConfig>, agents: Vec<AgentConfig>) -> AcdConfig {
    AcdConfig { queues, agents, ..Default::default() }
}

pub fn call(id: &str) -> CallRef {
    CallRef::new(id, format!("1380000{id}"))
}
