//! The business capabilities plugins are granted (directory, billing, work orders, notify, kv,
//! clock, content), implemented over the store.
//!
//! Each capability is its own small adapter so an operator's grant maps to exactly one of them,
//! and a future backend (a firm's ERP for billing, say) replaces one adapter without touching the
//! others. Store errors become `service-error`s a plugin can act on: a missing record is
//! `invalid`, a storage failure is `unavailable` (the plugin apologises and offers an agent).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use courtyard_flows::wit::{
    Bill, Category, Channel, Estate, FeeType, NewOrder, Order, Priority, Resident, ResidentRole, ServiceError, Unit,
    WarrantyItem,
};
use courtyard_flows::{Billing, Clock, Content, Directory, Kv, Notify, Services, WorkOrders};
use courtyard_store::model as m;
use courtyard_store::{Store, StoreError};

/// Builds the capability set over one store.
pub fn services(store: Arc<Store>, payment_url: String) -> Services {
    let s = StoreServices { store, payment_url };
    let s = Arc::new(s);
    Services {
        directory: s.clone(),
        billing: s.clone(),
        work_orders: s.clone(),
        notify: s.clone(),
        kv: s.clone(),
        clock: s.clone(),
        content: s,
    }
}

/// All capabilities over the sled store (one struct, one trait impl per capability).
struct StoreServices {
    store: Arc<Store>,
    /// Base of the payment link sent by SMS (`{base}?unit=U1`).
    payment_url: String,
}

fn service_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound(w) => ServiceError::Invalid(format!("not found: {w}")),
        StoreError::Invalid(w) => ServiceError::Invalid(w),
        other => ServiceError::Unavailable(other.to_string()),
    }
}

fn resident(r: m::Resident) -> Resident {
    Resident {
        id: r.id,
        name: r.name,
        honorific: r.honorific,
        role: match r.role {
            m::ResidentRole::Owner => ResidentRole::Owner,
            m::ResidentRole::Tenant => ResidentRole::Tenant,
        },
        phones: r.phones,
        vip: r.vip,
        language: r.language,
        unit_ids: r.unit_ids,
    }
}

fn unit(u: m::Unit) -> Unit {
    Unit {
        id: u.id,
        estate_id: u.estate_id,
        building: u.building,
        entrance: u.entrance,
        room: u.room,
        move_in_date: u.move_in_date.map(|d| d.to_string()),
    }
}

fn fee_type(f: m::FeeType) -> FeeType {
    match f {
        m::FeeType::Property => FeeType::Property,
        m::FeeType::Water => FeeType::Water,
        m::FeeType::Electricity => FeeType::Electricity,
        m::FeeType::Gas => FeeType::Gas,
        m::FeeType::Parking => FeeType::Parking,
        m::FeeType::Other => FeeType::Other,
    }
}

fn category_to_store(c: Category) -> m::Category {
    match c {
        Category::Repair => m::Category::Repair,
        Category::Complaint => m::Category::Complaint,
        Category::Suggestion => m::Category::Suggestion,
        Category::Inquiry => m::Category::Inquiry,
    }
}

fn category_from_store(c: m::Category) -> Category {
    match c {
        m::Category::Repair => Category::Repair,
        m::Category::Complaint => Category::Complaint,
        m::Category::Suggestion => Category::Suggestion,
        m::Category::Inquiry => Category::Inquiry,
    }
}

fn priority_to_store(p: Priority) -> m::Priority {
    match p {
        Priority::Low => m::Priority::Low,
        Priority::Normal => m::Priority::Normal,
        Priority::High => m::Priority::High,
        Priority::Urgent => m::Priority::Urgent,
    }
}

fn priority_from_store(p: m::Priority) -> Priority {
    match p {
        m::Priority::Low => Priority::Low,
        m::Priority::Normal => Priority::Normal,
        m::Priority::High => Priority::High,
        m::Priority::Urgent => Priority::Urgent,
    }
}

fn order(o: m::WorkOrder) -> Order {
    Order {
        id: o.id,
        category: category_from_store(o.category),
        subcategory: o.subcategory,
        estate_id: o.estate_id,
        unit_id: o.unit_id,
        caller: o.caller,
        description: o.description,
        recording_id: o.recording_id,
        priority: priority_from_store(o.priority),
        state: o.state.as_str().to_string(),
        created_at: o.created_at.to_rfc3339(),
        parent_id: o.parent_id,
    }
}

#[async_trait]
impl Directory for StoreServices {
    async fn lookup_caller(&self, number: &str) -> Result<Vec<Resident>, ServiceError> {
        Ok(self.store.lookup_caller(number).map_err(service_error)?.into_iter().map(resident).collect())
    }

    async fn get_unit(&self, unit_id: &str) -> Result<Option<Unit>, ServiceError> {
        Ok(self.store.get::<m::Unit>(unit_id).map_err(service_error)?.map(unit))
    }

    async fn find_unit(
        &self,
        estate_id: Option<&str>,
        building: &str,
        entrance: &str,
        room: &str,
    ) -> Result<Option<Unit>, ServiceError> {
        Ok(self.store.find_unit(estate_id, building, entrance, room).map_err(service_error)?.map(unit))
    }

    async fn get_estate(&self, estate_id: &str) -> Result<Option<Estate>, ServiceError> {
        Ok(self
            .store
            .get::<m::Estate>(estate_id)
            .map_err(service_error)?
            .map(|e| Estate { id: e.id, name: e.name, office_phone: e.office_phone }))
    }

    async fn residents_of_unit(&self, unit_id: &str) -> Result<Vec<Resident>, ServiceError> {
        Ok(self.store.residents_of_unit(unit_id).map_err(service_error)?.into_iter().map(resident).collect())
    }

    async fn warranty(&self, unit_id: &str) -> Result<Vec<WarrantyItem>, ServiceError> {
        Ok(self
            .store
            .warranty(unit_id)
            .map_err(service_error)?
            .into_iter()
            .map(|w| WarrantyItem {
                item: w.item,
                months: w.months,
                ends_on: w.ends_on.to_string(),
                in_warranty: w.in_warranty,
            })
            .collect())
    }
}

#[async_trait]
impl Billing for StoreServices {
    async fn bills(&self, unit_id: &str, unpaid_only: bool) -> Result<Vec<Bill>, ServiceError> {
        Ok(self
            .store
            .bills(unit_id, unpaid_only)
            .map_err(service_error)?
            .into_iter()
            .map(|b| Bill {
                id: b.id,
                unit_id: b.unit_id,
                fee_type: fee_type(b.fee_type),
                period: b.period,
                amount: b.amount_fen,
                paid: b.paid,
                due_date: b.due_date.to_string(),
            })
            .collect())
    }

    async fn arrears(&self, unit_id: &str) -> Result<i64, ServiceError> {
        self.store.arrears(unit_id).map_err(service_error)
    }

    async fn payment_link(&self, unit_id: &str) -> Result<String, ServiceError> {
        if self.store.get::<m::Unit>(unit_id).map_err(service_error)?.is_none() {
            return Err(ServiceError::Invalid(format!("unknown unit {unit_id}")));
        }
        Ok(format!("{}?unit={unit_id}", self.payment_url))
    }
}

/// The actor recorded on work-order history entries made by plugins.
const PLUGIN_ACTOR: &str = "ivr";

#[async_trait]
impl WorkOrders for StoreServices {
    async fn create(&self, new: NewOrder) -> Result<Order, ServiceError> {
        let n = m::NewOrder {
            category: category_to_store(new.category),
            subcategory: new.subcategory,
            estate_id: new.estate_id,
            unit_id: new.unit_id,
            caller: new.caller,
            description: new.description,
            recording_id: new.recording_id,
            priority: priority_to_store(new.priority),
            parent_id: new.parent_id,
            call_id: None,
        };
        self.store.create_order(&n, PLUGIN_ACTOR).await.map(order).map_err(service_error)
    }

    async fn get(&self, id: &str) -> Result<Option<Order>, ServiceError> {
        Ok(self.store.get_order(id).map_err(service_error)?.map(order))
    }

    async fn list_for_unit(&self, unit_id: &str, open_only: bool) -> Result<Vec<Order>, ServiceError> {
        Ok(self.store.orders_for_unit(unit_id, open_only).map_err(service_error)?.into_iter().map(order).collect())
    }

    async fn rate(&self, id: &str, score: u8, comment: Option<&str>) -> Result<Option<String>, ServiceError> {
        self.store.rate_order(id, score, comment, PLUGIN_ACTOR).await.map_err(service_error)
    }

    async fn create_callback(
        &self,
        number: &str,
        reason: &str,
        recording_id: Option<&str>,
        due: &str,
    ) -> Result<String, ServiceError> {
        let due: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(due)
            .map_err(|e| ServiceError::Invalid(format!("due '{due}' is not an ISO-8601 date-time: {e}")))?;
        self.store.create_callback(number, reason, recording_id, due).await.map_err(service_error)
    }
}

#[async_trait]
impl Notify for StoreServices {
    async fn send(&self, channel: Channel, to: &str, text: &str) -> Result<String, ServiceError> {
        let channel = match channel {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::OnDuty => "on-duty",
        };
        if to.trim().is_empty() && channel != "on-duty" {
            return Err(ServiceError::Invalid("a recipient is required".into()));
        }
        if text.trim().is_empty() {
            return Err(ServiceError::Invalid("the message text is empty".into()));
        }
        let id = format!("n{}", uuid::Uuid::new_v4().simple());
        // The work-order workflow's delivery worker picks these up (retries, status).
        let n = courtyard_orders::Notification::queued(id.clone(), channel, to, text, self.store.now());
        self.store.put(&n).await.map_err(service_error)?;
        tracing::info!(notification = %id, channel, "notification queued");
        Ok(id)
    }
}

#[async_trait]
impl Kv for StoreServices {
    async fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        self.store.kv_get(plugin, key).map_err(service_error)
    }
    async fn set(&self, plugin: &str, key: &str, value: Vec<u8>) -> Result<(), ServiceError> {
        self.store.kv_set(plugin, key, &value).await.map_err(service_error)
    }
    async fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError> {
        self.store.kv_delete(plugin, key).await.map_err(service_error)
    }
    async fn increment(&self, plugin: &str, key: &str, delta: i64) -> Result<i64, ServiceError> {
        self.store.kv_increment(plugin, key, delta).await.map_err(service_error)
    }
}

#[async_trait]
impl Clock for StoreServices {
    async fn now(&self) -> String {
        self.store.now().to_rfc3339()
    }
    async fn is_open(&self, calendar: &str) -> bool {
        // A calendar that cannot be read counts as open: callers reach agents rather than voicemail.
        self.store.is_open(calendar, self.store.now()).unwrap_or(true)
    }
    async fn next_open(&self, calendar: &str) -> String {
        let now = self.store.now();
        match self.store.next_open(calendar, now) {
            Ok(Some(t)) => t.to_rfc3339(),
            _ => now.to_rfc3339(),
        }
    }
}

#[async_trait]
impl Content for StoreServices {
    async fn announcements(&self, estate_id: Option<&str>) -> Vec<String> {
        self.store.announcements_today(estate_id).unwrap_or_default()
    }
    async fn kb_answer(&self, topic: &str) -> Option<String> {
        self.store.kb_answer(topic).ok().flatten()
    }
}
