//! Routing order of each strategy, skills with levels, priorities and the sticky agent.

use courtyard_acd::*;

use crate::common::*;

fn with_strategy(s: Strategy) -> AcdConfig {
    config(vec![QueueConfig { strategy: s, ..queue("q") }], vec![agent("A"), agent("B"), agent("C")])
}

#[tokio::test]
async fn longest_idle_goes_to_whoever_waited_longest_since_their_last_call() {
    let mut h = Harness::new(with_strategy(Strategy::LongestIdle));
    // Log in C first, then A, then B: idle order C, A, B.
    h.login(&[("C", "8003")]).await;
    h.advance(1).await;
    h.login(&[("A", "8001")]).await;
    h.advance(1).await;
    h.login(&[("B", "8002")]).await;
    let mut served = Vec::new();
    for i in 0..4 {
        h.advance(1).await;
        served.push(h.serve(call(&format!("{i}")), "q").await);
    }
    // After serving, C is idle newest, so the order cycles C, A, B, C.
    assert_eq!(served, ["C", "A", "B", "C"]);
}

#[tokio::test]
async fn round_robin_walks_agents_in_registration_order_regardless_of_idle_time() {
    let mut h = Harness::new(with_strategy(Strategy::RoundRobin));
    h.login(&[("C", "8003"), ("A", "8001"), ("B", "8002")]).await;
    let mut served = Vec::new();
    for i in 0..4 {
        h.advance(1).await;
        served.push(h.serve(call(&format!("{i}")), "q").await);
    }
    // Registration (config) order is A, B, C.
    assert_eq!(served, ["A", "B", "C", "A"]);
}

#[tokio::test]
async fn fewest_calls_today_prefers_the_least_loaded_agent_over_the_longest_idle() {
    for (strategy, expected) in [(Strategy::FewestCalls, ["B", "C"]), (Strategy::LongestIdle, ["A", "B"])] {
        let mut h = Harness::new(with_strategy(strategy));
        h.login(&[("A", "8001"), ("B", "8002"), ("C", "8003")]).await;
        h.acd.set_state("B", RequestedState::NotReady { reason: "会议".into() }).await.unwrap();
        h.acd.set_state("C", RequestedState::Break).await.unwrap();
        // A alone takes two calls and is then idle since t+2.
        for i in 0..2 {
            h.advance(1).await;
            assert_eq!(h.serve(call(&format!("seed{i}")), "q").await, "A");
        }
        h.advance(10).await;
        h.acd.set_state("B", RequestedState::Ready).await.unwrap();
        h.acd.set_state("C", RequestedState::Ready).await.unwrap();
        // Two simultaneous calls: both get offered at once.
        let mut t1 = h.enqueue(call("x1"), "q").await;
        let r1 = h.ring().await;
        let mut t2 = h.enqueue(call("x2"), "q").await;
        let r2 = h.ring().await;
        let got = [h.answer(r1, &mut t1).await, h.answer(r2, &mut t2).await];
        assert_eq!(got, expected, "{strategy:?}");
    }
}

#[tokio::test]
async fn skills_based_picks_the_highest_level_and_ignores_agents_below_the_minimum() {
    let q = QueueConfig { strategy: Strategy::SkillsBased, skills: vec![SkillReq::new("报修", 3)], ..queue("repairs") };
    let agents = vec![
        agent("A").skill("报修", 2),
        agent("B").skill("报修", 5),
        agent("C").skill("报修", 8),
        agent("D").skill("投诉", 9),
    ];
    let mut h = Harness::new(config(vec![q], agents));
    h.login(&[("A", "8001"), ("B", "8002"), ("C", "8003"), ("D", "8004")]).await;
    let mut tickets = Vec::new();
    let mut got = Vec::new();
    for i in 0..2 {
        let mut t = h.enqueue(call(&format!("{i}")), "repairs").await;
        let r = h.ring().await;
        got.push(h.answer(r, &mut t).await);
        tickets.push(t);
    }
    assert_eq!(got, ["C", "B"]);
    // A (level 2 < 3) and D (no 报修) are never offered: the third call waits.
    let _t3 = h.enqueue(call("3"), "repairs").await;
    h.no_ring().await;
}

#[tokio::test]
async fn call_skills_and_estate_skill_narrow_the_eligible_agents() {
    let q = QueueConfig { estate_skill: true, ..queue("q") };
    let agents = vec![agent("A"), agent("B").skill("estate:翠园", 1).skill("English", 4)];
    let mut h = Harness::new(config(vec![q], agents));
    h.login(&[("A", "8001")]).await;
    h.advance(1).await;
    h.login(&[("B", "8002")]).await; // A is idle longer, but lacks the skills
    let c = CallRef { estate: Some("翠园".into()), ..call("1") };
    assert_eq!(h.serve(c, "q").await, "B");
    let c = CallRef { skills: vec![SkillReq::new("English", 3)], ..call("2") };
    assert_eq!(h.serve(c, "q").await, "B");
    assert_eq!(h.serve(call("3"), "q").await, "A");
}

#[tokio::test]
async fn emergency_then_vip_then_priority_then_arrival() {
    let mut h = Harness::new(config(vec![queue("q")], vec![agent("A")]));
    h.login(&[("A", "8001")]).await;
    h.acd.set_state("A", RequestedState::NotReady { reason: "培训".into() }).await.unwrap();
    let calls = [
        call("normal1"),
        CallRef { priority: 5, ..call("prio5") },
        CallRef { vip: true, ..call("vip") },
        CallRef { emergency: true, ..call("emergency") },
        call("normal2"),
        CallRef { vip: true, priority: 9, ..call("vip9") },
    ];
    let mut tickets = Vec::new();
    for c in calls {
        h.advance(1).await;
        tickets.push(h.enqueue(c, "q").await);
    }
    assert_eq!(h.acd.position("emergency").await.unwrap().map(|p| p.0), Some(1));
    assert_eq!(h.acd.position("normal2").await.unwrap().map(|p| p.0), Some(6));
    h.acd.set_state("A", RequestedState::Ready).await.unwrap();
    let mut order = Vec::new();
    for _ in 0..6 {
        let r = h.ring().await;
        let id = r.call_id().to_string();
        let t = tickets.iter_mut().find(|t| t.call_id == id).unwrap();
        h.answer(r, t).await;
        h.acd.call_ended(&id).await.unwrap();
        order.push(id);
    }
    assert_eq!(order, ["emergency", "vip9", "vip", "prio5", "normal1", "normal2"]);
}

fn sticky_config() -> AcdConfig {
    config(vec![QueueConfig { sticky_secs: Some(30), ..queue("q") }], vec![agent("A"), agent("B"), agent("C")])
}

#[tokio::test]
async fn sticky_agent_gets_the_returning_caller_when_ready_within_the_window() {
    let mut h = Harness::new(sticky_config());
    h.login(&[("B", "8002")]).await;
    let first = CallRef::new("c1", "13912345678");
    assert_eq!(h.serve(first, "q").await, "B");
    h.advance(1).await;
    h.login(&[("A", "8001")]).await;
    // B (idle longest) takes someone else's call just before the caller returns; A stays ready.
    let mut busy = h.enqueue(CallRef::new("busy", "13600000000"), "q").await;
    let r = h.ring().await;
    assert_eq!(h.answer(r, &mut busy).await, "B");
    h.advance(1).await;
    let mut back = h.enqueue(CallRef::new("c2", "13912345678"), "q").await;
    h.no_ring().await; // A is ready but the call waits for B
    h.advance(20).await;
    h.no_ring().await;
    h.acd.call_ended("busy").await.unwrap(); // B ready at +21 s < 30 s
    let r = h.ring().await;
    assert_eq!((r.agent(), r.call_id()), ("B", "c2"));
    assert_eq!(h.answer(r, &mut back).await, "B");
}

#[tokio::test]
async fn sticky_agent_not_ready_in_time_falls_back_after_the_window() {
    let mut h = Harness::new(sticky_config());
    h.login(&[("B", "8002")]).await;
    assert_eq!(h.serve(CallRef::new("c1", "13912345678"), "q").await, "B");
    h.acd.set_state("B", RequestedState::Break).await.unwrap();
    h.login(&[("A", "8001")]).await;
    let mut back = h.enqueue(CallRef::new("c2", "13912345678"), "q").await;
    h.advance(29).await;
    h.no_ring().await;
    h.advance(1).await;
    let r = h.ring().await;
    assert_eq!(r.agent(), "A");
    assert_eq!(h.answer(r, &mut back).await, "A");
    // The memory now points at A: the next return waits for A, not B.
    h.acd.call_ended("c2").await.unwrap();
    h.acd.set_state("B", RequestedState::Ready).await.unwrap();
    h.acd.set_state("A", RequestedState::Break).await.unwrap();
    let _t = h.enqueue(CallRef::new("c3", "13912345678"), "q").await;
    h.no_ring().await;
}

#[tokio::test]
async fn preferred_agent_from_the_flow_acts_like_sticky_and_seeded_memory_works() {
    let mut h = Harness::new(sticky_config());
    h.login(&[("A", "8001"), ("B", "8002"), ("C", "8003")]).await;
    let c = CallRef { preferred_agent: Some("C".into()), ..call("1") };
    assert_eq!(h.serve(c, "q").await, "C");
    h.acd.remember_agent("13999999999", "B").await.unwrap();
    assert_eq!(h.serve(CallRef::new("2", "13999999999"), "q").await, "B");
}
