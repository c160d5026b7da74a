//! A scriptable call for host tests: scripted digits, optional gate that holds every collect
//! until released (to keep calls mid-flow), and a record of what was said.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use courtyard_flows::simulator::render;
use courtyard_flows::wit::{
    CallError, CallInfo, CollectEnd, CollectOptions, Collected, Direction, QueueOutcome, RecordOptions, Recording,
    Segment,
};
use courtyard_flows::{CallControl, FlowFailure};
use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};

/// One test call.
pub struct TestCall {
    pub id: String,
    pub caller: String,
    pub said: Mutex<Vec<String>>,
    pub digits: Mutex<VecDeque<String>>,
    pub enqueued: Mutex<Vec<String>>,
    pub failures: Mutex<Vec<String>>,
    pub marks: Mutex<Vec<String>>,
    /// When set, each collect first waits for a permit.
    pub gate: Option<Arc<Semaphore>>,
    /// Signalled when a collect starts waiting at the gate.
    pub parked: Option<Arc<Notify>>,
    pub hung_up: Mutex<bool>,
}

impl TestCall {
    pub fn new(id: impl Into<String>, digits: &[&str]) -> Arc<Self> {
        Arc::new(Self::build(id.into(), digits, None, None))
    }

    pub fn gated(id: impl Into<String>, digits: &[&str], gate: Arc<Semaphore>, parked: Arc<Notify>) -> Arc<Self> {
        Arc::new(Self::build(id.into(), digits, Some(gate), Some(parked)))
    }

    fn build(id: String, digits: &[&str], gate: Option<Arc<Semaphore>>, parked: Option<Arc<Notify>>) -> Self {
        TestCall {
            id,
            caller: "13800138000".into(),
            said: Mutex::new(Vec::new()),
            digits: Mutex::new(digits.iter().map(|d| d.to_string()).collect()),
            enqueued: Mutex::new(Vec::new()),
            failures: Mutex::new(Vec::new()),
            marks: Mutex::new(Vec::new()),
            gate,
            parked,
            hung_up: Mutex::new(false),
        }
    }

    pub fn said(&self) -> Vec<String> {
        self.said.lock().clone()
    }
}

#[async_trait]
impl CallControl for TestCall {
    fn info(&self) -> CallInfo {
        CallInfo {
            call_id: self.id.clone(),
            caller: self.caller.clone(),
            called: "4008123456".into(),
            direction: Direction::Inbound,
            estate_id: None,
            language: "zh".into(),
        }
    }
    async fn answer(&self) -> Result<(), CallError> {
        Ok(())
    }
    async fn say(&self, prompt: &[Segment], _barge_in: bool) -> Result<(), CallError> {
        if *self.hung_up.lock() {
            return Err(CallError::Hangup);
        }
        self.said.lock().push(render("zh", prompt));
        Ok(())
    }
    async fn collect(&self, prompt: &[Segment], _o: &CollectOptions) -> Result<Collected, CallError> {
        self.said.lock().push(render("zh", prompt));
        if let (Some(gate), Some(parked)) = (&self.gate, &self.parked) {
            parked.notify_one();
            let permit = gate.acquire().await.map_err(|_| CallError::Hangup)?;
            permit.forget();
        }
        match self.digits.lock().pop_front() {
            Some(d) => Ok(Collected { digits: d, ended_by: CollectEnd::MaxDigits }),
            None => Err(CallError::Hangup),
        }
    }
    async fn record(&self, _o: &RecordOptions) -> Result<Recording, CallError> {
        Ok(Recording { id: "rec-1".into(), duration_ms: 1000 })
    }
    async fn transfer(&self, _t: &str) -> Result<(), CallError> {
        Ok(())
    }
    async fn enqueue(&self, queue: &str, _p: u32) -> Result<QueueOutcome, CallError> {
        self.enqueued.lock().push(queue.to_string());
        Ok(QueueOutcome::Answered("8001".into()))
    }
    async fn hangup(&self) {
        *self.hung_up.lock() = true;
    }
    async fn set_var(&self, _n: &str, _v: &str) {}
    async fn get_var(&self, _n: &str) -> Option<String> {
        None
    }
    async fn mark(&self, node: &str) {
        self.marks.lock().push(node.to_string());
    }
    async fn flow_failed(&self, failure: &FlowFailure) {
        self.failures.lock().push(failure.to_string());
    }
}
