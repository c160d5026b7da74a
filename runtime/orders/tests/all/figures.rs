//! Figures (run explicitly; they print, they do not assert on speed):
//! `cargo test --release -p courtyard-orders --test all figures -- --ignored --nocapture`

use crate::common::*;
use chrono::Duration;
use courtyard_store::model::{Category, OrderState};
use std::time::Instant;

#[tokio::test]
#[ignore]
async fn figures_escalation_scan_10k_open_orders() {
    let env = Env::new();
    let wf = env.workflow(config());
    let s = env.store();
    let n = 10_000;
    let t = Instant::now();
    for i in 0..n {
        let o = new_order(&s, if i % 2 == 0 { "xfhy" } else { "lyjy" }, Category::Repair).await;
        if i % 4 == 0 {
            s.transition_order(&o.id, OrderState::Dispatched, "agent", Some("李经理"), None).await.unwrap();
        }
    }
    println!("created {n} orders in {:?}", t.elapsed());
    let t = Instant::now();
    let r = wf.scan_once().await.unwrap();
    println!("first scan (re-queues {} dispatch SMS): {:?}", r.requeued, t.elapsed());
    let t = Instant::now();
    let r = wf.scan_once().await.unwrap();
    println!("steady scan, {} open orders, nothing due: {:?}", r.orders, t.elapsed());
    env.at(Duration::hours(5));
    let t = Instant::now();
    let r = wf.scan_once().await.unwrap();
    println!("scan firing level 1 for {} orders: {:?}", r.fired.len(), t.elapsed());
    let t = Instant::now();
    let r = wf.scan_once().await.unwrap();
    assert!(r.fired.is_empty());
    println!("steady scan after firing: {:?}", t.elapsed());
    let t = Instant::now();
    let ov = wf.escalations_overview().unwrap();
    println!("overview of {} escalated orders: {:?}", ov.levels.iter().map(|g| g.orders.len()).sum::<usize>(), t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn figures_notifications_delivered_per_second() {
    let (gw, url) = start_gateway(0).await;
    let env = Env::new();
    let mut cfg = config();
    cfg.sms = Some(sms_config(&url));
    let wf = env.workflow(cfg);
    let n = 2000;
    let t = Instant::now();
    for i in 0..n {
        wf.enqueue("sms", "13900000001", &format!("msg {i}")).await.unwrap();
    }
    println!("enqueued {n} in {:?} ({:.0}/s)", t.elapsed(), n as f64 / t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut sent = 0;
    while sent < n {
        sent += wf.deliver_once().await.unwrap().sent;
    }
    let el = t.elapsed();
    assert_eq!(gw.received().len(), n);
    println!("delivered {n} SMS (concurrency 8, durable status) in {el:?}: {:.0}/s", n as f64 / el.as_secs_f64());
    let t = Instant::now();
    let p = wf.deliver_once().await.unwrap();
    assert_eq!(p.attempted, 0);
    println!("idle worker pass over {n} delivered records: {:?}", t.elapsed());
}
