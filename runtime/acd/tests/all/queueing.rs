//! Waiting: maximum wait, overflow, announcements, empty queues, callbacks, events.

use courtyard_acd::*;

use crate::common::*;

#[tokio::test]
async fn max_wait_without_overflow_times_out_and_records_a_missed_call() {
    let q = QueueConfig { max_wait_secs: Some(120), ..queue("q") };
    let h = Harness::new(config(vec![q], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    let mut t = h.enqueue(call("1"), "q").await;
    assert!(matches!(next_event(&mut t).await, QueueEvent::Queued { position: 1, .. }));
    h.advance(119).await;
    assert!(drain(&mut t).is_empty());
    h.advance(1).await;
    assert!(matches!(next_event(&mut t).await, QueueEvent::Timeout));
    assert!(t.next().await.is_none(), "final: the ACD dropped the ticket's sender");
    let m = h.acd.missed_calls(true).await.unwrap();
    assert_eq!((m[0].reason, m[0].waited_ms), (MissedReason::Timeout, 120_000));
}

#[tokio::test]
async fn max_wait_overflows_to_another_queue_where_other_agents_answer() {
    let first = QueueConfig {
        max_wait_secs: Some(60),
        skills: vec![SkillReq::new("报修", 1)],
        overflow: Some(OverflowTarget::Queue { name: "general".into() }),
        ..queue("repairs")
    };
    let general = QueueConfig { max_wait_secs: Some(60), overflow: Some(OverflowTarget::Voicemail), ..queue("general") };
    let agents = vec![agent("R").skill("报修", 5), agent("G")];
    let mut h = Harness::new(config(vec![first, general], agents));
    h.login(&[("R", "8001"), ("G", "8002")]).await;
    h.acd.set_state("G", RequestedState::Break).await.unwrap();
    // R is busy with another call; the repairs caller overflows after 60 s.
    let mut busy = h.enqueue(call("busy"), "repairs").await;
    let r = h.ring().await;
    h.answer(r, &mut busy).await;
    let mut t = h.enqueue(call("1"), "repairs").await;
    h.advance(60).await;
    let evs = drain(&mut t);
    assert!(evs.iter().any(|e| matches!(e, QueueEvent::Overflow { target: OverflowTarget::Queue { name } } if name == "general")));
    assert!(matches!(evs.last(), Some(QueueEvent::Queued { position: 1, .. })));
    // In 'general' the new max wait runs from the overflow; G comes back at +30 s and answers.
    h.advance(30).await;
    h.acd.set_state("G", RequestedState::Ready).await.unwrap();
    let r = h.ring().await;
    assert_eq!(h.answer(r, &mut t).await, "G");
    let k = h.acd.queue_kpis(Some("repairs"), Window::ALL).await.unwrap();
    assert_eq!((k.queued, k.overflowed, k.answered), (2, 1, 1));
    let k = h.acd.queue_kpis(Some("general"), Window::ALL).await.unwrap();
    assert_eq!((k.queued, k.answered, k.asa_secs), (1, 1, Some(30.0)));

    // A second caller overflows twice and leaves to voicemail.
    h.acd.set_state("G", RequestedState::Break).await.unwrap();
    let mut t2 = h.enqueue(call("2"), "repairs").await;
    h.advance(60).await;
    h.advance(60).await;
    let evs = drain(&mut t2);
    assert!(matches!(evs.last(), Some(QueueEvent::Overflow { target: OverflowTarget::Voicemail })));
    assert_eq!(h.acd.missed_calls(true).await.unwrap()[0].reason, MissedReason::Overflow);
}

#[tokio::test]
async fn position_announcements_follow_the_schedule_and_the_queue() {
    let q = QueueConfig {
        announce: AnnounceConfig { enabled: true, first_after_secs: 30, every_secs: 60, ..Default::default() },
        default_aht_secs: 120,
        ..queue("q")
    };
    let mut h = Harness::new(config(vec![q], vec![agent("A"), agent("B")]));
    h.login(&[("A", "8001"), ("B", "8002")]).await;
    // A and B on calls (serving agents = 2), so three more callers wait.
    let mut busy = Vec::new();
    for id in ["x", "y"] {
        let mut t = h.enqueue(call(id), "q").await;
        let r = h.ring().await;
        h.answer(r, &mut t).await;
        busy.push(t);
    }
    let mut waiting = Vec::new();
    for id in ["1", "2", "3"] {
        let mut t = h.enqueue(call(id), "q").await;
        drain(&mut t);
        waiting.push(t);
    }
    h.advance(29).await;
    assert!(waiting.iter_mut().all(|t| drain(t).is_empty()));
    h.advance(1).await;
    let texts: Vec<String> = waiting
        .iter_mut()
        .map(|t| match drain(t).pop() {
            Some(QueueEvent::Announcement(a)) => a.text,
            other => panic!("expected an announcement, got {other:?}"),
        })
        .collect();
    // est = position × 120 s ÷ 2 agents: 60 s, 120 s, 180 s.
    assert_eq!(texts, ["您是下一位,预计等待1分钟", "您前面还有1位,预计等待2分钟", "您前面还有2位,预计等待3分钟"]);
    // Caller 1 hangs up; a minute later caller 3 hears the new position.
    h.acd.caller_left("1").await.unwrap();
    h.advance(60).await;
    match drain(&mut waiting[2]).pop() {
        Some(QueueEvent::Announcement(a)) => {
            assert_eq!((a.position, a.ahead, a.est_wait_secs), (2, 1, 120));
            assert_eq!(a.text, "您前面还有1位,预计等待2分钟");
        }
        other => panic!("expected an announcement, got {other:?}"),
    }
}

#[tokio::test]
async fn nobody_logged_in_ends_the_wait_at_once_unless_configured_to_wait() {
    let keep = QueueConfig { leave_when_empty: false, ..queue("keep") };
    let mut h = Harness::new(config(vec![queue("q"), keep], vec![agent("A")]));
    let mut t = h.enqueue(call("1"), "q").await;
    assert!(matches!(next_event(&mut t).await, QueueEvent::Timeout));
    let mut t = h.enqueue(call("2"), "keep").await;
    assert!(matches!(next_event(&mut t).await, QueueEvent::Queued { .. }));
    h.login(&[("A", "8001")]).await;
    assert_eq!(h.ring().await.call_id(), "2");
}

#[tokio::test]
async fn callback_request_leaves_the_queue_and_is_not_an_abandon() {
    let h = Harness::new(config(vec![queue("q")], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    let _t = h.enqueue(call("1"), "q").await;
    h.advance(40).await;
    h.acd.request_callback("1", false).await.unwrap();
    let k = h.acd.queue_kpis(Some("q"), Window::ALL).await.unwrap();
    assert_eq!((k.queued, k.abandoned, k.callbacks, k.abandonment), (1, 0, 1, Some(0.0)));
    assert_eq!(h.acd.missed_calls(true).await.unwrap()[0].reason, MissedReason::CallbackRequested);
    assert_eq!(h.acd.caller_left("1").await, Err(AcdError::UnknownCall("1".into())));
}

#[tokio::test]
async fn bad_requests_say_what_is_wrong() {
    let h = Harness::new(config(vec![queue("q")], vec![agent("A"), agent("B")]));
    assert_eq!(h.acd.enqueue(call("1"), "nope").await.unwrap_err(), AcdError::UnknownQueue("nope".into()));
    assert_eq!(h.acd.agent_login("Z", "8001").await, Err(AcdError::UnknownAgent("Z".into())));
    h.login(&[("A", "8001")]).await;
    let e = h.acd.agent_login("B", "8001").await.unwrap_err();
    assert_eq!(e, AcdError::ExtensionInUse { extension: "8001".into(), agent_id: "A".into() });
    assert!(e.to_string().contains("log that agent out first"));
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    let _t = h.enqueue(call("1"), "q").await;
    assert_eq!(h.acd.enqueue(call("1"), "q").await.unwrap_err(), AcdError::DuplicateCall("1".into()));
    let bad = AcdConfig {
        queues: vec![QueueConfig { overflow: Some(OverflowTarget::Queue { name: "ghost".into() }), ..queue("q") }],
        ..Default::default()
    };
    let err = Acd::spawn(bad, ManualClock::new(T0), h.dialer.clone(), std::sync::Arc::new(NoSupervision)).unwrap_err();
    assert!(matches!(err, AcdError::InvalidConfig(m) if m.contains("ghost")));
}

#[tokio::test]
async fn screen_pop_event_precedes_the_ring_and_events_serialize_with_a_type_tag() {
    let mut h = Harness::new(config(vec![queue("q")], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    let c = CallRef { data_ref: Some("resident:42".into()), ..CallRef::new("c1", "13812345678") };
    let mut t = h.enqueue(c, "q").await;
    let r = h.ring().await;
    h.answer(r, &mut t).await;
    let mut evs = Vec::new();
    while let Ok(e) = h.events.try_recv() {
        evs.push(e);
    }
    let kinds: Vec<String> = evs
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    let pos = |k: &str| kinds.iter().position(|x| x == k).unwrap_or_else(|| panic!("{k} missing in {kinds:?}"));
    assert!(pos("call_queued") < pos("offer_started") && pos("offer_started") < pos("call_answered"));
    let offer = evs.iter().find(|e| matches!(e, AcdEvent::OfferStarted { .. })).unwrap();
    let json = serde_json::to_string(offer).unwrap();
    assert!(json.contains(r#""data_ref":"resident:42""#) && json.contains(r#""extension":"8001""#), "{json}");
    let back: AcdEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, offer);
}

#[tokio::test]
async fn a_kept_place_callback_rings_an_agent_in_turn_and_counts_only_in_aht() {
    let q = QueueConfig {
        max_wait_secs: Some(60),
        wrap_up_secs: 0,
        announce: AnnounceConfig { enabled: true, first_after_secs: 10, every_secs: 10, ..Default::default() },
        ..queue("q")
    };
    let mut h = Harness::new(config(vec![q], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    let mut first = h.enqueue(CallRef::new("1", "13811111111"), "q").await;
    let mut second = h.enqueue(CallRef::new("2", "13822222222"), "q").await;
    drain(&mut first);
    h.advance(5).await;
    h.acd.request_callback("1", true).await.unwrap();
    // The caller is gone, but their place holds: caller 2 is still second.
    assert_eq!(h.acd.position("2").await.unwrap().map(|p| p.0), Some(2));
    // No announcements and no max-wait timeout for the kept place.
    h.advance(100).await;
    assert!(drain(&mut first).is_empty());
    assert!(matches!(drain(&mut second).last(), Some(QueueEvent::Timeout)), "caller 2 timed out normally");
    h.acd.set_state("A", RequestedState::Ready).await.unwrap();
    let r = h.ring().await;
    assert!(r.req.callback && r.req.call.caller == "13811111111", "the agent is rung for the call back");
    assert_eq!(h.answer(r, &mut first).await, "A");
    h.advance(90).await;
    h.acd.call_ended("1").await.unwrap();
    let k = h.acd.queue_kpis(Some("q"), Window::ALL).await.unwrap();
    // Queued: the request (callback) and caller 2 (timeout); the call back adds only handle time.
    assert_eq!((k.queued, k.callbacks, k.timed_out, k.answered, k.abandoned), (2, 1, 1, 0, 0));
    assert_eq!((k.handled, k.aht_secs), (1, Some(90.0)));
    let a = h.acd.agent_kpis("A", Window::ALL).await.unwrap();
    assert_eq!((a.answered, a.handled, a.talk_ms), (1, 1, 90_000));
    // A kept place can be cancelled by the runtime.
    let _t = h.enqueue(CallRef::new("3", "13833333333"), "q").await;
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    h.acd.request_callback("3", true).await.unwrap();
    h.acd.caller_left("3").await.unwrap();
    assert_eq!(h.acd.position("3").await.unwrap(), None);
    assert_eq!(h.acd.snapshot().await.unwrap().queues[0].waiting, 0);
}
