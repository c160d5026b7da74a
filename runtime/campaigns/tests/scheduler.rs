//! Deterministic scheduler tests: a manual clock and a scripted `CallPlacer` (no wall-clock waits).
#![allow(missing_docs)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{FixedOffset, TimeZone};
use courtyard_campaigns::*;
use parking_lot::Mutex;

/// What the scripted callee does on one attempt.
#[derive(Clone, Debug)]
enum Step {
    /// Rings `ring_ms`, answers, the flow talks `talk_ms` and returns `outcome`.
    Answer { ring_ms: u64, talk_ms: u64, outcome: &'static str },
    /// Answers, but the flow fails.
    FlowFails,
    /// Rings `ring_ms` then 486.
    Busy { ring_ms: u64 },
    /// Rings until the ring timeout, then the placer cancels.
    RingOut,
    /// 404 at once.
    Reject,
    /// 503 at once.
    Fail,
    /// Never gives a final answer (a broken placer): the scheduler's guard must end it.
    Hang,
}

#[derive(Debug, Clone)]
struct Placed {
    target: String,
    number: String,
    attempt: u32,
    at: u64,
    answer_delay_ms: u64,
}

struct Scripted {
    clock: Arc<ManualClock>,
    scripts: Mutex<HashMap<String, VecDeque<Step>>>,
    default: Step,
    log: Mutex<Vec<Placed>>,
    live: Arc<AtomicU32>,
    max_live: Arc<AtomicU32>,
}

impl Scripted {
    fn new(clock: Arc<ManualClock>, default: Step) -> Arc<Self> {
        Arc::new(Scripted {
            clock,
            scripts: Mutex::new(HashMap::new()),
            default,
            log: Mutex::new(Vec::new()),
            live: Arc::new(AtomicU32::new(0)),
            max_live: Arc::new(AtomicU32::new(0)),
        })
    }
    fn script(&self, target: &str, steps: Vec<Step>) {
        self.scripts.lock().insert(target.to_string(), steps.into());
    }
    fn placed(&self) -> Vec<Placed> {
        self.log.lock().clone()
    }
    fn placed_for(&self, target: &str) -> Vec<Placed> {
        self.placed().into_iter().filter(|p| p.target == target).collect()
    }
}

struct LiveGuard(Arc<AtomicU32>);
impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CallPlacer for Scripted {
    fn place(&self, req: PlaceRequest) -> BoxFuture<'static, PlaceResult> {
        let now = self.clock.now_ms();
        self.log.lock().push(Placed {
            target: req.target.id.clone(),
            number: req.target.number.clone(),
            attempt: req.attempt,
            at: now,
            answer_delay_ms: req.answer_delay.as_millis() as u64,
        });
        let n = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_live.fetch_max(n, Ordering::SeqCst);
        let guard = LiveGuard(self.live.clone());
        let step = self.scripts.lock().get_mut(&req.target.id).and_then(|q| q.pop_front()).unwrap_or_else(|| self.default.clone());
        let clock = self.clock.clone();
        let ring_timeout = req.ring_timeout.as_millis() as u64;
        Box::pin(async move {
            match step {
                Step::Answer { ring_ms, talk_ms, outcome } => {
                    clock.sleep_until(now + ring_ms).await;
                    let c = clock.clone();
                    PlaceResult::Answered {
                        run: Box::pin(async move {
                            let _guard = guard;
                            let t = c.now_ms();
                            c.sleep_until(t + talk_ms).await;
                            Ok(outcome.to_string())
                        }),
                    }
                }
                Step::FlowFails => PlaceResult::Answered {
                    run: Box::pin(async move {
                        let _guard = guard;
                        Err("trap: unreachable".to_string())
                    }),
                },
                Step::Busy { ring_ms } => {
                    clock.sleep_until(now + ring_ms).await;
                    PlaceResult::Busy
                }
                Step::RingOut => {
                    clock.sleep_until(now + ring_timeout).await;
                    PlaceResult::NoAnswer
                }
                Step::Reject => PlaceResult::from_sip_status(404, "Not Found"),
                Step::Fail => PlaceResult::from_sip_status(503, "Service Unavailable"),
                Step::Hang => std::future::pending().await,
            }
        })
    }
}

/// Local (UTC+8) time as epoch ms.
fn local_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> u64 {
    let tz = FixedOffset::east_opt(8 * 3600).unwrap();
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp_millis() as u64
}

fn config(n: usize) -> CampaignConfig {
    let mut c = CampaignConfig::from_toml(
        r#"
        id = "arrears-2026-11"
        flow = "arrears-reminder"
        ring_timeout_secs = 20
        answer_delay_ms = 700
        [limits]
        max_concurrent = 3
        calls_per_second = 2.0
        [hours]
        start = "09:00"
        end = "20:00"
        "#,
    )
    .unwrap();
    c.targets = (0..n)
        .map(|i| Target {
            id: format!("t{i:03}"),
            number: format!("1380000{i:04}"),
            params: BTreeMap::from([("unit-id".to_string(), format!("U{i}"))]),
        })
        .collect();
    c
}

fn deps(placer: Arc<Scripted>, clock: Arc<ManualClock>) -> (CampaignDeps, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (CampaignDeps { placer, clock, store: store.clone() }, store)
}

async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

fn over(p: &Progress) -> bool {
    p.state == RunState::Finished || (p.state == RunState::Cancelled && p.in_flight == 0)
}

/// Let the actor and the calls react, then jump to the next timer, until the campaign ends.
async fn drive(clock: &ManualClock, h: &CampaignHandle, until: impl Fn(&Progress) -> bool) -> Progress {
    for _ in 0..200_000 {
        settle().await;
        let p = h.progress();
        if until(&p) {
            return p;
        }
        if clock.advance_to_next_deadline().is_none() {
            settle().await;
            let p = h.progress();
            assert!(until(&p), "stalled: nothing waits on the clock and the condition is false: {p:?}");
            return p;
        }
    }
    panic!("campaign did not reach the condition: {:?}", h.progress());
}

#[tokio::test]
async fn pacing_never_exceeds_concurrency_or_calls_per_second() {
    let clock = ManualClock::new(local_ms(2026, 11, 25, 10, 0));
    let placer = Scripted::new(clock.clone(), Step::Answer { ring_ms: 3_000, talk_ms: 5_000, outcome: "confirmed" });
    let (d, _) = deps(placer.clone(), clock.clone());
    let h = start(config(30), d).unwrap();
    let p = drive(&clock, &h, over).await;

    assert_eq!(p.state, RunState::Finished);
    assert_eq!((p.total, p.done, p.answered), (30, 30, 30));
    assert_eq!(p.answered_pct, 100.0);
    assert_eq!(p.outcomes.get("confirmed"), Some(&30));
    let placed = placer.placed();
    assert_eq!(placed.len(), 30);
    // Concurrency: at most 3 at once, and the limit was really reached (8 s calls, 2 starts/s).
    assert_eq!(placer.max_live.load(Ordering::SeqCst), 3);
    // Calls per second: consecutive starts ≥ 500 ms apart, so no 1 s window holds more than 2.
    for w in placed.windows(2) {
        assert!(w[1].at - w[0].at >= 500, "starts {} and {} too close", w[0].at, w[1].at);
    }
    for (i, a) in placed.iter().enumerate() {
        let in_window = placed[i..].iter().take_while(|b| b.at < a.at + 1000).count();
        assert!(in_window <= 2, "{in_window} starts within 1 s of {}", a.at);
    }
    // The flow gets the answering-machine-safe delay and each target its params.
    assert!(placed.iter().all(|p| p.answer_delay_ms == 700));
    let rec = h.targets();
    assert!(rec.iter().all(|r| r.attempts.len() == 1));
    assert!(matches!(&rec[0].state, TargetState::Done { result: TargetResult::Answered { outcome, .. } } if outcome == "confirmed"));
}

#[tokio::test]
async fn retries_are_spaced_per_outcome_and_exhausted() {
    let clock = ManualClock::new(local_ms(2026, 11, 25, 10, 0));
    let placer = Scripted::new(clock.clone(), Step::Answer { ring_ms: 1_000, talk_ms: 1_000, outcome: "ok" });
    placer.script("t000", vec![Step::Busy { ring_ms: 500 }; 5]);
    placer.script("t001", vec![Step::RingOut; 5]);
    placer.script("t002", vec![Step::Fail, Step::Answer { ring_ms: 2_000, talk_ms: 9_000, outcome: "sms-sent" }]);
    placer.script("t003", vec![Step::Reject]);
    placer.script("t004", vec![Step::FlowFails]);
    let mut cfg = config(5);
    cfg.retry.busy = RetryRule { max_attempts: 3, spacing_secs: 300 };
    cfg.retry.no_answer = RetryRule { max_attempts: 2, spacing_secs: 1800 };
    cfg.retry.failed = RetryRule { max_attempts: 2, spacing_secs: 600 };
    let (d, _) = deps(placer.clone(), clock.clone());
    let h = start(cfg, d).unwrap();
    let p = drive(&clock, &h, over).await;

    let rec: BTreeMap<String, TargetRecord> = h.targets().into_iter().map(|r| (r.target_id.clone(), r)).collect();
    let spacing_ok = |id: &str, spacing_ms: u64| {
        let a = &rec[id].attempts;
        for w in a.windows(2) {
            assert!(w[1].started_ms >= w[0].ended_ms + spacing_ms, "{id}: retry after {} ms", w[1].started_ms - w[0].ended_ms);
        }
    };
    assert_eq!(rec["t000"].attempts.len(), 3);
    assert!(rec["t000"].attempts.iter().all(|a| a.kind == AttemptKind::Busy));
    spacing_ok("t000", 300_000);
    assert_eq!(rec["t000"].state, TargetState::Done { result: TargetResult::Exhausted { last: AttemptKind::Busy } });

    assert_eq!(rec["t001"].attempts.len(), 2);
    spacing_ok("t001", 1_800_000);
    assert_eq!(rec["t001"].attempts[0].ended_ms - rec["t001"].attempts[0].started_ms, 20_000, "ring timeout");
    assert_eq!(rec["t001"].state, TargetState::Done { result: TargetResult::Exhausted { last: AttemptKind::NoAnswer } });

    assert_eq!(rec["t002"].attempts.iter().map(|a| a.kind).collect::<Vec<_>>(), [AttemptKind::Failed, AttemptKind::Answered]);
    spacing_ok("t002", 600_000);
    assert_eq!(rec["t002"].attempts[1].detail, "sms-sent");

    assert_eq!(rec["t003"].attempts.len(), 1, "a rejection is never retried");
    assert_eq!(rec["t003"].state, TargetState::Done { result: TargetResult::Rejected { status: 404, reason: "Not Found".into() } });
    assert!(matches!(&rec["t004"].state, TargetState::Done { result: TargetResult::Answered { flow_error: Some(e), .. } } if e.contains("trap")));

    assert_eq!(p.results.get("exhausted-busy"), Some(&1));
    assert_eq!(p.results.get("exhausted-no-answer"), Some(&1));
    assert_eq!(p.results.get("answered"), Some(&2));
    assert_eq!(p.results.get("rejected"), Some(&1));
    assert_eq!(p.attempts.get("busy"), Some(&3));
    assert_eq!(p.outcomes.get("flow-error"), Some(&1));
    assert_eq!(p.answered_pct, 40.0);
}

#[tokio::test]
async fn quiet_hours_closed_dates_and_weekdays_are_respected() {
    // Wednesday 2026-11-25 19:58 local; Thursday is a closed date, so calls resume Friday 09:00.
    let clock = ManualClock::new(local_ms(2026, 11, 25, 19, 58));
    let placer = Scripted::new(clock.clone(), Step::Answer { ring_ms: 5_000, talk_ms: 25_000, outcome: "ok" });
    placer.script("t001", vec![Step::Busy { ring_ms: 1_000 }, Step::Answer { ring_ms: 1_000, talk_ms: 1_000, outcome: "ok" }]);
    let mut cfg = config(5);
    cfg.limits = Limits { max_concurrent: 1, calls_per_second: 1.0 / 60.0 };
    cfg.retry.busy = RetryRule { max_attempts: 2, spacing_secs: 60 };
    cfg.hours.closed_dates = vec!["2026-11-26".into()];
    cfg.hours.closed_weekdays = vec!["sat".into(), "sun".into()];
    let window = cfg.hours.window().unwrap();
    let (d, _) = deps(placer.clone(), clock.clone());
    let h = start(cfg, d).unwrap();

    let night = drive(&clock, &h, |p| p.state == RunState::WaitingForHours).await;
    let friday_nine = local_ms(2026, 11, 27, 9, 0);
    assert_eq!(night.next_call_ms, Some(friday_nine));
    assert_eq!(placer.placed().len(), 2, "19:58 and 19:59 only");
    let p = drive(&clock, &h, over).await;
    assert_eq!(p.answered, 5);
    let placed = placer.placed();
    assert_eq!(placed.len(), 6);
    for c in &placed {
        assert!(window.is_open(c.at), "call placed at {} outside hours", c.at);
    }
    // Friday opens at 09:00 sharp; targets due earliest go first, so the busy retry of t001
    // (due Wed 20:00:01, inside the closed night) follows t002–t004, one per minute.
    assert_eq!(placed[2].at, friday_nine);
    assert_eq!(placer.placed_for("t001")[1].at, friday_nine + 3 * 60_000);
}

#[test]
fn calling_window_skips_closed_days_and_nights() {
    let hours = CallingHours { closed_weekdays: vec!["sun".into()], closed_dates: vec!["2026-11-30".into()], ..CallingHours::default() };
    let w = hours.window().unwrap();
    assert!(w.is_open(local_ms(2026, 11, 25, 9, 0)));
    assert!(w.is_open(local_ms(2026, 11, 25, 19, 59)));
    assert!(!w.is_open(local_ms(2026, 11, 25, 20, 0)));
    assert!(!w.is_open(local_ms(2026, 11, 25, 8, 59)));
    // Saturday 20:30 → Sunday closed → Monday 30th closed date → Tuesday 09:00.
    assert_eq!(w.next_open(local_ms(2026, 11, 28, 20, 30)), Some(local_ms(2026, 12, 1, 9, 0)));
    assert!(CallingHours { start: TimeOfDay(600), end: TimeOfDay(500), ..CallingHours::default() }.window().is_err());
}

#[tokio::test]
async fn do_not_call_numbers_are_never_dialled() {
    let clock = ManualClock::new(local_ms(2026, 11, 25, 10, 0));
    let placer = Scripted::new(clock.clone(), Step::Answer { ring_ms: 1_000, talk_ms: 60_000, outcome: "ok" });
    let mut cfg = config(6);
    cfg.limits.max_concurrent = 1;
    // Written differently from the target numbers: normalization must still match.
    cfg.do_not_call = vec!["138-0000-0001".into(), " 1380000 0003 ".into()];
    let (d, _) = deps(placer.clone(), clock.clone());
    let h = start(cfg, d).unwrap();
    settle().await;
    // During the first call the resident of t005 asks not to be called.
    h.add_do_not_call("13800000005").unwrap();
    let p = drive(&clock, &h, over).await;
    let dialled: Vec<String> = placer.placed().iter().map(|p| p.number.clone()).collect();
    assert_eq!(dialled, ["13800000000", "13800000002", "13800000004"]);
    assert_eq!(p.results.get("dnc"), Some(&3));
    assert_eq!(p.answered_pct, 100.0, "dnc targets do not count against the answer rate");
    let rec = h.targets();
    assert_eq!(rec[1].state, TargetState::Done { result: TargetResult::Dnc });
    assert!(rec[1].attempts.is_empty());
}

#[tokio::test]
async fn pause_stops_new_calls_and_resume_continues() {
    let clock = ManualClock::new(local_ms(2026, 11, 25, 10, 0));
    let placer = Scripted::new(clock.clone(), Step::Answer { ring_ms: 1_000, talk_ms: 4_000, outcome: "ok" });
    let mut cfg = config(6);
    cfg.limits = Limits { max_concurrent: 1, calls_per_second: 10.0 };
    let (d, store) = deps(placer.clone(), clock.clone());
    let h = start(cfg, d).unwrap();
    drive(&clock, &h, |p| p.done == 2).await;
    h.pause().unwrap();
    // The third call may already be ringing; it finishes, and nothing new starts for an hour.
    let paused = drive(&clock, &h, |p| p.state == RunState::Paused && p.in_flight == 0).await;
    let placed_when_paused = placer.placed().len();
    assert!(placed_when_paused <= 3);
    clock.advance(std::time::Duration::from_secs(3600));
    settle().await;
    assert_eq!(placer.placed().len(), placed_when_paused);
    assert_eq!(h.progress().done, paused.done);
    let stored = store.load("arrears-2026-11").unwrap().unwrap();
    assert!(stored.paused);
    let resumed_at = clock.now_ms();
    h.resume().unwrap();
    let p = drive(&clock, &h, over).await;
    assert_eq!(p.answered, 6);
    assert_eq!(placer.placed().len(), 6);
    assert!(placer.placed()[placed_when_paused].at >= resumed_at);
}

#[tokio::test]
async fn cancel_closes_pending_targets_and_lets_the_call_in_progress_finish() {
    let clock = ManualClock::new(local_ms(2026, 11, 25, 10, 0));
    let placer = Scripted::new(clock.clone(), Step::Answer { ring_ms: 1_000, talk_ms: 4_000, outcome: "ok" });
    let mut cfg = config(5);
    cfg.limits.max_concurrent = 1;
    let (d, _) = deps(placer.clone(), clock.clone());
    let h = start(cfg, d).unwrap();
    settle().await;
    assert_eq!(placer.placed().len(), 1);
    h.cancel().unwrap();
    let p = drive(&clock, &h, over).await;
    assert_eq!(p.state, RunState::Cancelled);
    assert_eq!(p.results.get("answered"), Some(&1));
    assert_eq!(p.results.get("cancelled"), Some(&4));
    assert_eq!(placer.placed().len(), 1);
    assert!(h.pause().is_err(), "the actor has ended");
}

#[tokio::test]
async fn a_placer_that_never_answers_is_cut_off_after_the_ring_timeout_guard() {
    let clock = ManualClock::new(local_ms(2026, 11, 25, 10, 0));
    let placer = Scripted::new(clock.clone(), Step::Hang);
    let mut cfg = config(1);
    cfg.retry.no_answer.max_attempts = 1;
    let (d, _) = deps(placer.clone(), clock.clone());
    let h = start(cfg, d).unwrap();
    drive(&clock, &h, over).await;
    let a = &h.targets()[0].attempts[0];
    assert_eq!(a.kind, AttemptKind::NoAnswer);
    assert_eq!(a.ended_ms - a.started_ms, 20_000 + PLACE_GUARD.as_millis() as u64);
    assert_eq!(placer.live.load(Ordering::SeqCst), 0, "the hung placer future was dropped");
}

#[tokio::test]
async fn restart_resumes_from_the_store_without_calling_finished_targets_again() {
    let clock = ManualClock::new(local_ms(2026, 11, 25, 10, 0));
    let placer = Scripted::new(clock.clone(), Step::Answer { ring_ms: 1_000, talk_ms: 1_000, outcome: "ok" });
    let cfg = config(4);
    let store = Arc::new(MemoryStore::new());
    // What a previous process left: t000 answered, t001 mid-call when it died, t002/t003 pending.
    let mut targets: Vec<TargetRecord> = cfg
        .targets
        .iter()
        .map(|t| TargetRecord { target_id: t.id.clone(), number: t.number.clone(), state: TargetState::Pending { due_ms: 0 }, attempts: vec![] })
        .collect();
    targets[0].state = TargetState::Done { result: TargetResult::Answered { outcome: "confirmed".into(), flow_error: None } };
    targets[0].attempts.push(Attempt { started_ms: 1, ended_ms: 2, kind: AttemptKind::Answered, detail: "confirmed".into() });
    targets[1].state = TargetState::Dialling;
    store.save_campaign(&StoredCampaign { config: cfg.clone(), paused: false, cancelled: false }).await.unwrap();
    for t in &targets {
        store.save_target(&cfg.id, t).await.unwrap();
    }

    let h = start(cfg, CampaignDeps { placer: placer.clone(), clock: clock.clone(), store: store.clone() }).unwrap();
    let p = drive(&clock, &h, over).await;
    let called: Vec<String> = placer.placed().iter().map(|p| format!("{}#{}", p.target, p.attempt)).collect();
    // t001's interrupted call counts as a failed attempt; its retry waits the failed spacing (600 s default).
    assert_eq!(called, ["t002#1", "t003#1", "t001#2"]);
    let t1 = &h.targets()[1];
    assert_eq!(t1.attempts[0].detail, "interrupted by a restart");
    assert!(t1.attempts[1].started_ms >= local_ms(2026, 11, 25, 10, 10));
    assert_eq!(p.answered, 4);
    assert_eq!(store.load("arrears-2026-11").unwrap().unwrap().progress.unwrap().done, 4);
    assert_eq!(store.list().unwrap().len(), 1);
}

