//! The dialer's brain: one actor task per campaign that decides who to call and when.
//!
//! Each turn the actor picks the pending target due earliest and places its call only when all
//! rules allow it: fewer than `max_concurrent` calls in progress, at least `1000 / calls_per_second`
//! ms since the previous call started, the calling window open (a retry due at 19:59:59 waits for
//! 09:00 tomorrow) and the number not on the do-not-call list. Otherwise it sleeps on the injected
//! [`Clock`] until the earliest moment something could change, or until a call ends or the operator
//! pauses/resumes/cancels. Every change is written through the [`CampaignStore`] so a restart
//! resumes the campaign; a call that was in progress during a crash counts as a failed attempt.

use std::collections::BTreeSet;
use std::mem;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use crate::campaign::{CallingWindow, CampaignConfig, RetryRule, normalize_number};
use crate::clock::Clock;
use crate::dialer::{AttemptKind, CallPlacer, PlaceRequest, PlaceResult};
use crate::error::CampaignError;
use crate::result::{Attempt, Progress, RunState, TargetRecord, TargetResult, TargetState, progress_of};
use crate::store::{CampaignStore, StoredCampaign};

/// Extra time past the ring timeout before the scheduler gives up on a placer that never answers.
pub const PLACE_GUARD: Duration = Duration::from_secs(10);

enum Command {
    Pause,
    Resume,
    Cancel,
    AddDnc(String),
    Shutdown(tokio::sync::oneshot::Sender<()>),
}

/// How an attempt ended, as the call task reports it to the actor.
enum AttemptEnd {
    Answered(Result<String, String>),
    Busy,
    NoAnswer(String),
    Rejected { status: u16, reason: String },
    Failed(String),
}

struct Ended {
    idx: usize,
    started_ms: u64,
    end: AttemptEnd,
}

/// Control and view of a running campaign; cheap to clone, hand one to the API.
#[derive(Clone)]
pub struct CampaignHandle {
    id: String,
    cmd: mpsc::UnboundedSender<Command>,
    progress: watch::Receiver<Progress>,
    targets: Arc<Mutex<Vec<TargetRecord>>>,
}

impl CampaignHandle {
    /// Campaign id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn send(&self, c: Command) -> Result<(), CampaignError> {
        self.cmd.send(c).map_err(|_| CampaignError::Stopped(self.id.clone()))
    }

    /// Stop placing new calls; calls in progress finish.
    pub fn pause(&self) -> Result<(), CampaignError> {
        self.send(Command::Pause)
    }

    /// Place calls again after [`pause`](Self::pause).
    pub fn resume(&self) -> Result<(), CampaignError> {
        self.send(Command::Resume)
    }

    /// End the campaign: no new calls, pending targets become `cancelled`, calls in progress finish.
    pub fn cancel(&self) -> Result<(), CampaignError> {
        self.send(Command::Cancel)
    }

    /// Add a number to this campaign's do-not-call list (e.g. the resident asked on the call);
    /// a pending target with that number is closed as `dnc` without another call.
    pub fn add_do_not_call(&self, number: &str) -> Result<(), CampaignError> {
        self.send(Command::AddDnc(number.to_string()))
    }

    /// Stop this campaign's actor for a process shutdown: no new calls start, calls in progress
    /// finish and are recorded, then the actor releases the store and this returns. The stored
    /// state is otherwise unchanged, so the next [`start`] with the same id resumes the campaign.
    /// (Bound the wait with a timeout if calls may be long; a call cut off by the process exit
    /// counts as an interrupted, failed attempt on resume.)
    pub async fn shutdown(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.send(Command::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Progress now.
    pub fn progress(&self) -> Progress {
        self.progress.borrow().clone()
    }

    /// Progress updates (for the API's live view).
    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }

    /// Every target's record (state, attempts, result).
    pub fn targets(&self) -> Vec<TargetRecord> {
        self.targets.lock().clone()
    }

    /// Wait until the campaign has ended (all targets final, or cancelled with no call in progress).
    pub async fn finished(&self) -> Progress {
        let mut rx = self.progress.clone();
        loop {
            {
                let p = rx.borrow_and_update();
                if is_over(&p) {
                    return p.clone();
                }
            }
            if rx.changed().await.is_err() {
                return rx.borrow().clone();
            }
        }
    }
}

fn is_over(p: &Progress) -> bool {
    p.state == RunState::Finished || (p.state == RunState::Cancelled && p.in_flight == 0)
}

/// Everything a campaign needs from the runtime.
#[derive(Clone)]
pub struct CampaignDeps {
    /// Places the calls (SIP trunk + outbound flow).
    pub placer: Arc<dyn CallPlacer>,
    /// Time source (real in production, manual in tests).
    pub clock: Arc<dyn Clock>,
    /// Where progress is persisted.
    pub store: Arc<dyn CampaignStore>,
}

/// Start (or resume from the store) a campaign; returns its handle. Must run inside tokio.
pub fn start(config: CampaignConfig, deps: CampaignDeps) -> Result<CampaignHandle, CampaignError> {
    config.validate()?;
    let window = config.hours.window()?;
    let now = deps.clock.now_ms();
    let previous = deps.store.load(&config.id)?;
    let (mut targets, paused, cancelled) = match previous {
        Some(s) => (s.targets, s.paused, s.cancelled),
        None => (Vec::new(), false, false),
    };
    // Reconcile with the (possibly edited) config: keep records of known ids, add new targets.
    let mut merged = Vec::with_capacity(config.targets.len());
    let mut dirty = BTreeSet::new();
    for t in &config.targets {
        match targets.iter().position(|r| r.target_id == t.id) {
            Some(i) => merged.push(targets.swap_remove(i)),
            None => {
                dirty.insert(merged.len());
                merged.push(TargetRecord {
                    target_id: t.id.clone(),
                    number: t.number.clone(),
                    state: TargetState::Pending { due_ms: now },
                    attempts: Vec::new(),
                })
            }
        }
    }
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let initial = progress_of(&config.id, RunState::Running, &merged, None);
    let (progress_tx, progress_rx) = watch::channel(initial);
    let shared = Arc::new(Mutex::new(merged.clone()));
    // Pacing holds across a restart: the gap counts from the last call ever started.
    let last_start_ms = merged.iter().flat_map(|t| t.attempts.iter().map(|a| a.started_ms)).max();
    let mut actor = Actor {
        dnc: config.dnc_set(),
        cfg: config,
        window,
        targets: merged,
        paused,
        cancelled,
        last_start_ms,
        in_flight: 0,
        deps,
        shared: shared.clone(),
        progress_tx,
        done_tx,
        dirty,
        meta_dirty: true,
        saved_progress: None,
        to_place: Vec::new(),
        shutdown: None,
    };
    actor.recover_interrupted(now);
    actor.apply_dnc();
    if actor.cancelled {
        actor.cancel_pending();
    }
    let handle = CampaignHandle { id: actor.cfg.id.clone(), cmd: cmd_tx, progress: progress_rx, targets: shared };
    info!(campaign = %actor.cfg.id, targets = actor.targets.len(), "campaign started");
    tokio::spawn(actor.run(cmd_rx, done_rx));
    Ok(handle)
}

struct Actor {
    cfg: CampaignConfig,
    window: CallingWindow,
    dnc: BTreeSet<String>,
    targets: Vec<TargetRecord>,
    paused: bool,
    cancelled: bool,
    last_start_ms: Option<u64>,
    in_flight: u32,
    deps: CampaignDeps,
    shared: Arc<Mutex<Vec<TargetRecord>>>,
    progress_tx: watch::Sender<Progress>,
    done_tx: mpsc::UnboundedSender<Ended>,
    /// Targets changed since the last write to the store.
    dirty: BTreeSet<usize>,
    /// Config or operator flags changed since the last write.
    meta_dirty: bool,
    saved_progress: Option<Progress>,
    /// Calls decided this turn, placed once their `dialling` state is stored.
    to_place: Vec<Placement>,
    /// Set by [`CampaignHandle::shutdown`]; answered once the actor has let go of its resources.
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

struct Placement {
    idx: usize,
    req: PlaceRequest,
    started_ms: u64,
    guard_at: u64,
}

impl Actor {
    async fn run(mut self, mut cmd_rx: mpsc::UnboundedReceiver<Command>, mut done_rx: mpsc::UnboundedReceiver<Ended>) {
        let mut commands_open = true;
        let ack = loop {
            let (wake, waiting_for_hours) = self.dial_what_is_due();
            let state = self.run_state(waiting_for_hours);
            self.publish(state, wake).await;
            for p in mem::take(&mut self.to_place) {
                self.spawn_call(p);
            }
            if self.shutdown.is_some() && self.in_flight == 0 {
                if let Some(ack) = self.shutdown.take() {
                    break ack;
                }
            }
            if state == RunState::Finished || (state == RunState::Cancelled && self.in_flight == 0) {
                info!(campaign = %self.cfg.id, ?state, "campaign ended");
                return;
            }

            let clock = self.deps.clock.clone();
            let sleep = async move {
                match wake {
                    Some(t) => clock.sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = cmd_rx.recv(), if commands_open => match cmd {
                    Some(c) => self.command(c),
                    None => commands_open = false,
                },
                Some(ended) = done_rx.recv() => self.record(ended),
                _ = sleep => {}
            }
        };
        info!(campaign = %self.cfg.id, "campaign actor shut down");
        drop(self);
        let _ = ack.send(());
    }

    fn run_state(&self, waiting_for_hours: bool) -> RunState {
        let all_done = self.targets.iter().all(|t| matches!(t.state, TargetState::Done { .. }));
        if all_done && self.in_flight == 0 {
            if self.cancelled { RunState::Cancelled } else { RunState::Finished }
        } else if self.cancelled {
            RunState::Cancelled
        } else if self.paused {
            RunState::Paused
        } else if waiting_for_hours && self.in_flight == 0 {
            RunState::WaitingForHours
        } else {
            RunState::Running
        }
    }

    /// Place every call the rules allow now; returns when to look again and whether the calling
    /// hours are what holds the next call back.
    fn dial_what_is_due(&mut self) -> (Option<u64>, bool) {
        if self.paused || self.cancelled || self.shutdown.is_some() {
            return (None, false);
        }
        let gap = self.cfg.limits.start_gap_ms();
        loop {
            if self.in_flight >= self.cfg.limits.max_concurrent {
                return (None, false);
            }
            let next = self
                .targets
                .iter()
                .enumerate()
                .filter_map(|(i, t)| match t.state {
                    TargetState::Pending { due_ms } => Some((due_ms, i)),
                    _ => None,
                })
                .min();
            let Some((due, idx)) = next else { return (None, false) };
            let now = self.deps.clock.now_ms();
            let paced = self.last_start_ms.map_or(0, |s| s + gap);
            let earliest = due.max(paced).max(now);
            let Some(open) = self.window.next_open(earliest) else {
                warn!(campaign = %self.cfg.id, "calling hours never open in the next two years; nothing will be dialled");
                return (None, true);
            };
            if open > now {
                return (Some(open), open > earliest);
            }
            self.dial(idx, now);
        }
    }

    fn dial(&mut self, idx: usize, now: u64) {
        // Records are built in config order, so the index usually matches; search only if not.
        let id = &self.targets[idx].target_id;
        let t = match self.cfg.targets.get(idx).filter(|t| &t.id == id) {
            Some(t) => t.clone(),
            None => match self.cfg.targets.iter().find(|t| &t.id == id) {
                Some(t) => t.clone(),
                None => {
                    // Unreachable (records come from the config); never spin on it.
                    self.finish(idx, TargetResult::Cancelled);
                    return;
                }
            },
        };
        if self.dnc.contains(&normalize_number(&t.number)) {
            self.finish(idx, TargetResult::Dnc);
            return;
        }
        let attempt = self.targets[idx].attempts.len() as u32 + 1;
        self.targets[idx].state = TargetState::Dialling;
        self.in_flight += 1;
        self.last_start_ms = Some(now);
        self.sync(idx);
        debug!(campaign = %self.cfg.id, target = %t.id, attempt, "placing call");
        let req = PlaceRequest {
            campaign_id: self.cfg.id.clone(),
            flow: self.cfg.flow.clone(),
            caller_id: self.cfg.caller_id.clone(),
            target: t,
            attempt,
            ring_timeout: Duration::from_secs(self.cfg.ring_timeout_secs),
            answer_delay: Duration::from_millis(self.cfg.effective_answer_delay_ms()),
        };
        let guard_at = now + self.cfg.ring_timeout_secs * 1000 + PLACE_GUARD.as_millis() as u64;
        self.to_place.push(Placement { idx, req, started_ms: now, guard_at });
    }

    fn spawn_call(&self, p: Placement) {
        let Placement { idx, req, started_ms, guard_at } = p;
        let placer = self.deps.placer.clone();
        let clock = self.deps.clock.clone();
        let done = self.done_tx.clone();
        tokio::spawn(async move {
            // Biased: a final answer that is ready wins over a guard that fired in the same poll.
            let placed = tokio::select! {
                biased;
                r = placer.place(req) => r,
                _ = clock.sleep_until(guard_at) => PlaceResult::NoAnswer,
            };
            let end = match placed {
                PlaceResult::Answered { run } => AttemptEnd::Answered(run.await),
                PlaceResult::Busy => AttemptEnd::Busy,
                PlaceResult::NoAnswer => AttemptEnd::NoAnswer("no answer".into()),
                PlaceResult::Rejected { status, reason } => AttemptEnd::Rejected { status, reason },
                PlaceResult::Failed(r) => AttemptEnd::Failed(r),
            };
            let _ = done.send(Ended { idx, started_ms, end });
        });
    }

    fn record(&mut self, ended: Ended) {
        let now = self.deps.clock.now_ms();
        self.in_flight = self.in_flight.saturating_sub(1);
        let idx = ended.idx;
        let (kind, detail) = match &ended.end {
            AttemptEnd::Answered(Ok(o)) => (AttemptKind::Answered, o.clone()),
            AttemptEnd::Answered(Err(e)) => (AttemptKind::Answered, format!("flow failed: {e}")),
            AttemptEnd::Busy => (AttemptKind::Busy, "busy".into()),
            AttemptEnd::NoAnswer(d) => (AttemptKind::NoAnswer, d.clone()),
            AttemptEnd::Rejected { status, reason } => (AttemptKind::Rejected, format!("{status} {reason}")),
            AttemptEnd::Failed(r) => (AttemptKind::Failed, r.clone()),
        };
        self.targets[idx].attempts.push(Attempt { started_ms: ended.started_ms, ended_ms: now, kind, detail });
        info!(campaign = %self.cfg.id, target = %self.targets[idx].target_id, kind = kind.as_str(), "attempt ended");
        match ended.end {
            AttemptEnd::Answered(Ok(outcome)) => self.finish(idx, TargetResult::Answered { outcome, flow_error: None }),
            AttemptEnd::Answered(Err(e)) => {
                self.finish(idx, TargetResult::Answered { outcome: String::new(), flow_error: Some(e) })
            }
            AttemptEnd::Rejected { status, reason } => self.finish(idx, TargetResult::Rejected { status, reason }),
            AttemptEnd::Busy => self.retry_or_exhaust(idx, kind, self.cfg.retry.busy, now),
            AttemptEnd::NoAnswer(_) => self.retry_or_exhaust(idx, kind, self.cfg.retry.no_answer, now),
            AttemptEnd::Failed(_) => self.retry_or_exhaust(idx, kind, self.cfg.retry.failed, now),
        }
    }

    fn retry_or_exhaust(&mut self, idx: usize, last: AttemptKind, rule: RetryRule, now: u64) {
        if self.cancelled {
            self.finish(idx, TargetResult::Cancelled);
        } else if self.targets[idx].attempts.len() as u32 >= rule.max_attempts {
            self.finish(idx, TargetResult::Exhausted { last });
        } else {
            self.targets[idx].state = TargetState::Pending { due_ms: now + rule.spacing_secs * 1000 };
            self.sync(idx);
        }
    }

    fn finish(&mut self, idx: usize, result: TargetResult) {
        self.targets[idx].state = TargetState::Done { result };
        self.sync(idx);
    }

    fn command(&mut self, c: Command) {
        self.meta_dirty = true;
        match c {
            Command::Pause => self.paused = true,
            Command::Resume => self.paused = false,
            Command::Cancel => {
                self.cancelled = true;
                self.cancel_pending();
            }
            Command::AddDnc(n) => {
                self.dnc.insert(normalize_number(&n));
                self.apply_dnc();
            }
            Command::Shutdown(ack) => {
                self.meta_dirty = false;
                self.shutdown = Some(ack);
                return;
            }
        }
        info!(campaign = %self.cfg.id, paused = self.paused, cancelled = self.cancelled, "campaign control");
    }

    fn cancel_pending(&mut self) {
        for i in 0..self.targets.len() {
            if matches!(self.targets[i].state, TargetState::Pending { .. }) {
                self.finish(i, TargetResult::Cancelled);
            }
        }
    }

    /// Close every pending target whose number is on the do-not-call list, without dialling.
    fn apply_dnc(&mut self) {
        for i in 0..self.targets.len() {
            let pending = matches!(self.targets[i].state, TargetState::Pending { .. });
            if pending && self.dnc.contains(&normalize_number(&self.targets[i].number)) {
                info!(campaign = %self.cfg.id, target = %self.targets[i].target_id, "do-not-call: refused before dialling");
                self.finish(i, TargetResult::Dnc);
            }
        }
    }

    /// A call that was in progress when the process stopped is an attempt with an unknown end:
    /// count it as failed and let the retry policy decide.
    fn recover_interrupted(&mut self, now: u64) {
        for i in 0..self.targets.len() {
            if self.targets[i].state == TargetState::Dialling {
                self.targets[i].attempts.push(Attempt {
                    started_ms: now,
                    ended_ms: now,
                    kind: AttemptKind::Failed,
                    detail: "interrupted by a restart".into(),
                });
                let rule = self.cfg.retry.failed;
                self.retry_or_exhaust(i, AttemptKind::Failed, rule, now);
            }
        }
    }

    fn sync(&mut self, idx: usize) {
        self.dirty.insert(idx);
        if let Some(slot) = self.shared.lock().get_mut(idx) {
            *slot = self.targets[idx].clone();
        }
    }

    async fn publish(&mut self, state: RunState, wake: Option<u64>) {
        let progress = progress_of(&self.cfg.id, state, &self.targets, wake);
        let store = self.deps.store.clone();
        let id = self.cfg.id.clone();
        if self.meta_dirty {
            let c = StoredCampaign { config: self.cfg.clone(), paused: self.paused, cancelled: self.cancelled };
            match store.save_campaign(&c).await {
                Ok(()) => self.meta_dirty = false,
                Err(e) => warn!(campaign = %id, error = %e, "could not persist the campaign"),
            }
        }
        for idx in mem::take(&mut self.dirty) {
            if let Err(e) = store.save_target(&id, &self.targets[idx]).await {
                warn!(campaign = %id, target = %self.targets[idx].target_id, error = %e, "could not persist a target");
            }
        }
        if self.saved_progress.as_ref() != Some(&progress) {
            match store.save_progress(&progress).await {
                Ok(()) => self.saved_progress = Some(progress.clone()),
                Err(e) => warn!(campaign = %id, error = %e, "could not persist progress"),
            }
        }
        self.progress_tx.send_if_modified(|p| {
            if *p != progress {
                *p = progress;
                true
            } else {
                false
            }
        });
    }
}
