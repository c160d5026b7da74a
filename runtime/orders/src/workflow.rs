//! [`Workflow`]: the façade the binary starts and the API calls — lifecycle transitions,
//! dispatch, callbacks, escalation overview — plus the two background loops (delivery worker
//! and SLA scheduler) behind a [`WorkflowHandle`].

use crate::callback::{self, CallbackOutcome};
use crate::config::OrdersConfig;
use crate::dispatch::{ResponsibilityTable, ensure_assignee_notified, next_assignee};
use crate::notify::Channels;
use crate::record::{EscalationEvent, Notification};
use crate::sla::{EscalationOverview, Ladder, ScanReport, Scheduler};
use crate::worker::{DeliveryPass, Worker};
use crate::OrdersError;
use chrono::{DateTime, FixedOffset};
use courtyard_store::model::{CallbackTask, OrderState, WorkOrder};
use courtyard_store::{Clock, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Channel names a notification may use.
pub const CHANNELS: [&str; 4] = ["sms", "email", "webhook", "on-duty"];

/// The work-order workflow after the call. Share it as `Arc<Workflow>`.
pub struct Workflow {
    store: Arc<Store>,
    cfg: Arc<OrdersConfig>,
    clock: Arc<dyn Clock>,
    table: Arc<ResponsibilityTable>,
    worker: Worker,
    scheduler: Scheduler,
    wake: Notify,
    /// Serializes dispatch decisions (read state → choose assignee → transition) in this process,
    /// so the scheduler's auto-dispatch and an agent's dispatch cannot both assign a new order.
    pub(crate) dispatch_lock: Mutex<()>,
    /// One scheduler pass at a time (the loop and an ops call could otherwise both find a level
    /// unrecorded and queue its notifications twice).
    scan_lock: Mutex<()>,
}

/// The running background loops; dropping it leaves them running, [`WorkflowHandle::shutdown`]
/// stops them.
pub struct WorkflowHandle {
    wf: Arc<Workflow>,
    token: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkflowHandle {
    /// The workflow, for the API.
    pub fn workflow(&self) -> Arc<Workflow> {
        self.wf.clone()
    }
    /// Stop the worker and the scheduler after their current step and wait for them.
    pub async fn shutdown(self) {
        self.token.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

impl Workflow {
    /// Build with the channels the config enables (no background tasks yet).
    pub fn new(store: Arc<Store>, cfg: OrdersConfig, clock: Arc<dyn Clock>) -> Result<Workflow, OrdersError> {
        let channels = Channels::from_config(&cfg, clock.clone())?;
        Workflow::with_channels(store, cfg, clock, channels)
    }

    /// Build with explicit channels (custom gateways, tests).
    pub fn with_channels(
        store: Arc<Store>,
        cfg: OrdersConfig,
        clock: Arc<dyn Clock>,
        channels: Channels,
    ) -> Result<Workflow, OrdersError> {
        cfg.validate()?;
        let table = Arc::new(ResponsibilityTable::from_config(&cfg)?);
        let cfg = Arc::new(cfg);
        let worker = Worker::new(store.clone(), channels, cfg.worker.clone(), clock.clone());
        let scheduler = Scheduler {
            store: store.clone(),
            cfg: cfg.clone(),
            table: table.clone(),
            ladder: Ladder::from_config(&cfg),
            clock: clock.clone(),
            pending: worker.pending.clone(),
            known: Default::default(),
        };
        Ok(Workflow { store, cfg, clock, table, worker, scheduler, wake: Notify::new(), dispatch_lock: Mutex::new(()), scan_lock: Mutex::new(()) })
    }

    /// Build and spawn the delivery worker and the SLA scheduler (call inside a tokio runtime).
    pub fn start(store: Arc<Store>, cfg: OrdersConfig, clock: Arc<dyn Clock>) -> Result<WorkflowHandle, OrdersError> {
        Ok(Arc::new(Workflow::new(store, cfg, clock)?).spawn())
    }

    /// Spawn the background loops of an already built workflow.
    pub fn spawn(self: Arc<Self>) -> WorkflowHandle {
        let token = CancellationToken::new();
        let tick = Duration::from_millis(self.cfg.tick_ms);
        let scan_every = Duration::from_millis(self.cfg.scan_ms);
        let (wf, t) = (self.clone(), token.clone());
        let worker = tokio::spawn(async move {
            loop {
                match wf.deliver_once().await {
                    Ok(p) if p.attempted > 0 => tracing::debug!(?p, "delivery pass"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "delivery pass failed"),
                }
                tokio::select! {
                    _ = t.cancelled() => break,
                    _ = wf.wake.notified() => {}
                    _ = tokio::time::sleep(tick) => {}
                }
            }
        });
        let (wf, t) = (self.clone(), token.clone());
        let scheduler = tokio::spawn(async move {
            loop {
                match wf.scan_once().await {
                    Ok(r) if !r.fired.is_empty() || !r.auto_dispatched.is_empty() => {
                        tracing::info!(fired = r.fired.len(), dispatched = r.auto_dispatched.len(), "SLA scan")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "SLA scan failed"),
                }
                tokio::select! {
                    _ = t.cancelled() => break,
                    _ = tokio::time::sleep(scan_every) => {}
                }
            }
        });
        WorkflowHandle { wf: self, token, tasks: vec![worker, scheduler] }
    }

    /// The store it works on.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The config in use.
    pub fn config(&self) -> &OrdersConfig {
        &self.cfg
    }

    /// The parsed responsibility table.
    pub fn table(&self) -> &ResponsibilityTable {
        &self.table
    }

    fn order(&self, id: &str) -> Result<WorkOrder, OrdersError> {
        self.store.get_order(id)?.ok_or_else(|| OrdersError::NotFound(format!("work order {id}")))
    }

    // ---- dispatch ------------------------------------------------------------------------------

    /// Assign a new order to the head of its chain in the responsibility table and notify them.
    pub async fn dispatch(&self, id: &str, actor: &str) -> Result<WorkOrder, OrdersError> {
        let _g = self.dispatch_lock.lock().await;
        let o = self.order(id)?;
        if o.state != OrderState::New {
            o.state.check_transition(OrderState::Dispatched).map_err(OrdersError::Invalid)?;
            return Err(OrdersError::Invalid(format!(
                "order {id} is already {} to {}; use re-dispatch (二次指派) to hand it down the chain",
                o.state.as_str(),
                o.assignee.as_deref().unwrap_or("-")
            )));
        }
        let head = next_assignee(&self.table, &o, None)?.clone();
        let note = if head.role.is_empty() { None } else { Some(head.role.as_str()) };
        let o = self.store.transition_order(id, OrderState::Dispatched, actor, Some(&head.name), note).await?;
        self.after_dispatch(&o).await?;
        Ok(o)
    }

    /// 二次指派: hand a dispatched/accepted order to the next person down its chain, or to the
    /// named chain member, and notify them.
    pub async fn redispatch(&self, id: &str, actor: &str, to: Option<&str>, note: Option<&str>) -> Result<WorkOrder, OrdersError> {
        let _g = self.dispatch_lock.lock().await;
        let o = self.order(id)?;
        if o.state == OrderState::New {
            return Err(OrdersError::Invalid(format!("order {id} is new; dispatch it first")));
        }
        o.state.check_transition(OrderState::Dispatched).map_err(OrdersError::Invalid)?;
        let c = next_assignee(&self.table, &o, to)?.clone();
        let text = match (c.role.is_empty(), note) {
            (false, Some(n)) => format!("二次指派 → {}: {n}", c.role),
            (false, None) => format!("二次指派 → {}", c.role),
            (true, Some(n)) => format!("二次指派: {n}"),
            (true, None) => "二次指派".to_string(),
        };
        let o = self.store.transition_order(id, OrderState::Dispatched, actor, Some(&c.name), Some(&text)).await?;
        self.after_dispatch(&o).await?;
        Ok(o)
    }

    async fn after_dispatch(&self, o: &WorkOrder) -> Result<(), OrdersError> {
        let ids = ensure_assignee_notified(&self.store, &self.table, o).await?;
        ids.iter().for_each(|id| self.worker.pending.add(id));
        tracing::info!(order = %o.id, assignee = ?o.assignee, notifications = ids.len(), "work order dispatched");
        self.wake.notify_one();
        Ok(())
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    /// Any checked transition; `dispatched` goes through [`Workflow::redispatch`]/[`Workflow::dispatch`]
    /// semantics when `assignee` is `None`. Refusals carry the reason.
    pub async fn transition(
        &self,
        id: &str,
        to: OrderState,
        actor: &str,
        assignee: Option<&str>,
        note: Option<&str>,
    ) -> Result<WorkOrder, OrdersError> {
        if to == OrderState::Dispatched {
            let o = self.order(id)?;
            return match (o.state, assignee) {
                (OrderState::New, None) => self.dispatch(id, actor).await,
                (_, a) => {
                    if o.state == OrderState::New {
                        // explicit assignee for a new order: a manual first dispatch
                        let _g = self.dispatch_lock.lock().await;
                        let o = self.store.transition_order(id, to, actor, a, note).await?;
                        self.after_dispatch(&o).await?;
                        Ok(o)
                    } else {
                        self.redispatch(id, actor, a, note).await
                    }
                }
            };
        }
        if to == OrderState::Cancelled && note.is_none_or(|n| n.trim().is_empty()) {
            return Err(OrdersError::Invalid("cancelling an order needs a reason".into()));
        }
        let o = self.store.transition_order(id, to, actor, None, note).await?;
        if to == OrderState::Done {
            callback::ensure_callback(&self.store, &o, self.cfg.callback_due_hours).await?;
        }
        Ok(o)
    }

    /// The assignee accepts the order.
    pub async fn accept(&self, id: &str, actor: &str) -> Result<WorkOrder, OrdersError> {
        self.transition(id, OrderState::Accepted, actor, None, None).await
    }

    /// Work starts on site.
    pub async fn start_work(&self, id: &str, actor: &str) -> Result<WorkOrder, OrdersError> {
        self.transition(id, OrderState::InProgress, actor, None, None).await
    }

    /// Work is finished; creates (or re-times) the 回访 task.
    pub async fn finish(&self, id: &str, actor: &str, note: Option<&str>) -> Result<WorkOrder, OrdersError> {
        self.transition(id, OrderState::Done, actor, None, note).await
    }

    /// Cancel with a reason (new … in-progress only).
    pub async fn cancel(&self, id: &str, actor: &str, reason: &str) -> Result<WorkOrder, OrdersError> {
        self.transition(id, OrderState::Cancelled, actor, None, Some(reason)).await
    }

    /// Reopen a done/callback/closed order as a child order.
    pub async fn reopen(&self, id: &str, actor: &str, description: &str) -> Result<WorkOrder, OrdersError> {
        Ok(self.store.reopen_order(id, actor, description).await?)
    }

    // ---- callback (回访) ------------------------------------------------------------------------

    /// An agent starts the 回访 call (done → callback).
    pub async fn start_callback(&self, id: &str, actor: &str) -> Result<WorkOrder, OrdersError> {
        self.transition(id, OrderState::Callback, actor, None, Some("回访开始")).await
    }

    /// Finish the 回访: by an agent (`actor` = user) or by the survey plugin (`"plugin:survey"`)
    /// with its score. Score ≤ 2 reopens a child order.
    pub async fn complete_callback(
        &self,
        id: &str,
        actor: &str,
        score: Option<u8>,
        outcome: &str,
        recording_id: Option<&str>,
    ) -> Result<CallbackOutcome, OrdersError> {
        callback::complete(&self.store, id, actor, score, outcome, recording_id).await
    }

    /// Open 回访 tasks due by `until`.
    pub fn due_callbacks(&self, until: DateTime<FixedOffset>) -> Result<Vec<CallbackTask>, OrdersError> {
        callback::due_callbacks(&self.store, until)
    }

    // ---- escalation ----------------------------------------------------------------------------

    /// Overdue open orders grouped by their highest escalation level.
    pub fn escalations_overview(&self) -> Result<EscalationOverview, OrdersError> {
        crate::sla::overview(&self.store)
    }

    /// Escalation log of one order, lowest level first.
    pub fn escalations_of(&self, id: &str) -> Result<Vec<EscalationEvent>, OrdersError> {
        Ok(self.store.list_under::<EscalationEvent>(&format!("{id}/"), |_| true, 0, usize::MAX, false)?.items)
    }

    /// One scheduler pass (auto-dispatch, dispatch-notification repair, escalation).
    pub async fn scan_once(&self) -> Result<ScanReport, OrdersError> {
        let _g = self.scan_lock.lock().await;
        let r = self.scheduler.scan(self).await?;
        if !r.fired.is_empty() || r.requeued > 0 {
            self.wake.notify_one();
        }
        Ok(r)
    }

    // ---- notifications -------------------------------------------------------------------------

    /// Queue a notification (durable when this returns) and wake the worker.
    pub async fn enqueue(&self, channel: &str, to: &str, text: &str) -> Result<Notification, OrdersError> {
        if !CHANNELS.contains(&channel) {
            return Err(OrdersError::Invalid(format!("channel '{channel}' is not one of {}", CHANNELS.join(", "))));
        }
        if to.trim().is_empty() && channel != "on-duty" {
            return Err(OrdersError::Invalid("a recipient is required".into()));
        }
        if text.trim().is_empty() {
            return Err(OrdersError::Invalid("the message text is empty".into()));
        }
        let id = format!("n{}", uuid::Uuid::new_v4().simple());
        let n = Notification::queued(id, channel, to, text, self.clock.now());
        self.store.put(&n).await?;
        self.worker.pending.add(&n.id);
        self.wake.notify_one();
        Ok(n)
    }

    /// A notification and its delivery status.
    pub fn notification(&self, id: &str) -> Result<Option<Notification>, OrdersError> {
        Ok(self.store.get::<Notification>(id)?)
    }

    /// One delivery pass over due notifications.
    pub async fn deliver_once(&self) -> Result<DeliveryPass, OrdersError> {
        self.worker.run_once().await
    }

    /// The worker (backoff schedule, next due time).
    pub fn worker(&self) -> &Worker {
        &self.worker
    }
}
