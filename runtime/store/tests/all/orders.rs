use crate::temp_store;
use courtyard_store::model::{Category, NewOrder, OrderState, Priority};

fn new_order(unit: Option<&str>) -> NewOrder {
    NewOrder {
        category: Category::Repair,
        subcategory: Some("water".into()),
        estate_id: Some("xfhy".into()),
        unit_id: unit.map(str::to_string),
        caller: "+86 138 0013 8000".into(),
        description: "厨房水管漏水".into(),
        recording_id: Some("rec1".into()),
        priority: Priority::Normal,
        parent_id: None,
        call_id: None,
    }
}

#[tokio::test]
async fn order_numbers_are_daily_digit_sequences_and_survive_reopen() {
    let (dir, store, clock) = temp_store();
    let a = store.create_order(&new_order(Some("xfhy-1-1-101")), "plugin:repair-intake").await.unwrap();
    let b = store.create_order(&new_order(None), "agent1").await.unwrap();
    assert_eq!(a.id, "2611270001");
    assert_eq!(b.id, "2611270002");
    assert_eq!(a.caller, "13800138000");
    clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:01+08:00").unwrap());
    let c = store.create_order(&new_order(None), "agent1").await.unwrap();
    assert_eq!(c.id, "2611280001");
    drop(store);
    let store = courtyard_store::Store::open(dir.path()).unwrap();
    assert_eq!(store.get_order("2611270001").unwrap().unwrap().description, "厨房水管漏水");
    assert_eq!(store.orders_for_unit("xfhy-1-1-101", true).unwrap().len(), 1);
    assert_eq!(store.orders_for_caller("13800138000", true).unwrap().len(), 3);
}

#[tokio::test]
async fn lifecycle_with_history_indexes_callback_and_refusals() {
    let (_d, store, _c) = temp_store();
    let o = store.create_order(&new_order(Some("xfhy-1-1-101")), "agent1").await.unwrap();
    let err = store.transition_order(&o.id, OrderState::Done, "agent1", None, None).await.unwrap_err();
    assert!(err.to_string().contains("illegal transition new → done"), "{err}");
    let err = store.transition_order(&o.id, OrderState::Dispatched, "sup", None, None).await.unwrap_err();
    assert!(err.to_string().contains("assignee"), "{err}");
    store.transition_order(&o.id, OrderState::Dispatched, "sup", Some("王师傅"), None).await.unwrap();
    store.transition_order(&o.id, OrderState::Accepted, "王师傅", None, None).await.unwrap();
    store.transition_order(&o.id, OrderState::InProgress, "王师傅", None, None).await.unwrap();
    let done = store.transition_order(&o.id, OrderState::Done, "王师傅", None, Some("换了阀门")).await.unwrap();
    assert_eq!(done.assignee.as_deref(), Some("王师傅"));
    // 100% callback rule: a callback task exists for the finished order.
    let cb = store.get::<courtyard_store::model::CallbackTask>(&format!("cb-{}", o.id)).unwrap().unwrap();
    assert_eq!(cb.number, "13800138000");
    let h = store.order_history(&o.id).unwrap();
    let states: Vec<&str> = h.iter().map(|t| t.to.as_str()).collect();
    assert_eq!(states, ["new", "dispatched", "accepted", "in-progress", "done"]);
    assert_eq!(h[1].actor, "sup");
    assert_eq!(h[1].note.as_deref(), Some("assignee 王师傅"));
    assert_eq!(store.orders_in_state(OrderState::Done, 0, 10).unwrap().total, 1);
    assert_eq!(store.orders_in_state(OrderState::New, 0, 10).unwrap().total, 0);
    // Low rating closes the order and opens a child.
    let child = store.rate_order(&o.id, 1, Some("rec-comment"), "plugin:satisfaction-survey").await.unwrap().unwrap();
    let parent = store.get_order(&o.id).unwrap().unwrap();
    assert_eq!(parent.state, OrderState::Closed);
    assert_eq!(parent.rating, Some(1));
    assert_eq!(parent.children, vec![child.clone()]);
    let c = store.get_order(&child).unwrap().unwrap();
    assert_eq!(c.parent_id.as_deref(), Some(o.id.as_str()));
    assert_eq!(c.priority, Priority::High);
    assert_eq!(c.recording_id.as_deref(), Some("rec-comment"));
    assert_eq!(store.order_history(&o.id).unwrap().len(), parent.history_len as usize);
    // Closed orders refuse transitions with the reason, but can be reopened.
    let err = store.transition_order(&o.id, OrderState::Dispatched, "sup", Some("x"), None).await.unwrap_err();
    assert!(err.to_string().contains("reopen"), "{err}");
    let c2 = store.reopen_order(&o.id, "sup", "又漏了").await.unwrap();
    assert_eq!(c2.parent_id.as_deref(), Some(o.id.as_str()));
    // A good rating of a fresh order opens no child.
    let o2 = store.create_order(&new_order(None), "a").await.unwrap();
    let err = store.rate_order(&o2.id, 5, None, "a").await.unwrap_err();
    assert!(err.to_string().contains("once done"), "{err}");
    let err = store.reopen_order(&o2.id, "a", "x").await.unwrap_err();
    assert!(err.to_string().contains("only done"), "{err}");
    assert!(store.rate_order(&o2.id, 9, None, "a").await.is_err());
}

#[tokio::test]
async fn plugin_kv_is_isolated_and_counters_are_atomic() {
    let (_d, store, _c) = temp_store();
    store.kv_set("ivr-menu", "k", b"v1").await.unwrap();
    assert_eq!(store.kv_get("ivr-menu", "k").unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(store.kv_get("other", "k").unwrap(), None);
    let store = std::sync::Arc::new(store);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                s.kv_increment("ivr-menu", "calls", 1).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.kv_increment("ivr-menu", "calls", 0).await.unwrap(), 200);
    store.kv_set("ivr-menu", "k", b"not a number").await.unwrap();
    assert!(store.kv_increment("ivr-menu", "k", 1).await.is_err());
    assert!(store.kv_set("bad/name", "k", b"").await.is_err());
    store.kv_delete("ivr-menu", "k").await.unwrap();
    assert_eq!(store.kv_keys("ivr-menu").unwrap(), vec!["calls".to_string()]);
}
