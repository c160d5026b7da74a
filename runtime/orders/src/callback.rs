//! The 100% callback rule (回访): every finished order gets a callback task, agents see the due
//! ones, and the task is completed by an agent or by the satisfaction-survey plugin's result.
//!
//! The store creates task `cb-<order>` in the same transaction that moves an order to `done`
//! (due two days later). This module applies the configured due time, repairs a missing task
//! (orders finished before the rule existed), lists due tasks and completes them.

use crate::OrdersError;
use chrono::{DateTime, Duration, FixedOffset};
use courtyard_store::Store;
use courtyard_store::model::{CallbackTask, OrderState, WorkOrder};
use serde::Serialize;

/// Id of an order's 回访 task.
pub fn task_id(order_id: &str) -> String {
    format!("cb-{order_id}")
}

/// Make sure a done/callback/closed order has its task, due `due_hours` after it was done.
/// Returns the task.
pub async fn ensure_callback(store: &Store, o: &WorkOrder, due_hours: i64) -> Result<CallbackTask, OrdersError> {
    let due = o.updated_at + Duration::hours(due_hours);
    match store.get::<CallbackTask>(&task_id(&o.id))? {
        Some(mut t) => {
            if !t.done && t.due != due && o.state == OrderState::Done {
                t.due = due;
                store.put(&t).await?;
            }
            Ok(t)
        }
        None => {
            let t = CallbackTask {
                id: task_id(&o.id),
                number: o.caller.clone(),
                reason: format!("回访 工单 {}", o.id),
                recording_id: None,
                due,
                created_at: store.now(),
                order_id: Some(o.id.clone()),
                done: o.state == OrderState::Closed,
                outcome: None,
            };
            store.put(&t).await?;
            tracing::info!(order = %o.id, "callback task created (repair)");
            Ok(t)
        }
    }
}

/// Open callback tasks due by `until`, oldest due first.
pub fn due_callbacks(store: &Store, until: DateTime<FixedOffset>) -> Result<Vec<CallbackTask>, OrdersError> {
    let mut v = store.list::<CallbackTask>(|t| !t.done && t.due <= until, 0, usize::MAX)?.items;
    v.sort_by_key(|t| t.due);
    Ok(v)
}

/// Result of completing a 回访.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackOutcome {
    /// The order after the callback (closed).
    pub order: WorkOrder,
    /// Child order opened because the owner was not satisfied (score ≤ 2).
    pub child_order: Option<String>,
    /// The task, now done.
    pub task: Option<CallbackTask>,
}

/// Complete the 回访 of an order. With a score the store's rating path closes the order (and
/// reopens a child when the score is low); without one the order is closed with the outcome text.
pub async fn complete(
    store: &Store,
    order_id: &str,
    actor: &str,
    score: Option<u8>,
    outcome: &str,
    recording_id: Option<&str>,
) -> Result<CallbackOutcome, OrdersError> {
    let o = store.get_order(order_id)?.ok_or_else(|| OrdersError::NotFound(format!("work order {order_id}")))?;
    if !matches!(o.state, OrderState::Done | OrderState::Callback) {
        return Err(OrdersError::Invalid(format!(
            "order {order_id} is {}; a callback is completed for done orders",
            o.state.as_str()
        )));
    }
    let child = match score {
        Some(s) => store.rate_order(order_id, s, recording_id, actor).await?,
        None => {
            let note = format!("回访: {outcome}");
            if o.state == OrderState::Done {
                store.transition_order(order_id, OrderState::Callback, actor, None, Some(&note)).await?;
            }
            store.transition_order(order_id, OrderState::Closed, actor, None, Some(&note)).await?;
            None
        }
    };
    let tid = task_id(order_id);
    let task = match store.get::<CallbackTask>(&tid)? {
        Some(mut t) => {
            t.done = true;
            let text = match (score, outcome.trim()) {
                (Some(s), "") => format!("rating {s} by {actor}"),
                (Some(s), x) => format!("rating {s} by {actor}: {x}"),
                (None, x) => format!("{x} ({actor})"),
            };
            t.outcome = Some(text);
            store.put(&t).await?;
            Some(t)
        }
        None => None,
    };
    let order = store.get_order(order_id)?.ok_or_else(|| OrdersError::NotFound(format!("work order {order_id}")))?;
    Ok(CallbackOutcome { order, child_order: child, task })
}
