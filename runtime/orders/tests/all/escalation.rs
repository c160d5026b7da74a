//! The SLA ladder on an injected clock, across store restarts: every level fires once, none is
//! missed, and each firing is logged and notifies its targets.

use crate::common::*;
use chrono::Duration;
use courtyard_orders::{EscalationEvent, Notification, Workflow};
use courtyard_store::model::{Category, OrderState};
use std::sync::Arc;

fn escalation_sms(wf: &Workflow, order: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = wf
        .store()
        .list::<Notification>(|n| n.id.starts_with("esc-") && n.order_id.as_deref() == Some(order), 0, usize::MAX)
        .unwrap()
        .items
        .into_iter()
        .map(|n| (n.id, n.to))
        .collect();
    v.sort();
    v
}

fn levels(wf: &Workflow, order: &str) -> Vec<u8> {
    wf.escalations_of(order).unwrap().into_iter().map(|e| e.level).collect()
}

#[tokio::test]
async fn ladder_fires_each_level_once_across_restarts() {
    let mut env = Env::new();
    let id;
    {
        let wf = env.workflow(config());
        let o = new_order(&env.store(), "xfhy", Category::Repair).await;
        id = o.id.clone();
        wf.dispatch(&id, "agent").await.unwrap(); // assignee 李经理

        env.at(Duration::hours(3) + Duration::minutes(59));
        assert!(wf.scan_once().await.unwrap().fired.is_empty(), "nothing before 4 h");
        env.at(Duration::hours(4));
        assert_eq!(wf.scan_once().await.unwrap().fired, vec![(id.clone(), 1)]);
        assert!(wf.scan_once().await.unwrap().fired.is_empty(), "second scan fires nothing");
    }
    env.restart();
    {
        let wf = env.workflow(config());
        env.at(Duration::hours(5));
        assert!(wf.scan_once().await.unwrap().fired.is_empty(), "no double firing after restart");
        env.at(Duration::days(3));
        assert_eq!(wf.scan_once().await.unwrap().fired, vec![(id.clone(), 2)]);
        // the assignee accepts on day 4: the "until accepted" levels are satisfied, later ones run on
        env.at(Duration::days(4));
        wf.accept(&id, "李经理").await.unwrap();
    }
    env.restart();
    {
        // down for 12 days: on restart at day 16 both the 7-day and the 15-day levels are due
        let wf = env.workflow(config());
        env.at(Duration::days(16));
        let fired = wf.scan_once().await.unwrap().fired;
        assert_eq!(fired, vec![(id.clone(), 3), (id.clone(), 4)], "no missed level, ladder order");
        env.at(Duration::days(19));
        assert!(wf.scan_once().await.unwrap().fired.is_empty());
    }
    env.restart();
    let wf = env.workflow(config());
    env.at(Duration::days(20));
    assert_eq!(wf.scan_once().await.unwrap().fired, vec![(id.clone(), 5)]);
    env.at(Duration::days(40));
    assert!(wf.scan_once().await.unwrap().fired.is_empty(), "the ladder ends at level 5");

    assert_eq!(levels(&wf, &id), vec![1, 2, 3, 4, 5]);
    let log = wf.escalations_of(&id).unwrap();
    let t0 = t0();
    let fired_at: Vec<_> = log.iter().map(|e| e.fired_at - t0).collect();
    assert_eq!(fired_at, vec![Duration::hours(4), Duration::days(3), Duration::days(16), Duration::days(16), Duration::days(20)]);
    assert_eq!(log[1].targets, vec!["assignee: 李经理", "direct-leader: 孙主管"]);
    assert_eq!(log[1].state, OrderState::Dispatched);
    assert_eq!(log[2].state, OrderState::Accepted);
    // exactly one SMS per target per level, to the right people
    assert_eq!(
        escalation_sms(&wf, &id),
        vec![
            (format!("esc-{id}-1-0"), "13900000001".to_string()),
            (format!("esc-{id}-2-0"), "13900000001".to_string()),
            (format!("esc-{id}-2-1"), "13900000010".to_string()),
            (format!("esc-{id}-3-0"), "13900000011".to_string()),
            (format!("esc-{id}-4-0"), "13900000012".to_string()),
            (format!("esc-{id}-5-0"), "13900000013".to_string()),
        ]
    );
    let ov = wf.escalations_overview().unwrap();
    assert_eq!(ov.levels.len(), 1);
    assert_eq!((ov.levels[0].level, ov.levels[0].orders[0].order_id.as_str()), (5, id.as_str()));
}

#[tokio::test]
async fn crash_between_enqueue_and_record_does_not_notify_twice() {
    let env = Env::new();
    let wf = env.workflow(config());
    let o = new_order(&env.store(), "xfhy", Category::Repair).await;
    wf.dispatch(&o.id, "agent").await.unwrap();
    // what a scan that died after queueing level 1's SMS leaves behind
    env.at(Duration::hours(4));
    let mut early = Notification::queued(format!("esc-{}-1-0", o.id), "sms", "13900000001", "L1", env.store().now());
    early.order_id = Some(o.id.clone());
    env.store().put(&early).await.unwrap();
    env.at(Duration::hours(4) + Duration::minutes(1));
    assert_eq!(wf.scan_once().await.unwrap().fired, vec![(o.id.clone(), 1)]);
    let sms = escalation_sms(&wf, &o.id);
    assert_eq!(sms.len(), 1, "{sms:?}");
    let n = wf.notification(&sms[0].0).unwrap().unwrap();
    assert_eq!(n.text, "L1", "the queued message was kept, not replaced");
    let ev: EscalationEvent = wf.escalations_of(&o.id).unwrap().remove(0);
    assert_eq!(ev.fired_at, t0() + Duration::hours(4), "fired_at is when it was queued");
}

#[tokio::test]
async fn progress_stops_timers_and_closed_orders_leave_the_overview() {
    let env = Env::new();
    let wf = env.workflow(config());
    let s = env.store();
    let fast = new_order(&s, "xfhy", Category::Repair).await;
    let slow = new_order(&s, "xfhy", Category::Repair).await;
    let never = new_order(&s, "lyjy", Category::Inquiry).await; // stays new, no assignee
    for o in [&fast, &slow] {
        wf.dispatch(&o.id, "agent").await.unwrap();
    }
    env.at(Duration::hours(1));
    wf.accept(&fast.id, "李经理").await.unwrap();
    wf.start_work(&fast.id, "李经理").await.unwrap();
    wf.finish(&fast.id, "李经理", None).await.unwrap();
    env.at(Duration::days(8));
    let fired = wf.scan_once().await.unwrap().fired;
    assert!(!fired.iter().any(|(id, _)| id == &fast.id), "done orders do not escalate: {fired:?}");
    assert_eq!(levels(&wf, &slow.id), vec![1, 2, 3]);
    // no assignee: level 1 targets only the assignee, so it is logged with nobody to tell
    assert_eq!(levels(&wf, &never.id), vec![1, 2, 3]);
    assert!(wf.escalations_of(&never.id).unwrap()[0].notifications.is_empty());
    let ov = wf.escalations_overview().unwrap();
    assert_eq!(ov.levels.iter().map(|g| (g.level, g.orders.len())).collect::<Vec<_>>(), vec![(3, 2)]);
    wf.cancel(&never.id, "agent", "业主撤销").await.unwrap();
    let ov = wf.escalations_overview().unwrap();
    assert_eq!(ov.levels[0].orders.iter().map(|o| o.order_id.clone()).collect::<Vec<_>>(), vec![slow.id.clone()]);
}

#[tokio::test]
async fn background_scheduler_fires_on_the_injected_clock() {
    let env = Env::new();
    let mut cfg = config();
    cfg.tick_ms = 20;
    cfg.scan_ms = 20;
    let wf = Arc::new(env.workflow(cfg));
    let o = new_order(&env.store(), "xfhy", Category::Repair).await;
    wf.dispatch(&o.id, "agent").await.unwrap();
    let handle = wf.clone().spawn();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(wf.escalations_of(&o.id).unwrap().is_empty());
    env.at(Duration::hours(5));
    eventually("level 1 fired by the loop", || !wf.escalations_of(&o.id).unwrap().is_empty()).await;
    handle.shutdown().await;
    assert_eq!(levels(&wf, &o.id), vec![1]);
}
