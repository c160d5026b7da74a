//! Benchmark: time from `enqueue` (or from an agent becoming free) to the dialer's `ring` call,
//! with 50 agents and 200 callers waiting.
//!
//! `cargo run --release -p courtyard-acd --example bench-acd [-- N]`
//!
//! Three scenarios, real tokio clock, a dialer that answers at once:
//! 1. **enqueue → ring, 200 waiting**: 25 agents of "complaints" are all on calls with 200 callers
//!    waiting behind them (every routing pass walks those 200); 25 "repairs" agents are free. Each
//!    new repairs caller is timed from `enqueue` to `ring` of a repairs agent, one at a time.
//! 2. **agent free → ring, 200 waiting**: 50 agents all busy, 200 waiting in one queue. An agent's
//!    call ends (`call_ended`, no wrap-up) and the time to ringing them with the next caller is
//!    measured; a new caller joins each time so 200 keep waiting.
//! 3. **burst**: 250 callers enqueued at once with 50 ready agents; enqueue → ring of the first 50.

use std::sync::Arc;
use std::time::{Duration, Instant};

use courtyard_acd::*;
use tokio::sync::mpsc;

struct BenchDialer {
    rings: mpsc::UnboundedSender<(String, Instant)>,
}

impl AgentDialer for BenchDialer {
    fn ring(&self, req: RingRequest) -> BoxFuture<'static, RingResult> {
        let _ = self.rings.send((req.call.call_id.clone(), Instant::now()));
        Box::pin(async { RingResult::Answered(AgentLeg::new(())) })
    }
    fn release(&self, _leg: AgentLeg) {}
}

fn quiet(name: &str, skill: &str) -> QueueConfig {
    QueueConfig {
        skills: vec![SkillReq::new(skill, 1)],
        wrap_up_secs: 0,
        announce: AnnounceConfig { enabled: false, ..Default::default() },
        ..QueueConfig::new(name)
    }
}

fn spawn(cfg: AcdConfig) -> (AcdHandle, mpsc::UnboundedReceiver<(String, Instant)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let acd = Acd::spawn(cfg, TokioClock::new(), Arc::new(BenchDialer { rings: tx }), Arc::new(NoSupervision))
        .unwrap_or_else(|e| panic!("bench config: {e}"));
    (acd, rx)
}

async fn connected(t: &mut QueueTicket) {
    while let Some(ev) = t.next().await {
        if matches!(ev, QueueEvent::Connected { .. }) {
            return;
        }
    }
    panic!("ticket {} closed without connecting", t.call_id);
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let pct = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    let mean = v.iter().sum::<Duration>() / v.len() as u32;
    println!(
        "{name:<38} n={:<6} p50={:>7.1} µs  p99={:>7.1} µs  max={:>8.1} µs  mean={:>7.1} µs",
        v.len(),
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        v[v.len() - 1].as_secs_f64() * 1e6,
        mean.as_secs_f64() * 1e6
    );
}

async fn enqueue_with_200_waiting(n: usize) -> Vec<Duration> {
    let mut agents = Vec::new();
    for i in 0..50 {
        let skill = if i < 25 { "投诉" } else { "报修" };
        agents.push(AgentConfig::new(format!("a{i}")).skill(skill, 5));
    }
    let cfg = AcdConfig { queues: vec![quiet("complaints", "投诉"), quiet("repairs", "报修")], agents, ..Default::default() };
    let (acd, mut rings) = spawn(cfg);
    for i in 0..50 {
        acd.agent_login(&format!("a{i}"), &format!("8{i:03}")).await.expect("login");
    }
    // 25 complaint calls occupy the 25 complaint agents; 200 more wait behind them.
    let mut held = Vec::new();
    for i in 0..225 {
        let mut t = acd.enqueue(CallRef::new(format!("c{i}"), format!("139{i:08}")), "complaints").await.expect("enqueue");
        if i < 25 {
            rings.recv().await.expect("ring");
            connected(&mut t).await;
        }
        held.push(t);
    }
    let snap = acd.snapshot().await.expect("snapshot");
    assert_eq!(snap.queues[0].waiting, 200, "200 callers waiting");
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("r{i}");
        let t0 = Instant::now();
        let mut t = acd.enqueue(CallRef::new(id.clone(), "13800000000"), "repairs").await.expect("enqueue");
        let (rung, at) = rings.recv().await.expect("ring");
        assert_eq!(rung, id);
        lat.push(at - t0);
        connected(&mut t).await;
        acd.call_ended(&id).await.expect("end");
    }
    lat
}

async fn agent_free_with_200_waiting(n: usize) -> Vec<Duration> {
    let agents = (0..50).map(|i| AgentConfig::new(format!("a{i}")).skill("报修", 5)).collect();
    let cfg = AcdConfig { queues: vec![quiet("repairs", "报修")], agents, ..Default::default() };
    let (acd, mut rings) = spawn(cfg);
    for i in 0..50 {
        acd.agent_login(&format!("a{i}"), &format!("8{i:03}")).await.expect("login");
    }
    let mut tickets = std::collections::HashMap::new();
    let mut next = 0usize;
    let enqueue = async |next: &mut usize, tickets: &mut std::collections::HashMap<String, QueueTicket>| {
        let id = format!("w{next}");
        *next += 1;
        let t = acd.enqueue(CallRef::new(id.clone(), "13800000000"), "repairs").await.expect("enqueue");
        tickets.insert(id, t);
    };
    for _ in 0..250 {
        enqueue(&mut next, &mut tickets).await;
    }
    // The first 50 are rung and connected; 200 wait.
    let mut on_call = std::collections::VecDeque::new();
    for _ in 0..50 {
        let (id, _) = rings.recv().await.expect("ring");
        connected(tickets.get_mut(&id).expect("ticket")).await;
        on_call.push_back(id);
    }
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let done = on_call.pop_front().expect("a call to end");
        tickets.remove(&done);
        let t0 = Instant::now();
        acd.call_ended(&done).await.expect("end");
        let (id, at) = rings.recv().await.expect("ring");
        lat.push(at - t0);
        connected(tickets.get_mut(&id).expect("ticket")).await;
        on_call.push_back(id);
        enqueue(&mut next, &mut tickets).await; // keep 200 waiting
    }
    let snap = acd.snapshot().await.expect("snapshot");
    assert_eq!(snap.queues[0].waiting, 200);
    lat
}

async fn burst() -> Vec<Duration> {
    let agents = (0..50).map(|i| AgentConfig::new(format!("a{i}")).skill("报修", 5)).collect();
    let cfg = AcdConfig { queues: vec![quiet("repairs", "报修")], agents, ..Default::default() };
    let (acd, mut rings) = spawn(cfg);
    for i in 0..50 {
        acd.agent_login(&format!("a{i}"), &format!("8{i:03}")).await.expect("login");
    }
    let mut sent = std::collections::HashMap::new();
    let mut tickets = Vec::new();
    for i in 0..250 {
        let id = format!("b{i}");
        sent.insert(id.clone(), Instant::now());
        tickets.push(acd.enqueue(CallRef::new(id, "13800000000"), "repairs").await.expect("enqueue"));
    }
    let mut lat = Vec::new();
    for _ in 0..50 {
        let (id, at) = rings.recv().await.expect("ring");
        lat.push(at - sent[&id]);
    }
    lat
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5_000);
    println!("courtyard-acd bench: 50 agents, 200 callers waiting, real tokio clock, 2 worker threads");
    let t = Instant::now();
    report("enqueue -> ring (200 waiting elsewhere)", enqueue_with_200_waiting(n).await);
    report("agent free -> ring (200 waiting)", agent_free_with_200_waiting(n).await);
    report("burst of 250: enqueue -> ring (first 50)", burst().await);
    println!("total {:.2} s", t.elapsed().as_secs_f64());
}
