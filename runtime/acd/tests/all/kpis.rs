//! KPIs with the console's definitions: on a constructed history, and end to end through the ACD.

use courtyard_acd::stats::{self, CallOutcome, CallRecord, History, OfferRecord, OfferResult, StateKind, StateSpan};
use courtyard_acd::*;

use crate::common::*;

const S: u64 = 1000;

fn rec(id: &str, queue: &str, enq: u64, wait: u64, outcome: CallOutcome, agent: Option<&str>, thw: Option<(u64, u64, u64)>) -> CallRecord {
    let (talk, hold, wrap) = thw.unwrap_or((0, 0, 0));
    CallRecord {
        call_id: id.into(),
        queue: queue.into(),
        caller: "138".into(),
        enqueued_ms: enq * S,
        left_ms: (enq + wait) * S,
        outcome,
        agent_id: agent.map(str::to_string),
        talk_ms: talk * S,
        hold_ms: hold * S,
        wrap_ms: wrap * S,
        handled: thw.is_some(),
        callback: false,
    }
}

fn history() -> History {
    use CallOutcome::*;
    let mut h = History::default();
    for r in [
        rec("1", "q", 100, 10, Answered, Some("A"), Some((100, 20, 30))),
        rec("2", "q", 110, 25, Answered, Some("B"), Some((200, 0, 10))),
        rec("3", "q", 120, 20, Answered, Some("A"), Some((50, 10, 0))), // exactly T: within
        rec("4", "q", 130, 5, Answered, Some("B"), None),             // still talking: not handled
        rec("5", "q", 140, 3, Abandoned, None, None),                 // short abandon
        rec("6", "q", 150, 40, Abandoned, None, None),
        rec("7", "q", 160, 5, Abandoned, None, None), // exactly the short threshold: counts
        rec("8", "q", 170, 120, Timeout, None, None),
        rec("9", "q", 180, 30, CallbackRequested, None, None),
        rec("10", "other", 190, 1, Answered, Some("A"), Some((10, 0, 0))),
        rec("11", "q", 10, 1, Abandoned, None, None), // before the window
    ] {
        h.push_call(r);
    }
    let span = |kind, from: u64, to: u64| StateSpan { agent_id: "A".into(), kind, from_ms: from * S, to_ms: to * S };
    for s in [
        span(StateKind::Ready, 0, 100),
        span(StateKind::Ringing, 100, 110),
        span(StateKind::OnCall, 110, 260),
        span(StateKind::WrapUp, 260, 290),
        span(StateKind::NotReady, 290, 400),
        span(StateKind::Break, 400, 500),
        span(StateKind::Ready, 500, 560),
        StateSpan { agent_id: "B".into(), kind: StateKind::OnCall, from_ms: 0, to_ms: 900 * S },
    ] {
        h.push_span(s);
    }
    let offer = |at: u64, result| OfferRecord { call_id: "x".into(), agent_id: "A".into(), at_ms: at * S, result };
    for o in [
        offer(100, OfferResult::Answered),
        offer(200, OfferResult::NoAnswer),
        offer(300, OfferResult::NoAnswer),
        offer(400, OfferResult::Rejected),
        offer(700, OfferResult::NoAnswer), // after the window
    ] {
        h.push_offer(o);
    }
    h
}

#[test]
fn queue_kpis_on_a_constructed_history() {
    let w = Window { from_ms: 50 * S, to_ms: 650 * S };
    let k = stats::queue_kpis(&history(), Some("q"), w, 20, 5);
    assert_eq!((k.queued, k.answered, k.answered_within_threshold), (9, 4, 3));
    assert_eq!((k.abandoned, k.short_abandoned, k.timed_out, k.callbacks, k.handled), (3, 1, 1, 1, 3));
    // SL = 3 within ÷ (4 answered + 3 abandoned − 1 short) = 3/6.
    assert_eq!(k.service_level, Some(0.5));
    // ASA = (10 + 25 + 20 + 5) / 4.
    assert_eq!(k.asa_secs, Some(15.0));
    // AHT = ((100+20+30) + (200+0+10) + (50+10+0)) / 3 handled.
    assert_eq!(k.aht_secs, Some(140.0));
    // Abandonment = 3 abandoned ÷ 9 queued (the callback is not an abandon).
    assert_eq!(k.abandonment, Some(3.0 / 9.0));
    assert_eq!(k.longest_answered_wait_secs, 25.0);
    let all = stats::queue_kpis(&history(), None, Window::ALL, 20, 5);
    assert_eq!((all.queued, all.answered, all.abandoned), (11, 5, 4));
    let none = stats::queue_kpis(&History::default(), Some("q"), Window::ALL, 20, 5);
    assert_eq!((none.service_level, none.asa_secs, none.aht_secs, none.abandonment), (None, None, None, None));
}

#[test]
fn agent_kpis_and_occupancy_on_a_constructed_history() {
    let w = Window { from_ms: 50 * S, to_ms: 650 * S };
    // The open span: A on a call since 560 s, counted up to "now" and clipped at the window end.
    let open = StateSpan { agent_id: "A".into(), kind: StateKind::OnCall, from_ms: 560 * S, to_ms: 700 * S };
    let k = stats::agent_kpis(&history(), "A", w, Some(&open));
    assert_eq!((k.offered, k.answered, k.no_answer, k.rejected), (4, 1, 2, 1));
    // Handled by A in the window: calls 1 and 3 (call 10 is in "other" but is A's too).
    assert_eq!((k.handled, k.talk_ms, k.hold_ms, k.wrap_ms), (3, 160 * S, 30 * S, 30 * S));
    assert_eq!(k.aht_secs, Some(220.0 / 3.0));
    // handle = 150 on call + 30 wrap + 90 open on call (560..650); idle = 50 ready (50..100) + 10 ringing + 60 ready.
    assert_eq!((k.handle_state_ms, k.idle_ms, k.not_ready_ms, k.break_ms), (270 * S, 120 * S, 110 * S, 100 * S));
    assert_eq!(k.occupancy, Some(270.0 / 390.0));
}

#[tokio::test]
async fn kpis_of_a_scripted_day_through_the_acd() {
    let q = QueueConfig { wrap_up_secs: 10, service_level_secs: 20, short_abandon_secs: 5, ..queue("q") };
    let mut h = Harness::new(config(vec![q], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    // Call 1: rings at once, answered after 4 s; 60 s talk, 20 s hold, 40 s talk; 10 s wrap-up.
    let mut t = h.enqueue(call("1"), "q").await;
    let r = h.ring().await;
    h.advance(4).await;
    h.answer(r, &mut t).await;
    h.advance(60).await;
    h.acd.hold("1", true).await.unwrap();
    h.advance(20).await;
    h.acd.hold("1", false).await.unwrap();
    h.advance(40).await;
    h.acd.call_ended("1").await.unwrap();
    h.advance(10).await;
    // Call 2: A on break, caller waits 30 s, rings 5 s (wait 35 s, outside T); 50 s talk.
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    let mut t = h.enqueue(call("2"), "q").await;
    h.advance(30).await;
    h.acd.set_state("A", RequestedState::Ready).await.unwrap();
    let r = h.ring().await;
    h.advance(5).await;
    h.answer(r, &mut t).await;
    h.advance(50).await;
    h.acd.call_ended("2").await.unwrap();
    h.advance(10).await;
    // Calls 3 and 4 abandon after 3 s (short) and 10 s while A is on break.
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    let _t3 = h.enqueue(call("3"), "q").await;
    let _t4 = h.enqueue(call("4"), "q").await;
    h.advance(3).await;
    h.acd.caller_left("3").await.unwrap();
    h.advance(7).await;
    h.acd.caller_left("4").await.unwrap();

    let k = h.acd.queue_kpis(Some("q"), Window::ALL).await.unwrap();
    assert_eq!((k.queued, k.answered, k.abandoned, k.short_abandoned, k.handled), (4, 2, 2, 1, 2));
    assert_eq!(k.service_level, Some(1.0 / 3.0)); // 1 within ÷ (2 + 2 − 1)
    assert_eq!(k.asa_secs, Some(19.5)); // (4 + 35) / 2
    assert_eq!(k.aht_secs, Some(95.0)); // ((100 + 20 + 10) + (50 + 0 + 10)) / 2
    assert_eq!(k.abandonment, Some(0.5));
    let a = h.acd.agent_kpis("A", Window::ALL).await.unwrap();
    // handle = 120 + 10 + 50 + 10; idle = 4 + 5 ringing (ready moments in between are 0 s).
    assert_eq!((a.handle_state_ms, a.idle_ms, a.break_ms), (190 * S, 9 * S, 40 * S));
    assert_eq!(a.occupancy, Some(190.0 / 199.0));
    assert_eq!((a.talk_ms, a.hold_ms, a.wrap_ms), (150 * S, 20 * S, 20 * S));
    let snap = h.acd.snapshot().await.unwrap();
    assert_eq!(snap.agents[0].calls_today, 2);
    // The wallboard's "today" (09:00 local start) covers the whole script: same numbers.
    assert_eq!(snap.queues[0].today, k);
    assert_eq!(snap.agents[0].today, a);
    let missed = h.acd.missed_calls(false).await.unwrap();
    assert_eq!(missed.iter().map(|m| (m.call_id.as_str(), m.short)).collect::<Vec<_>>(), [("4", false), ("3", true)]);
}
