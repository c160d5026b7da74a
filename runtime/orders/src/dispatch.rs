//! Dispatch (派单): route an order by estate + category through the responsibility table to the
//! head of its chain, hand it down the chain on re-dispatch (二次指派), and tell the assignee.
//!
//! Every dispatch is one store transition (`transition_order`), so the assignee and the history
//! entry are written atomically. The assignee's notification ids are derived from the order and
//! the history sequence number of that dispatch (`dsp-<order>-<seq>-<channel>`): the scheduler's
//! scan re-queues a missing one after a crash between the transition and the enqueue, and never
//! queues one twice.

use crate::config::{Contact, DispatchRule, OrdersConfig, parse_category};
use crate::record::Notification;
use crate::OrdersError;
use courtyard_store::Store;
use courtyard_store::model::{Category, OrderState, WorkOrder};

/// The responsibility table, parsed once.
#[derive(Debug, Clone, Default)]
pub struct ResponsibilityTable {
    rows: Vec<(Option<String>, Option<Category>, DispatchRule)>,
}

impl ResponsibilityTable {
    /// Parse `[[orders.dispatch]]`.
    pub fn from_config(cfg: &OrdersConfig) -> Result<ResponsibilityTable, OrdersError> {
        let mut rows = Vec::new();
        for r in &cfg.dispatch {
            let estate = if r.estate.trim() == "*" { None } else { Some(r.estate.trim().to_string()) };
            rows.push((estate, parse_category(&r.category)?, r.clone()));
        }
        Ok(ResponsibilityTable { rows })
    }

    /// The most specific row: estate+category, then estate+*, then *+category, then *+*.
    pub fn route(&self, estate: Option<&str>, category: Category) -> Option<&DispatchRule> {
        let score = |(e, c, _): &(Option<String>, Option<Category>, DispatchRule)| -> Option<u8> {
            let e_ok = match e {
                Some(e) => (estate == Some(e.as_str())).then_some(2),
                None => Some(0),
            }?;
            let c_ok = match c {
                Some(c) => (*c == category).then_some(1),
                None => Some(0),
            }?;
            Some(e_ok + c_ok)
        };
        let mut best: Option<(u8, &DispatchRule)> = None;
        for row in &self.rows {
            if let Some(s) = score(row)
                && best.is_none_or(|(b, _)| s > b)
            {
                best = Some((s, &row.2));
            }
        }
        best.map(|(_, r)| r)
    }

    /// The chain for an order.
    pub fn rule_for(&self, o: &WorkOrder) -> Option<&DispatchRule> {
        self.route(o.estate_id.as_deref(), o.category)
    }

    /// Contact details of a person by name: the order's chain first, then any chain.
    pub fn contact(&self, o: &WorkOrder, name: &str) -> Option<&Contact> {
        if let Some(c) = self.rule_for(o).and_then(|r| r.chain.iter().find(|c| c.name == name)) {
            return Some(c);
        }
        self.rows.iter().flat_map(|r| r.2.chain.iter()).find(|c| c.name == name)
    }
}

/// The text an assignee receives.
pub fn dispatch_text(o: &WorkOrder, c: &Contact) -> String {
    let place = match (&o.estate_id, &o.unit_id) {
        (_, Some(u)) => u.clone(),
        (Some(e), None) => e.clone(),
        (None, None) => "-".into(),
    };
    let desc: String = o.description.chars().take(60).collect();
    format!(
        "【工单派发】{} 您好，工单 {}（{}，{}）已派给您：{}。业主电话 {}，请尽快联系。",
        c.name,
        o.id,
        o.category.label_zh(),
        place,
        desc,
        o.caller
    )
}

/// Queue the dispatch notifications for an order currently in `dispatched` (idempotent).
/// Returns the ids queued now.
pub(crate) async fn ensure_assignee_notified(
    store: &Store,
    table: &ResponsibilityTable,
    o: &WorkOrder,
) -> Result<Vec<String>, OrdersError> {
    if o.state != OrderState::Dispatched {
        return Ok(vec![]);
    }
    let Some(name) = &o.assignee else { return Ok(vec![]) };
    let Some(c) = table.contact(o, name) else {
        tracing::warn!(order = %o.id, assignee = %name, "assignee has no contact details in the responsibility table");
        return Ok(vec![]);
    };
    let channels = table.rule_for(o).map(|r| r.channels.clone()).unwrap_or_else(|| vec!["sms".into()]);
    // The dispatch is the order's latest history entry while it is in `dispatched`.
    let seq = o.history_len.saturating_sub(1);
    let mut queued = Vec::new();
    for ch in channels {
        let to = match ch.as_str() {
            "sms" => c.phone.clone(),
            "email" => c.email.clone(),
            _ => None,
        };
        let Some(to) = to else { continue };
        let id = format!("dsp-{}-{seq:03}-{ch}", o.id);
        if store.get::<Notification>(&id)?.is_some() {
            continue;
        }
        let mut n = Notification::queued(id.clone(), &ch, &to, &dispatch_text(o, c), store.now());
        n.order_id = Some(o.id.clone());
        store.put(&n).await?;
        queued.push(id);
    }
    Ok(queued)
}

/// Who a re-dispatch goes to: the named chain member, or the next one down from the current
/// assignee.
pub(crate) fn next_assignee<'a>(
    table: &'a ResponsibilityTable,
    o: &WorkOrder,
    to: Option<&str>,
) -> Result<&'a Contact, OrdersError> {
    let rule = table.rule_for(o).ok_or_else(|| {
        OrdersError::Invalid(format!(
            "no responsibility-table row for estate '{}' / {}; add one to [[orders.dispatch]]",
            o.estate_id.as_deref().unwrap_or("-"),
            o.category.label_zh()
        ))
    })?;
    let names = || rule.chain.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" → ");
    match to {
        Some(name) => {
            let c = rule.chain.iter().find(|c| c.name == name).ok_or_else(|| {
                OrdersError::Invalid(format!("'{name}' is not in the chain for order {}: {}", o.id, names()))
            })?;
            if o.assignee.as_deref() == Some(name) {
                return Err(OrdersError::Invalid(format!("order {} is already assigned to {name}", o.id)));
            }
            Ok(c)
        }
        None => {
            let pos = o.assignee.as_deref().and_then(|a| rule.chain.iter().position(|c| c.name == a));
            let next = match pos {
                Some(p) => p + 1,
                None => 0,
            };
            rule.chain.get(next).ok_or_else(|| {
                OrdersError::Invalid(format!(
                    "order {} is with the last person of its chain ({}); name another assignee",
                    o.id,
                    names()
                ))
            })
        }
    }
}
