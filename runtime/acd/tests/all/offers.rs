//! Offers: ring timeout, rejection, unreachable phones, abandon while ringing, wrap-up, supervision.

use std::sync::{Arc, Mutex};

use courtyard_acd::*;

use crate::common::*;

fn two_agents(max_no_answer: u32) -> AcdConfig {
    let q = QueueConfig { ring_timeout_secs: 15, retry_secs: 5, ..queue("q") };
    AcdConfig { max_consecutive_no_answer: max_no_answer, ..config(vec![q], vec![agent("A"), agent("B")]) }
}

#[tokio::test]
async fn ring_timeout_tries_the_next_agent_counts_the_miss_and_sets_not_ready_after_k() {
    let mut h = Harness::new(two_agents(2));
    h.login(&[("A", "8001")]).await;
    h.advance(1).await;
    h.login(&[("B", "8002")]).await;
    let mut t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    assert_eq!(r.agent(), "A");
    assert_eq!(r.req.timeout.as_secs(), 15);
    h.advance(14).await;
    assert!(!r.cancelled());
    h.no_ring().await;
    h.advance(1).await; // 15 s: timeout
    assert!(r.cancelled(), "the ACD stops ringing A");
    let r2 = h.ring().await;
    assert_eq!(r2.agent(), "B");
    assert_eq!(h.answer(r2, &mut t).await, "B");
    assert_eq!(h.state("A").await, AgentState::Ready, "one miss of K = 2: still ready");
    let k = h.acd.agent_kpis("A", Window::ALL).await.unwrap();
    assert_eq!((k.offered, k.no_answer, k.answered), (1, 1, 0));

    // Second consecutive miss: A goes 示忙 "no-answer".
    let _t2 = h.enqueue(call("2"), "q").await;
    let r = h.ring().await;
    assert_eq!(r.agent(), "A");
    h.advance(15).await;
    assert_eq!(h.state("A").await, AgentState::NotReady { reason: "no-answer".into() });
    h.no_ring().await; // B is on call 1, A not ready: call 2 waits
    let k = h.acd.agent_kpis("A", Window::ALL).await.unwrap();
    assert_eq!(k.no_answer, 2);
}

#[tokio::test]
async fn an_answer_resets_the_consecutive_miss_count() {
    let mut h = Harness::new(two_agents(2));
    h.login(&[("A", "8001")]).await;
    for i in 0..3 {
        let mut t = h.enqueue(call(&format!("{i}m")), "q").await;
        let r = h.ring().await;
        h.advance(15).await; // miss
        assert!(r.cancelled());
        h.advance(5).await; // retry_secs: A may be offered the same call again
        let r = h.ring().await;
        assert_eq!(r.agent(), "A");
        h.answer(r, &mut t).await;
        h.acd.call_ended(&format!("{i}m")).await.unwrap();
    }
    assert_eq!(h.state("A").await, AgentState::Ready);
}

#[tokio::test]
async fn rejection_moves_on_at_once_and_the_rejecting_agent_is_not_reoffered_during_retry() {
    let mut h = Harness::new(two_agents(3));
    h.login(&[("A", "8001")]).await;
    h.advance(1).await;
    h.login(&[("B", "8002")]).await;
    let mut t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    assert_eq!(r.agent(), "A");
    r.reject();
    let r = h.ring().await;
    assert_eq!(r.agent(), "B");
    r.reject();
    // Both rejected: nobody is rung until retry_secs pass, then A again (longest idle).
    h.no_ring().await;
    h.advance(5).await;
    let r = h.ring().await;
    assert_eq!(r.agent(), "A");
    assert_eq!(h.answer(r, &mut t).await, "A");
    let k = h.acd.agent_kpis("B", Window::ALL).await.unwrap();
    assert_eq!((k.offered, k.rejected), (1, 1));
}

#[tokio::test]
async fn unreachable_phone_sets_the_agent_not_ready_and_rings_the_next() {
    let mut h = Harness::new(two_agents(3));
    h.login(&[("A", "8001")]).await;
    h.advance(1).await;
    h.login(&[("B", "8002")]).await;
    let mut t = h.enqueue(call("1"), "q").await;
    h.ring().await.unreachable();
    let r = h.ring().await;
    assert_eq!(r.agent(), "B");
    h.answer(r, &mut t).await;
    assert_eq!(h.state("A").await, AgentState::NotReady { reason: "unreachable".into() });
}

#[tokio::test]
async fn caller_hanging_up_while_ringing_cancels_the_ring_and_is_a_missed_call() {
    let mut h = Harness::new(two_agents(1));
    h.login(&[("A", "8001")]).await;
    let _t = h.enqueue(CallRef::new("c1", "13812345678"), "q").await;
    let r = h.ring().await;
    h.advance(8).await;
    h.acd.caller_left("c1").await.unwrap();
    h.settle().await;
    assert!(r.cancelled());
    assert_eq!(h.state("A").await, AgentState::Ready, "a withdrawn offer is not a miss (K = 1)");
    let missed = h.acd.missed_calls(true).await.unwrap();
    assert_eq!(missed.len(), 1);
    assert_eq!((missed[0].caller.as_str(), missed[0].reason, missed[0].waited_ms), ("13812345678", MissedReason::Abandoned, 8_000));
    assert!(!missed[0].short);
    h.acd.mark_called_back("c1").await.unwrap();
    assert!(h.acd.missed_calls(true).await.unwrap().is_empty());
    assert_eq!(h.acd.missed_calls(false).await.unwrap().len(), 1);
    // An answer arriving after the withdrawal is hung up, not connected.
    r.answer();
    h.settle().await;
    assert_eq!(h.dialer.released.load(std::sync::atomic::Ordering::SeqCst), 0, "ring future was dropped: no leg");
}

#[tokio::test]
async fn wrap_up_holds_the_agent_for_the_configured_seconds_or_until_they_press_ready() {
    let q = QueueConfig { wrap_up_secs: 10, ..queue("q") };
    let mut h = Harness::new(config(vec![q], vec![agent("A"), AgentConfig { wrap_up_secs: Some(3), ..agent("B") }]));
    h.login(&[("A", "8001")]).await;
    let mut t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    h.answer(r, &mut t).await;
    h.advance(60).await;
    h.acd.call_ended("1").await.unwrap();
    assert!(matches!(h.state("A").await, AgentState::WrapUp { until_ms, .. } if until_ms == T0 + 70_000));
    let _t2 = h.enqueue(call("2"), "q").await;
    h.advance(9).await;
    h.no_ring().await;
    h.advance(1).await;
    assert_eq!(h.ring().await.agent(), "A");

    // Pressing 示闲 ends wrap-up early; B's own 3 s setting overrides the queue's 10 s.
    let mut h = Harness::new(config(vec![QueueConfig { wrap_up_secs: 10, ..queue("q") }], vec![agent("A"), AgentConfig { wrap_up_secs: Some(3), ..agent("B") }]));
    h.login(&[("A", "8001"), ("B", "8002")]).await;
    for id in ["1", "2"] {
        let mut t = h.enqueue(call(id), "q").await;
        let r = h.ring().await;
        h.answer(r, &mut t).await;
        h.acd.call_ended(id).await.unwrap();
    }
    h.acd.set_state("A", RequestedState::Ready).await.unwrap();
    assert_eq!(h.state("A").await, AgentState::Ready);
    h.advance(3).await;
    assert_eq!(h.state("B").await, AgentState::Ready);
}

#[tokio::test]
async fn not_ready_pressed_during_a_call_applies_after_wrap_up() {
    let q = QueueConfig { wrap_up_secs: 5, ..queue("q") };
    let mut h = Harness::new(config(vec![q], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    let mut t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    h.answer(r, &mut t).await;
    h.acd.set_state("A", RequestedState::NotReady { reason: "午饭".into() }).await.unwrap();
    assert!(matches!(h.state("A").await, AgentState::OnCall { .. }));
    h.acd.call_ended("1").await.unwrap();
    h.advance(5).await;
    assert_eq!(h.state("A").await, AgentState::NotReady { reason: "午饭".into() });
    h.acd.agent_logout("A").await.unwrap();
    assert_eq!(h.state("A").await, AgentState::LoggedOut);
    assert_eq!(h.acd.set_state("A", RequestedState::Ready).await, Err(AcdError::NotLoggedIn("A".into())));
}

#[derive(Default)]
struct RecordingSupervisor(Mutex<Vec<SuperviseTarget>>);

impl SupervisorMedia for RecordingSupervisor {
    fn supervise(&self, target: SuperviseTarget) -> BoxFuture<'static, Result<(), String>> {
        self.0.lock().unwrap().push(target);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn supervision_is_passed_to_the_lead_with_the_agents_call() {
    let sup = Arc::new(RecordingSupervisor::default());
    let mut h = Harness::with_supervisor(config(vec![queue("q")], vec![agent("A")]), sup.clone());
    h.login(&[("A", "8001")]).await;
    let req = SuperviseRequest { mode: SuperviseMode::Whisper, supervisor_extension: "8100".into(), agent_id: "A".into() };
    assert_eq!(h.acd.supervise(req.clone()).await, Err(AcdError::AgentNotOnCall("A".into())));
    let mut t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    h.answer(r, &mut t).await;
    h.acd.supervise(req.clone()).await.unwrap();
    let got = sup.0.lock().unwrap().clone();
    assert_eq!(got, vec![SuperviseTarget { request: req, agent_extension: "8001".into(), call_id: "1".into() }]);
}

#[tokio::test]
async fn transfer_to_a_queue_requeues_the_caller_and_wraps_up_the_first_agent() {
    let billing = QueueConfig { skills: vec![SkillReq::new("缴费", 1)], ..queue("billing") };
    let mut h = Harness::new(config(
        vec![QueueConfig { wrap_up_secs: 5, ..queue("q") }, billing],
        vec![agent("A"), agent("B").skill("缴费", 3)],
    ));
    h.login(&[("A", "8001")]).await;
    let c = CallRef { vip: true, ..call("1") };
    let mut t = h.enqueue(c, "q").await;
    let r = h.ring().await;
    assert_eq!(h.answer(r, &mut t).await, "A");
    h.login(&[("B", "8002")]).await;
    let mut t2 = h.acd.transfer_to_queue("1", "billing").await.unwrap();
    assert!(t.next().await.is_none(), "the first ticket ends with the transfer");
    assert!(matches!(h.state("A").await, AgentState::WrapUp { .. }));
    let r = h.ring().await;
    assert!(r.req.call.vip, "caller data travels with the transfer");
    assert_eq!(h.answer(r, &mut t2).await, "B");
    // Both sides hanging up after the end is harmless; unknown ids are reported.
    h.acd.call_ended("1").await.unwrap();
    h.acd.caller_left("1").await.unwrap();
    assert_eq!(h.acd.caller_left("nope").await, Err(AcdError::UnknownCall("nope".into())));
    let k = h.acd.queue_kpis(Some("q"), Window::ALL).await.unwrap();
    assert_eq!((k.answered, k.handled), (1, 0), "A's part is handled once A's wrap-up ends");
    h.advance(5).await;
    let k = h.acd.queue_kpis(Some("q"), Window::ALL).await.unwrap();
    assert_eq!(k.handled, 1);
}

#[tokio::test]
async fn an_agent_answer_for_a_caller_whose_ticket_is_gone_is_released() {
    let mut h = Harness::new(config(vec![queue("q")], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    let t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    drop(t); // the flow host lost the call without telling the ACD
    r.answer();
    h.settle().await;
    assert_eq!(h.dialer.released.load(std::sync::atomic::Ordering::SeqCst), 1, "leg hung up");
    assert_eq!(h.state("A").await, AgentState::Ready, "no wrap-up configured: ready again");
}

#[tokio::test]
async fn a_dialer_reporting_no_answer_before_the_acd_timeout_counts_the_same() {
    let mut h = Harness::new(two_agents(1));
    h.login(&[("A", "8001")]).await;
    h.advance(1).await;
    h.login(&[("B", "8002")]).await;
    let _t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    drop(r); // the scripted dialer turns a dropped reply into NoAnswer
    assert_eq!(h.ring().await.agent(), "B");
    assert_eq!(h.state("A").await, AgentState::NotReady { reason: "no-answer".into() });
}

#[tokio::test]
async fn the_real_tokio_clock_drives_the_ring_timeout_too() {
    let q = QueueConfig { ring_timeout_secs: 1, ..queue("q") };
    let (dialer, mut rings) = ScriptedDialer::new();
    let acd = Acd::spawn(config(vec![q], vec![agent("A"), agent("B")]), TokioClock::new(), dialer, Arc::new(NoSupervision)).unwrap();
    acd.agent_login("A", "8001").await.unwrap();
    acd.agent_login("B", "8002").await.unwrap();
    let _t = acd.enqueue(call("1"), "q").await.unwrap();
    let first = tokio::time::timeout(GUARD, rings.recv()).await.unwrap().unwrap();
    // Nobody answers A; after ~1 s of real time the ACD stops it and rings B.
    let second = tokio::time::timeout(GUARD, rings.recv()).await.unwrap().unwrap();
    assert_eq!((first.agent(), second.agent()), ("A", "B"));
    assert!(first.cancelled());
}

/// 话后 pressed during a call holds that call's wrap-up open past the timer until the agent picks
/// a state; pressed without a call it is refused; pressed during a timed wrap-up it stops the timer.
#[tokio::test]
async fn wrap_up_button_holds_wrap_up_open_until_a_state_is_chosen() {
    let q = QueueConfig { wrap_up_secs: 10, ..queue("q") };
    let mut h = Harness::new(config(vec![q], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    assert_eq!(h.acd.set_state("A", RequestedState::WrapUp).await, Err(AcdError::NoCallToWrapUp("A".into())));

    let mut t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    h.answer(r, &mut t).await;
    h.acd.set_state("A", RequestedState::WrapUp).await.unwrap();
    h.acd.call_ended("1").await.unwrap();
    h.advance(60).await;
    assert!(matches!(h.state("A").await, AgentState::WrapUp { until_ms: u64::MAX, .. }), "held open past the 10 s timer");
    h.acd.set_state("A", RequestedState::Ready).await.unwrap();
    assert_eq!(h.state("A").await, AgentState::Ready);

    // A timed wrap-up, then 话后 after 5 s: the timer no longer ends it.
    let mut t = h.enqueue(call("2"), "q").await;
    let r = h.ring().await;
    h.answer(r, &mut t).await;
    h.acd.call_ended("2").await.unwrap();
    h.advance(5).await;
    h.acd.set_state("A", RequestedState::WrapUp).await.unwrap();
    h.advance(30).await;
    assert!(matches!(h.state("A").await, AgentState::WrapUp { .. }), "still wrapping up");
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    assert_eq!(h.state("A").await, AgentState::Break);
}
