//! Every legal and illegal lifecycle transition through the Workflow API.

use crate::common::*;
use courtyard_orders::{OrdersError, Workflow};
use courtyard_store::Clock;
use courtyard_store::model::{Category, OrderState, WorkOrder};
use OrderState::*;

/// The lifecycle as specified (issue 8): new → dispatched → accepted → in progress → done →
/// callback → closed; 二次指派 from dispatched/accepted; cancel before done.
const LEGAL: [(OrderState, OrderState); 12] = [
    (New, Dispatched),
    (Dispatched, Dispatched),
    (Accepted, Dispatched),
    (Dispatched, Accepted),
    (Accepted, InProgress),
    (InProgress, Done),
    (Done, Callback),
    (Callback, Closed),
    (New, Cancelled),
    (Dispatched, Cancelled),
    (Accepted, Cancelled),
    (InProgress, Cancelled),
];

/// Bring a fresh order to `state` along legal moves.
async fn order_in(wf: &Workflow, state: OrderState) -> WorkOrder {
    let o = new_order(wf.store(), "xfhy", Category::Repair).await;
    let id = o.id.clone();
    let a = "tech";
    let path: &[OrderState] = match state {
        New => &[],
        Dispatched => &[Dispatched],
        Accepted => &[Dispatched, Accepted],
        InProgress => &[Dispatched, Accepted, InProgress],
        Done => &[Dispatched, Accepted, InProgress, Done],
        Callback => &[Dispatched, Accepted, InProgress, Done, Callback],
        Closed => &[Dispatched, Accepted, InProgress, Done, Callback, Closed],
        Cancelled => &[Cancelled],
    };
    for s in path {
        match s {
            Dispatched => wf.dispatch(&id, "agent").await.map(|_| ()),
            Accepted => wf.accept(&id, a).await.map(|_| ()),
            InProgress => wf.start_work(&id, a).await.map(|_| ()),
            Done => wf.finish(&id, a, Some("换了水管")).await.map(|_| ()),
            Callback => wf.start_callback(&id, "agent").await.map(|_| ()),
            Closed => wf.complete_callback(&id, "agent", None, "业主满意", None).await.map(|_| ()),
            Cancelled => wf.cancel(&id, "agent", "重复工单").await.map(|_| ()),
            New => unreachable!(),
        }
        .unwrap();
    }
    let o = wf.store().get_order(&id).unwrap().unwrap();
    assert_eq!(o.state, state);
    o
}

#[tokio::test]
async fn every_legal_and_illegal_transition() {
    let env = Env::new();
    let wf = env.workflow(config());
    for from in OrderState::ALL {
        for to in OrderState::ALL {
            let o = order_in(&wf, from).await;
            let hist_before = wf.store().order_history(&o.id).unwrap().len();
            let r = wf.transition(&o.id, to, "actor:test", None, Some("reason")).await;
            let after = wf.store().get_order(&o.id).unwrap().unwrap();
            let hist = wf.store().order_history(&o.id).unwrap();
            if LEGAL.contains(&(from, to)) {
                let got = r.unwrap_or_else(|e| panic!("{from:?} → {to:?} refused: {e}"));
                assert_eq!(got.state, to);
                assert_eq!(after.state, to);
                assert_eq!(hist.len(), hist_before + 1, "{from:?} → {to:?} recorded");
                let last = hist.last().unwrap();
                assert_eq!((last.from, last.to, last.actor.as_str()), (Some(from), to, "actor:test"));
                assert_eq!(last.at, env.clock.now());
            } else {
                match r {
                    Err(OrdersError::Invalid(msg)) => {
                        assert!(
                            msg.contains("illegal transition") || msg.contains("already") || msg.contains("dispatch it first"),
                            "{from:?} → {to:?}: {msg}"
                        );
                        if from == Closed {
                            assert!(msg.contains("child order"), "{msg}");
                        }
                    }
                    other => panic!("{from:?} → {to:?} should be refused, got {other:?}"),
                }
                assert_eq!(after.state, from, "refused move left the state");
                assert_eq!(hist.len(), hist_before, "refused move wrote no history");
            }
        }
    }
}

#[tokio::test]
async fn illegal_move_names_the_allowed_ones() {
    let env = Env::new();
    let wf = env.workflow(config());
    let o = new_order(wf.store(), "xfhy", Category::Repair).await;
    let e = wf.finish(&o.id, "tech", None).await.unwrap_err().to_string();
    assert!(e.contains("new → done") && e.contains("dispatched, cancelled"), "{e}");
    let e = wf.cancel(&o.id, "agent", "  ").await.unwrap_err().to_string();
    assert!(e.contains("reason"), "{e}");
    let e = wf.accept("2601010001", "tech").await.unwrap_err();
    assert!(matches!(e, OrdersError::NotFound(_)), "{e}");
}

#[tokio::test]
async fn reopen_makes_a_linked_child_only_after_done() {
    let env = Env::new();
    let wf = env.workflow(config());
    let open = order_in(&wf, InProgress).await;
    let e = wf.reopen(&open.id, "agent", "again").await.unwrap_err().to_string();
    assert!(e.contains("only done, callback or closed"), "{e}");
    let closed = order_in(&wf, Closed).await;
    let child = wf.reopen(&closed.id, "agent", "水管又漏了").await.unwrap();
    assert_eq!(child.state, New);
    assert_eq!(child.parent_id.as_deref(), Some(closed.id.as_str()));
    let parent = wf.store().get_order(&closed.id).unwrap().unwrap();
    assert_eq!(parent.state, Closed);
    assert_eq!(parent.children, vec![child.id.clone()]);
}
