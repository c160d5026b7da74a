//! The 100% callback rule: every finished order gets a 回访 task, completed by an agent or by
//! the survey plugin.

use crate::common::*;
use chrono::Duration;
use courtyard_orders::Workflow;
use courtyard_store::model::{Category, OrderState, WorkOrder};

async fn done_order(wf: &Workflow) -> WorkOrder {
    let o = new_order(wf.store(), "xfhy", Category::Repair).await;
    wf.dispatch(&o.id, "agent").await.unwrap();
    wf.accept(&o.id, "李经理").await.unwrap();
    wf.start_work(&o.id, "李经理").await.unwrap();
    wf.finish(&o.id, "李经理", Some("已修好")).await.unwrap()
}

#[tokio::test]
async fn finishing_creates_a_task_due_after_the_configured_delay() {
    let env = Env::new();
    let mut cfg = config();
    cfg.callback_due_hours = 24;
    let wf = env.workflow(cfg);
    env.at(Duration::hours(2));
    let o = done_order(&wf).await;
    let t = wf.store().get::<courtyard_store::model::CallbackTask>(&format!("cb-{}", o.id)).unwrap().unwrap();
    assert_eq!(t.due, t0() + Duration::hours(26));
    assert_eq!(t.number, "13800138000");
    assert!(wf.due_callbacks(t0() + Duration::hours(25)).unwrap().is_empty());
    let due = wf.due_callbacks(t0() + Duration::hours(26)).unwrap();
    assert_eq!(due.iter().map(|t| t.order_id.clone().unwrap()).collect::<Vec<_>>(), vec![o.id.clone()]);
}

#[tokio::test]
async fn agent_completes_the_callback_and_the_order_closes() {
    let env = Env::new();
    let wf = env.workflow(config());
    let o = done_order(&wf).await;
    wf.start_callback(&o.id, "agent:小李").await.unwrap();
    let out = wf.complete_callback(&o.id, "agent:小李", None, "业主确认已修好", None).await.unwrap();
    assert_eq!(out.order.state, OrderState::Closed);
    assert!(out.child_order.is_none());
    let task = out.task.unwrap();
    assert!(task.done && task.outcome.as_deref() == Some("业主确认已修好 (agent:小李)"), "{task:?}");
    assert!(wf.due_callbacks(t0() + Duration::days(30)).unwrap().is_empty());
    let h = wf.store().order_history(&o.id).unwrap();
    assert_eq!(h.last().unwrap().to, OrderState::Closed);
    assert_eq!(h.last().unwrap().actor, "agent:小李");
    // a second completion is refused
    let e = wf.complete_callback(&o.id, "agent:小李", None, "again", None).await.unwrap_err().to_string();
    assert!(e.contains("closed"), "{e}");
}

#[tokio::test]
async fn survey_plugin_low_score_reopens_a_child_order() {
    let env = Env::new();
    let wf = env.workflow(config());
    let good = done_order(&wf).await;
    let bad = done_order(&wf).await;
    let out = wf.complete_callback(&good.id, "plugin:survey", Some(5), "", None).await.unwrap();
    assert_eq!((out.order.state, out.order.rating, out.child_order.clone()), (OrderState::Closed, Some(5), None));
    let out = wf.complete_callback(&bad.id, "plugin:survey", Some(1), "按键评价", Some("rec-77")).await.unwrap();
    assert_eq!(out.order.state, OrderState::Closed);
    let child = out.child_order.expect("score 1 reopens");
    let c = wf.store().get_order(&child).unwrap().unwrap();
    assert_eq!((c.state, c.parent_id.as_deref()), (OrderState::New, Some(bad.id.as_str())));
    assert_eq!(out.task.unwrap().outcome.as_deref(), Some("rating 1 by plugin:survey: 按键评价"));
    // in-progress orders have no callback yet
    let o = new_order(wf.store(), "xfhy", Category::Repair).await;
    let e = wf.complete_callback(&o.id, "plugin:survey", Some(4), "", None).await.unwrap_err().to_string();
    assert!(e.contains("is new"), "{e}");
}
