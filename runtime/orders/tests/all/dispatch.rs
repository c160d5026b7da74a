//! Dispatch by the responsibility table, re-dispatch down the chain, assignee notifications.

use crate::common::*;
use courtyard_orders::{Notification, OrdersError};
use courtyard_store::model::{Category, OrderState};

fn queued_for(wf: &courtyard_orders::Workflow, order: &str) -> Vec<Notification> {
    let mut v = wf.store().list::<Notification>(|n| n.order_id.as_deref() == Some(order), 0, usize::MAX).unwrap().items;
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

#[tokio::test]
async fn auto_dispatch_routes_by_estate_and_category() {
    let env = Env::new();
    let mut cfg = config();
    cfg.auto_dispatch = true;
    let wf = env.workflow(cfg);
    let s = env.store();
    let a = new_order(&s, "xfhy", Category::Repair).await; // exact row
    let b = new_order(&s, "xfhy", Category::Complaint).await; // estate row beats category row
    let c = new_order(&s, "lyjy", Category::Complaint).await; // category row
    let d = new_order(&s, "lyjy", Category::Repair).await; // catch-all
    let rep = wf.scan_once().await.unwrap();
    assert_eq!(rep.auto_dispatched.len(), 4, "{rep:?}");
    let who = |id: &str| s.get_order(id).unwrap().unwrap();
    for (o, name) in [(&a, "李经理"), (&b, "钱经理"), (&c, "孙主任"), (&d, "周值班")] {
        let o = who(&o.id);
        assert_eq!(o.state, OrderState::Dispatched);
        assert_eq!(o.assignee.as_deref(), Some(name));
        let h = s.order_history(&o.id).unwrap();
        let last = h.last().unwrap();
        assert_eq!(last.actor, "system:auto-dispatch");
        assert!(last.note.as_deref().unwrap().contains(name), "{last:?}");
    }
    // the exact row notifies by SMS and e-mail, to the manager's phone and address
    let n = queued_for(&wf, &a.id);
    let mut got: Vec<(String, String)> = n.iter().map(|n| (n.channel.clone(), n.to.clone())).collect();
    got.sort();
    assert_eq!(got, vec![("email".into(), "li@example.com".into()), ("sms".into(), "13900000001".into())]);
    assert!(n.iter().all(|n| n.status == "queued" && n.text.contains(&a.id) && n.text.contains("13800138000")));
    // a second scan neither re-dispatches nor re-notifies
    let rep = wf.scan_once().await.unwrap();
    assert!(rep.auto_dispatched.is_empty() && rep.requeued == 0, "{rep:?}");
    assert_eq!(queued_for(&wf, &a.id).len(), 2);
    assert_eq!(s.order_history(&a.id).unwrap().len(), 2);
}

#[tokio::test]
async fn redispatch_walks_down_the_chain_and_notifies_each_assignee() {
    let env = Env::new();
    let wf = env.workflow(config());
    let s = env.store();
    let o = new_order(&s, "xfhy", Category::Repair).await;
    assert_eq!(wf.dispatch(&o.id, "agent:小王").await.unwrap().assignee.as_deref(), Some("李经理"));
    let e = wf.dispatch(&o.id, "agent:小王").await.unwrap_err().to_string();
    assert!(e.contains("re-dispatch"), "{e}");
    let o2 = wf.redispatch(&o.id, "李经理", None, Some("交给班组")).await.unwrap();
    assert_eq!(o2.assignee.as_deref(), Some("王班长"));
    wf.accept(&o.id, "王班长").await.unwrap();
    // accepted → dispatched is also a 二次指派
    let o3 = wf.redispatch(&o.id, "王班长", None, None).await.unwrap();
    assert_eq!(o3.assignee.as_deref(), Some("赵师傅"));
    let e = wf.redispatch(&o.id, "赵师傅", None, None).await.unwrap_err().to_string();
    assert!(e.contains("last person") && e.contains("李经理 → 王班长 → 赵师傅"), "{e}");
    // named re-dispatch back up the chain, and a name outside the chain is refused with the chain
    let o4 = wf.redispatch(&o.id, "agent:小王", Some("王班长"), Some("师傅请假")).await.unwrap();
    assert_eq!(o4.assignee.as_deref(), Some("王班长"));
    let e = wf.redispatch(&o.id, "agent:小王", Some("路人甲"), None).await.unwrap_err();
    assert!(matches!(&e, OrdersError::Invalid(m) if m.contains("not in the chain")), "{e}");

    let notes: Vec<String> = s.order_history(&o.id).unwrap().into_iter().filter_map(|t| t.note).collect();
    assert!(notes.iter().any(|n| n.contains("王班长") && n.contains("二次指派 → team-lead: 交给班组")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("赵师傅") && n.contains("二次指派 → technician")), "{notes:?}");
    // one SMS per dispatch to the person it went to (plus the manager's e-mail)
    let sms: Vec<String> = queued_for(&wf, &o.id).into_iter().filter(|n| n.channel == "sms").map(|n| n.to).collect();
    assert_eq!(sms, vec!["13900000001", "13900000002", "13900000003", "13900000002"]);
}

#[tokio::test]
async fn missing_dispatch_notification_is_requeued_once_by_the_scan() {
    // A crash between the dispatch transition and the enqueue leaves a dispatched order whose
    // assignee was never told: the scan repairs it.
    let env = Env::new();
    let wf = env.workflow(config());
    let s = env.store();
    let o = new_order(&s, "lyjy", Category::Inquiry).await;
    s.transition_order(&o.id, OrderState::Dispatched, "agent", Some("周值班"), None).await.unwrap();
    assert!(queued_for(&wf, &o.id).is_empty());
    assert_eq!(wf.scan_once().await.unwrap().requeued, 1);
    assert_eq!(wf.scan_once().await.unwrap().requeued, 0);
    let n = queued_for(&wf, &o.id);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].to, "13900000006");
}

#[tokio::test]
async fn no_row_means_no_auto_dispatch_and_a_clear_refusal() {
    let env = Env::new();
    let mut cfg = config();
    cfg.auto_dispatch = true;
    cfg.dispatch.retain(|r| r.estate == "xfhy");
    let wf = env.workflow(cfg);
    let o = new_order(&env.store(), "lyjy", Category::Repair).await;
    assert!(wf.scan_once().await.unwrap().auto_dispatched.is_empty());
    let e = wf.dispatch(&o.id, "agent").await.unwrap_err().to_string();
    assert!(e.contains("no responsibility-table row") && e.contains("lyjy"), "{e}");
}

#[test]
fn responsibility_table_parses_from_toml() {
    let cfg: courtyard_orders::OrdersConfig = toml::from_str(
        r#"
        auto_dispatch = true
        [[dispatch]]
        estate = "xfhy"
        category = "报修"
        channels = ["sms", "email"]
        chain = [
          { role = "manager", name = "李经理", phone = "13900000001", email = "li@example.com" },
          { role = "technician", name = "赵师傅", phone = "13900000003" },
        ]
        [sla.contacts]
        direct-leader = { name = "孙主管", phone = "13900000010" }
        "#,
    )
    .unwrap();
    cfg.validate().unwrap();
    assert_eq!(cfg.dispatch[0].chain[1].name, "赵师傅");
    assert_eq!(cfg.sla.levels.len(), 5, "seed ladder applies when levels are omitted");
    let bad: courtyard_orders::OrdersConfig = toml::from_str("[[dispatch]]\nestate='x'\ncategory='plumbing'\nchain=[{name='a'}]").unwrap();
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("orders.dispatch[0]") && e.contains("plumbing"), "{e}");
}

#[test]
fn the_readme_config_example_parses_and_validates() {
    #[derive(serde::Deserialize)]
    struct Runtime {
        orders: courtyard_orders::OrdersConfig,
    }
    let readme = include_str!("../../README.md");
    let start = readme.find("```toml\n").expect("README has a toml block") + 8;
    let len = readme[start..].find("```").unwrap();
    let rt: Runtime = toml::from_str(&readme[start..start + len]).unwrap();
    rt.orders.validate().unwrap();
    assert_eq!(rt.orders.dispatch[0].chain.len(), 3);
    assert_eq!(rt.orders.sla.contacts["chairman"].name, "郑董");
    assert_eq!(rt.orders.on_duty.shifts[0].days, vec![1, 2, 3, 4, 5]);
    assert!(rt.orders.sms.is_some() && rt.orders.email.is_some() && rt.orders.webhook.is_some());
}
