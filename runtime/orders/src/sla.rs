//! SLA escalation: a ladder of timers measured from the order's creation, evaluated by a
//! periodic scan against the injected clock.
//!
//! **Exactly once, across restarts.** A level's firing is recorded as an `esc/<order>/<level>`
//! record; it is written only after the level's notifications are durably queued, and those
//! notifications have ids derived from (order, level, target) (`esc-<order>-<level>-<n>`). A crash
//! between the two writes is repaired by the next scan: it finds the level unrecorded, finds its
//! notifications already queued (so queues nothing twice) and writes the record. Timers are not
//! kept in memory at all: every scan recomputes "due and not recorded" from the stored orders, so
//! a restart after a long outage fires every level that became due meanwhile, each once, in order.
//!
//! The store's public API has no multi-key transaction for foreign records; with one
//! (`Store::txn` made public) the event and its notifications would be one atomic write. The
//! derived ids give the same observable result: one event and one set of notifications per level.

use crate::config::{OrdersConfig, SlaLevel};
use crate::dispatch::{ResponsibilityTable, ensure_assignee_notified};
use crate::record::{EscalationEvent, Notification};
use crate::OrdersError;
use chrono::{DateTime, Duration, FixedOffset};
use courtyard_store::model::{OrderState, WorkOrder};
use courtyard_store::{Clock, Store};
use serde::Serialize;
use crate::worker::Pending;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// States in which timers run.
const OPEN: [OrderState; 6] = [
    OrderState::New,
    OrderState::Dispatched,
    OrderState::Accepted,
    OrderState::InProgress,
    OrderState::Done,
    OrderState::Callback,
];

/// Progress rank: a timer with `until = s` stops once `rank(state) >= rank(s)`.
pub fn rank(s: OrderState) -> u8 {
    match s {
        OrderState::New => 0,
        OrderState::Dispatched => 1,
        OrderState::Accepted => 2,
        OrderState::InProgress => 3,
        OrderState::Done => 4,
        OrderState::Callback => 5,
        OrderState::Closed | OrderState::Cancelled => 6,
    }
}

/// What one scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// Open orders looked at.
    pub orders: usize,
    /// (order, level) fired in this scan.
    pub fired: Vec<(String, u8)>,
    /// Orders dispatched automatically.
    pub auto_dispatched: Vec<String>,
    /// Dispatch notifications re-queued (after a crash between transition and enqueue).
    pub requeued: usize,
}

/// Levels of the ladder sorted by `after_hours`, with parsed `until`.
#[derive(Debug, Clone)]
pub struct Ladder {
    levels: Vec<(SlaLevel, OrderState)>,
    /// Orders at or past this rank have no timer left.
    max_until: u8,
}

impl Ladder {
    /// From config (validated: unknown `until` values are dropped with a warning).
    pub fn from_config(cfg: &OrdersConfig) -> Ladder {
        let mut levels: Vec<(SlaLevel, OrderState)> = cfg
            .sla
            .levels
            .iter()
            .filter_map(|l| match OrderState::parse(&l.until) {
                Some(s) => Some((l.clone(), s)),
                None => {
                    tracing::warn!(level = l.level, until = %l.until, "SLA level ignored: unknown state");
                    None
                }
            })
            .collect();
        levels.sort_by_key(|(l, _)| (l.after_hours, l.level));
        let max_until = levels.iter().map(|(_, u)| rank(*u)).max().unwrap_or(0);
        Ladder { levels, max_until }
    }

    /// Levels due for `o` at `now` (timer elapsed, state not yet reached), in ladder order.
    pub fn due<'a>(&'a self, o: &WorkOrder, now: DateTime<FixedOffset>) -> impl Iterator<Item = &'a SlaLevel> + use<'a> {
        let age = now - o.created_at;
        let r = rank(o.state);
        let open = o.state.is_open();
        self.levels
            .iter()
            .filter(move |(l, until)| open && age >= Duration::hours(l.after_hours) && r < rank(*until))
            .map(|(l, _)| l)
    }
}

/// The text an escalation target receives.
fn escalation_text(o: &WorkOrder, l: &SlaLevel, target_name: &str) -> String {
    let desc: String = o.description.chars().take(40).collect();
    format!(
        "【工单升级 L{}】{} 您好：工单 {}（{}，{}）{}。创建于 {}，当前状态 {}，处理人 {}。",
        l.level,
        target_name,
        o.id,
        o.category.label_zh(),
        o.unit_id.as_deref().or(o.estate_id.as_deref()).unwrap_or("-"),
        if desc.is_empty() { l.name.clone() } else { format!("{desc}；{}", l.name) },
        o.created_at.format("%Y-%m-%d %H:%M"),
        o.state.as_str(),
        o.assignee.as_deref().unwrap_or("未派单"),
    )
}

/// Evaluates the ladder and the auto-dispatch of new orders.
pub struct Scheduler {
    pub(crate) store: Arc<Store>,
    pub(crate) cfg: Arc<OrdersConfig>,
    pub(crate) table: Arc<ResponsibilityTable>,
    pub(crate) ladder: Ladder,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pending: Arc<Pending>,
    /// (order, level) known to be recorded and (order, dispatch seq) known to be notified, so a
    /// steady-state scan does no store reads for them. Rebuilt by every scan (closed orders
    /// drop out); empty after a restart, when the store is asked again.
    pub(crate) known: parking_lot::Mutex<Known>,
}

/// What the previous scan confirmed.
#[derive(Default)]
pub(crate) struct Known {
    fired: HashSet<(String, u8)>,
    notified: HashSet<(String, u32)>,
}

impl Scheduler {
    /// Fire one level for one order unless already recorded. Returns whether it fired now.
    pub(crate) async fn fire(&self, o: &WorkOrder, l: &SlaLevel, now: DateTime<FixedOffset>) -> Result<bool, OrdersError> {
        let key = EscalationEvent::key_of(&o.id, l.level);
        if self.store.get::<EscalationEvent>(&key)?.is_some() {
            return Ok(false);
        }
        // (the caller consults `known` first; a miss there lands here)
        let mut targets = Vec::new();
        let mut ids = Vec::new();
        let mut fired_at = now;
        let mut n_idx = 0usize;
        for t in &l.notify {
            let contact = if t == "assignee" {
                o.assignee.as_deref().and_then(|a| self.table.contact(o, a))
            } else {
                self.cfg.sla.contacts.get(t)
            };
            let Some(c) = contact else {
                tracing::warn!(order = %o.id, level = l.level, target = %t, "escalation target unknown; skipped");
                continue;
            };
            targets.push(format!("{t}: {}", c.name));
            for ch in &self.cfg.sla.channels {
                let to = match ch.as_str() {
                    "sms" => c.phone.clone(),
                    "email" => c.email.clone(),
                    _ => None,
                };
                let Some(to) = to else { continue };
                let id = format!("esc-{}-{}-{n_idx}", o.id, l.level);
                n_idx += 1;
                match self.store.get::<Notification>(&id)? {
                    // queued by an earlier scan that died before recording the event
                    Some(existing) => fired_at = fired_at.min(existing.created_at),
                    None => {
                        let mut n = Notification::queued(id.clone(), ch, &to, &escalation_text(o, l, &c.name), now);
                        n.order_id = Some(o.id.clone());
                        self.store.put(&n).await?;
                        self.pending.add(&id);
                    }
                }
                ids.push(id);
            }
        }
        let ev = EscalationEvent {
            order_id: o.id.clone(),
            level: l.level,
            name: l.name.clone(),
            fired_at,
            state: o.state,
            assignee: o.assignee.clone(),
            targets,
            notifications: ids,
        };
        self.store.put(&ev).await?;
        tracing::warn!(order = %o.id, level = l.level, name = %l.name, "work order escalated");
        Ok(true)
    }

    /// Every open order: auto-dispatch `new` ones, repair missing dispatch notifications, fire
    /// due escalation levels.
    pub(crate) async fn scan(&self, wf: &crate::Workflow) -> Result<ScanReport, OrdersError> {
        let mut rep = ScanReport::default();
        let prev = std::mem::take(&mut *self.known.lock());
        let mut next = Known::default();
        for state in OPEN {
            let timers = rank(state) < self.ladder.max_until;
            let dispatching = state == OrderState::New && self.cfg.auto_dispatch;
            if !timers && !dispatching && state != OrderState::Dispatched {
                continue;
            }
            let page = self.store.orders_in_state(state, 0, usize::MAX)?;
            for mut o in page.items {
                rep.orders += 1;
                if o.state == OrderState::New && self.cfg.auto_dispatch && self.table.rule_for(&o).is_some() {
                    match wf.dispatch(&o.id, "system:auto-dispatch").await {
                        Ok(d) => {
                            rep.auto_dispatched.push(o.id.clone());
                            o = d;
                        }
                        Err(e) => tracing::warn!(order = %o.id, error = %e, "auto-dispatch failed"),
                    }
                } else if o.state == OrderState::Dispatched {
                    let k = (o.id.clone(), o.history_len);
                    if !prev.notified.contains(&k) {
                        // under the dispatch lock, re-read: a dispatch running now queues its own
                        let _g = wf.dispatch_lock.lock().await;
                        if let Some(cur) = self.store.get_order(&o.id)? {
                            let ids = ensure_assignee_notified(&self.store, &self.table, &cur).await?;
                            ids.iter().for_each(|id| self.pending.add(id));
                            rep.requeued += ids.len();
                        }
                    }
                    next.notified.insert(k);
                }
                let now = self.clock.now();
                let due: Vec<SlaLevel> = self.ladder.due(&o, now).cloned().collect();
                for l in due {
                    let k = (o.id.clone(), l.level);
                    if !prev.fired.contains(&k) && self.fire(&o, &l, now).await? {
                        rep.fired.push((o.id.clone(), l.level));
                    }
                    next.fired.insert(k);
                }
            }
        }
        *self.known.lock() = next;
        Ok(rep)
    }
}

/// One overdue order on the console.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueOrder {
    /// Order number.
    pub order_id: String,
    /// Current state.
    pub state: OrderState,
    /// Current assignee.
    pub assignee: Option<String>,
    /// Created.
    pub created_at: DateTime<FixedOffset>,
    /// When its highest level fired.
    pub escalated_at: DateTime<FixedOffset>,
}

/// Orders at one escalation level (their highest fired level).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelGroup {
    /// Level.
    pub level: u8,
    /// Level name.
    pub name: String,
    /// Open orders whose highest fired level is this one, oldest first.
    pub orders: Vec<OverdueOrder>,
}

/// "Overdue work orders by escalation level" for the console.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EscalationOverview {
    /// Groups by level, ascending.
    pub levels: Vec<LevelGroup>,
}

/// Build the overview from the escalation log and the orders' current states.
pub(crate) fn overview(store: &Store) -> Result<EscalationOverview, OrdersError> {
    let events = store.list::<EscalationEvent>(|_| true, 0, usize::MAX)?.items;
    let mut top: BTreeMap<String, EscalationEvent> = BTreeMap::new();
    for e in events {
        match top.get(&e.order_id) {
            Some(t) if t.level >= e.level => {}
            _ => {
                top.insert(e.order_id.clone(), e);
            }
        }
    }
    let mut groups: BTreeMap<u8, LevelGroup> = BTreeMap::new();
    for (id, e) in top {
        let Some(o) = store.get_order(&id)? else { continue };
        if !o.state.is_open() {
            continue;
        }
        let g = groups.entry(e.level).or_insert_with(|| LevelGroup { level: e.level, name: e.name.clone(), orders: vec![] });
        g.orders.push(OverdueOrder {
            order_id: id,
            state: o.state,
            assignee: o.assignee,
            created_at: o.created_at,
            escalated_at: e.fired_at,
        });
    }
    let mut levels: Vec<LevelGroup> = groups.into_values().collect();
    for g in &mut levels {
        g.orders.sort_by_key(|o| o.created_at);
    }
    Ok(EscalationOverview { levels })
}
