//! Work orders: numbering, creation, validated transitions with history, reopen, rating,
//! callback tasks. Every change to an order, its indexes and its history is one transaction.

use super::{Store, rkey, tx_get, tx_put};
use crate::StoreError;
use crate::backend::TxView;
use crate::model::{CallbackTask, NewOrder, OrderState, Page, Priority, Transition, WorkOrder, normalize_phone};
use chrono::{DateTime, Duration, FixedOffset};

/// Score at or below which a rating reopens the order as a child order.
pub const LOW_SCORE: u8 = 2;

fn hist_key(id: &str, seq: u32) -> String {
    format!("oh/{id}/{seq:06}")
}

fn put_order(tx: &dyn TxView, o: &WorkOrder, old_state: Option<OrderState>) -> Result<(), StoreError> {
    if let Some(s) = old_state {
        tx.remove(format!("ix/os/{}/{}", s.as_str(), o.id).as_bytes())?;
    }
    tx.insert(format!("ix/os/{}/{}", o.state.as_str(), o.id).as_bytes(), b"")?;
    tx_put(tx, &rkey::<WorkOrder>(&o.id), o)
}

fn push_history(
    tx: &dyn TxView,
    o: &mut WorkOrder,
    from: Option<OrderState>,
    actor: &str,
    at: DateTime<FixedOffset>,
    note: Option<String>,
) -> Result<(), StoreError> {
    let t = Transition { order_id: o.id.clone(), seq: o.history_len, from, to: o.state, actor: actor.into(), at, note };
    tx_put(tx, &hist_key(&o.id, o.history_len), &t)?;
    o.history_len += 1;
    Ok(())
}

/// Create an order inside a transaction: daily number, record, indexes, history entry 0,
/// link from the parent.
fn create_in_tx(tx: &dyn TxView, new: &NewOrder, actor: &str, now: DateTime<FixedOffset>) -> Result<WorkOrder, StoreError> {
    let day = now.format("%y%m%d").to_string();
    let ck = format!("seq/o/{day}");
    let n = match tx.get(ck.as_bytes())? {
        Some(b) => {
            let a: [u8; 8] = b.as_slice().try_into().map_err(|_| StoreError::Encoding(format!("counter {ck}")))?;
            u64::from_be_bytes(a) + 1
        }
        None => 1,
    };
    tx.insert(ck.as_bytes(), &n.to_be_bytes())?;
    let id = format!("{day}{n:04}");
    if let Some(pid) = &new.parent_id {
        let mut parent: WorkOrder = tx_get(tx, &rkey::<WorkOrder>(pid))?
            .ok_or_else(|| StoreError::Invalid(format!("parent order {pid} does not exist")))?;
        parent.children.push(id.clone());
        tx_put(tx, &rkey::<WorkOrder>(pid), &parent)?;
    }
    let caller = normalize_phone(&new.caller);
    let mut o = WorkOrder {
        id: id.clone(),
        category: new.category,
        subcategory: new.subcategory.clone(),
        estate_id: new.estate_id.clone(),
        unit_id: new.unit_id.clone(),
        caller: caller.clone(),
        description: new.description.clone(),
        recording_id: new.recording_id.clone(),
        priority: new.priority,
        state: OrderState::New,
        assignee: None,
        created_at: now,
        updated_at: now,
        parent_id: new.parent_id.clone(),
        children: vec![],
        rating: None,
        rating_recording_id: None,
        call_id: new.call_id.clone(),
        history_len: 0,
    };
    let note = new.parent_id.as_ref().map(|p| format!("reopened from {p}"));
    push_history(tx, &mut o, None, actor, now, note)?;
    put_order(tx, &o, None)?;
    if let Some(u) = &o.unit_id {
        tx.insert(format!("ix/ou/{u}/{id}").as_bytes(), b"")?;
    }
    if !caller.is_empty() {
        tx.insert(format!("ix/oc/{caller}/{id}").as_bytes(), b"")?;
    }
    Ok(o)
}

/// Apply a validated transition inside a transaction.
fn transition_in_tx(
    tx: &dyn TxView,
    id: &str,
    to: OrderState,
    actor: &str,
    assignee: Option<&str>,
    note: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<WorkOrder, StoreError> {
    let mut o: WorkOrder =
        tx_get(tx, &rkey::<WorkOrder>(id))?.ok_or_else(|| StoreError::NotFound(format!("work order {id}")))?;
    let from = o.state;
    from.check_transition(to).map_err(StoreError::Invalid)?;
    if to == OrderState::Dispatched {
        let a = assignee.ok_or_else(|| StoreError::Invalid("dispatch needs an assignee".into()))?;
        o.assignee = Some(a.to_string());
    }
    o.state = to;
    o.updated_at = now;
    let note = match (to, assignee) {
        (OrderState::Dispatched, Some(a)) => Some(match note {
            Some(n) => format!("assignee {a}: {n}"),
            None => format!("assignee {a}"),
        }),
        _ => note.map(str::to_string),
    };
    push_history(tx, &mut o, Some(from), actor, now, note)?;
    put_order(tx, &o, Some(from))?;
    if to == OrderState::Done {
        // 100% callback rule: finishing work schedules the 回访.
        let cb = CallbackTask {
            id: format!("cb-{id}"),
            number: o.caller.clone(),
            reason: format!("回访 工单 {id}"),
            recording_id: None,
            due: now + Duration::days(2),
            created_at: now,
            order_id: Some(id.to_string()),
            done: false,
            outcome: None,
        };
        tx_put(tx, &rkey::<CallbackTask>(&cb.id), &cb)?;
    }
    Ok(o)
}

impl Store {
    /// Open a work order; returns it with its readable number (`YYMMDD` + 4-digit daily sequence).
    pub async fn create_order(&self, new: &NewOrder, actor: &str) -> Result<WorkOrder, StoreError> {
        if new.description.trim().is_empty() && new.recording_id.is_none() {
            return Err(StoreError::Invalid("a work order needs a description or a recording".into()));
        }
        let now = self.now();
        let o = self.txn(|tx| create_in_tx(tx, new, actor, now))?;
        self.flush().await?;
        tracing::info!(order = %o.id, actor, "work order created");
        Ok(o)
    }

    /// Move an order to `to`; refused with the reason when the lifecycle forbids it.
    /// `assignee` is required for `dispatched`. The history entry is written atomically with it.
    pub async fn transition_order(
        &self,
        id: &str,
        to: OrderState,
        actor: &str,
        assignee: Option<&str>,
        note: Option<&str>,
    ) -> Result<WorkOrder, StoreError> {
        let now = self.now();
        let o = self.txn(|tx| transition_in_tx(tx, id, to, actor, assignee, note, now))?;
        self.flush().await?;
        Ok(o)
    }

    /// Reopen a finished order as a child order (the parent keeps its state).
    pub async fn reopen_order(&self, id: &str, actor: &str, description: &str) -> Result<WorkOrder, StoreError> {
        let now = self.now();
        let child = self.txn(|tx| {
            let p: WorkOrder =
                tx_get(tx, &rkey::<WorkOrder>(id))?.ok_or_else(|| StoreError::NotFound(format!("work order {id}")))?;
            if !matches!(p.state, OrderState::Done | OrderState::Callback | OrderState::Closed) {
                return Err(StoreError::Invalid(format!(
                    "order {id} is {}; only done, callback or closed orders can be reopened",
                    p.state.as_str()
                )));
            }
            create_in_tx(tx, &child_of(&p, description), actor, now)
        })?;
        self.flush().await?;
        Ok(child)
    }

    /// Record a 1–5 satisfaction score (closing the order if still in done/callback); a score of
    /// [`LOW_SCORE`] or less reopens it as a child order whose number is returned.
    pub async fn rate_order(
        &self,
        id: &str,
        score: u8,
        comment_recording_id: Option<&str>,
        actor: &str,
    ) -> Result<Option<String>, StoreError> {
        if !(1..=5).contains(&score) {
            return Err(StoreError::Invalid(format!("score {score} is not between 1 and 5")));
        }
        let now = self.now();
        let child = self.txn(|tx| {
            let mut o: WorkOrder =
                tx_get(tx, &rkey::<WorkOrder>(id))?.ok_or_else(|| StoreError::NotFound(format!("work order {id}")))?;
            let note = format!("rating {score}");
            if o.state == OrderState::Done {
                o = transition_in_tx(tx, id, OrderState::Callback, actor, None, Some(&note), now)?;
            }
            if o.state == OrderState::Callback {
                o = transition_in_tx(tx, id, OrderState::Closed, actor, None, Some(&note), now)?;
            }
            if o.state != OrderState::Closed {
                return Err(StoreError::Invalid(format!("order {id} is {}; it can be rated once done", o.state.as_str())));
            }
            o.rating = Some(score);
            o.rating_recording_id = comment_recording_id.map(str::to_string);
            tx_put(tx, &rkey::<WorkOrder>(id), &o)?;
            if let Some(mut cb) = tx_get::<CallbackTask>(tx, &rkey::<CallbackTask>(&format!("cb-{id}")))? {
                cb.done = true;
                cb.outcome = Some(note.clone());
                tx_put(tx, &rkey::<CallbackTask>(&cb.id), &cb)?;
            }
            if score <= LOW_SCORE {
                let desc = format!("回访不满意（{score}分），重新处理：{}", o.description);
                let mut c = child_of(&o, &desc);
                c.recording_id = comment_recording_id.map(str::to_string).or(c.recording_id);
                let child = create_in_tx(tx, &c, actor, now)?;
                return Ok(Some(child.id));
            }
            Ok(None)
        })?;
        self.flush().await?;
        Ok(child)
    }

    /// Attach the recording of the call an order was opened from, once the call is over (an
    /// agent creates the order while talking, before the recording exists). Returns whether the
    /// order changed: an order that already has a recording keeps it.
    pub async fn attach_order_recording(&self, id: &str, recording_id: &str) -> Result<bool, StoreError> {
        let changed = self.txn(|tx| {
            let mut o: WorkOrder =
                tx_get(tx, &rkey::<WorkOrder>(id))?.ok_or_else(|| StoreError::NotFound(format!("work order {id}")))?;
            if o.recording_id.is_some() {
                return Ok(false);
            }
            o.recording_id = Some(recording_id.to_string());
            tx_put(tx, &rkey::<WorkOrder>(id), &o)?;
            Ok(true)
        })?;
        if changed {
            self.flush().await?;
        }
        Ok(changed)
    }

    /// A work order by number.
    pub fn get_order(&self, id: &str) -> Result<Option<WorkOrder>, StoreError> {
        self.get::<WorkOrder>(id)
    }

    /// The full history of an order, oldest first.
    pub fn order_history(&self, id: &str) -> Result<Vec<Transition>, StoreError> {
        self.kv()
            .scan_prefix(format!("oh/{id}/").as_bytes())
            .map(|r| r.and_then(|(_, v)| crate::model::decode(&v)))
            .collect()
    }

    /// Orders of a unit, newest first; only open ones when `open_only`.
    pub fn orders_for_unit(&self, unit_id: &str, open_only: bool) -> Result<Vec<WorkOrder>, StoreError> {
        self.orders_by_index(&format!("ix/ou/{unit_id}/"), open_only)
    }

    /// Orders opened from a caller number, newest first.
    pub fn orders_for_caller(&self, number: &str, open_only: bool) -> Result<Vec<WorkOrder>, StoreError> {
        self.orders_by_index(&format!("ix/oc/{}/", normalize_phone(number)), open_only)
    }

    /// Orders in a state, newest first, paginated (uses the state index).
    pub fn orders_in_state(&self, state: OrderState, offset: usize, limit: usize) -> Result<Page<WorkOrder>, StoreError> {
        let ids = self.index_ids(&format!("ix/os/{}/", state.as_str()), true)?;
        let total = ids.len();
        let mut items = Vec::new();
        for id in ids.into_iter().skip(offset).take(limit) {
            if let Some(o) = self.get_order(&id)? {
                items.push(o);
            }
        }
        Ok(Page { items, total })
    }

    fn orders_by_index(&self, prefix: &str, open_only: bool) -> Result<Vec<WorkOrder>, StoreError> {
        let mut out = Vec::new();
        for id in self.index_ids(prefix, true)? {
            if let Some(o) = self.get_order(&id)?
                && (!open_only || o.state.is_open())
            {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Create a callback task (after-hours voicemail, queue callback). Returns its id.
    pub async fn create_callback(
        &self,
        number: &str,
        reason: &str,
        recording_id: Option<&str>,
        due: DateTime<FixedOffset>,
    ) -> Result<String, StoreError> {
        let n = normalize_phone(number);
        if n.is_empty() {
            return Err(StoreError::Invalid(format!("callback number '{number}' has no digits")));
        }
        let id = format!("cb{:010}", self.kv().next_id()?);
        let cb = CallbackTask {
            id: id.clone(),
            number: n,
            reason: reason.into(),
            recording_id: recording_id.map(str::to_string),
            due,
            created_at: self.now(),
            order_id: None,
            done: false,
            outcome: None,
        };
        self.put(&cb).await?;
        Ok(id)
    }

    /// Mark a callback task done with its outcome.
    pub async fn complete_callback(&self, id: &str, outcome: &str) -> Result<CallbackTask, StoreError> {
        let mut cb = self.get::<CallbackTask>(id)?.ok_or_else(|| StoreError::NotFound(format!("callback {id}")))?;
        cb.done = true;
        cb.outcome = Some(outcome.into());
        self.put(&cb).await?;
        Ok(cb)
    }
}

fn child_of(p: &WorkOrder, description: &str) -> NewOrder {
    NewOrder {
        category: p.category,
        subcategory: p.subcategory.clone(),
        estate_id: p.estate_id.clone(),
        unit_id: p.unit_id.clone(),
        caller: p.caller.clone(),
        description: description.into(),
        recording_id: p.recording_id.clone(),
        priority: p.priority.max(Priority::High),
        parent_id: Some(p.id.clone()),
        call_id: None,
    }
}

