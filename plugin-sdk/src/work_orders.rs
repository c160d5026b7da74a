//! Work orders (工单): open repairs and complaints, rate closed orders, schedule callbacks.
//!
//! ```no_run
//! use courtyard_plugin_sdk::prelude::*;
//! # fn f(call: &Call, rec: &Recording) -> FlowResult {
//! let order = work_orders::create(
//!     NewOrder::new(Category::Repair, call.caller(), "厨房漏水")
//!         .subcategory("water")
//!         .recording(&rec.id)
//!         .priority(Priority::High),
//! )?;
//! call.say(prompt!["您的工单号是", digits(&order.id)])?;
//! # Ok(()) }
//! ```

use crate::bindings::inbound::courtyard::flow::work_orders as raw;
pub use crate::bindings::inbound::courtyard::flow::types::ServiceError;
pub use crate::bindings::inbound::courtyard::flow::work_orders::{
    Category, NewOrder, Order, Priority,
};

/// Open a work order; returns it with its number.
pub fn create(order: NewOrder) -> Result<Order, ServiceError> {
    raw::create(&order)
}

/// A work order by number.
pub fn get(id: &str) -> Result<Option<Order>, ServiceError> {
    raw::get(id)
}

/// Orders of a unit, newest first; only open ones when `open_only`.
pub fn list_for_unit(unit_id: &str, open_only: bool) -> Result<Vec<Order>, ServiceError> {
    raw::list_for_unit(unit_id, open_only)
}

/// Record a 1–5 score and optional voice comment; returns the child order's number when a low
/// score reopened the order.
pub fn rate(id: &str, score: u8, comment_recording_id: Option<&str>) -> Result<Option<String>, ServiceError> {
    raw::rate(id, score, comment_recording_id)
}

/// A callback task for an agent, due by `due` (ISO date-time); returns the task id.
pub fn create_callback(
    number: &str,
    reason: &str,
    recording_id: Option<&str>,
    due: &str,
) -> Result<String, ServiceError> {
    raw::create_callback(number, reason, recording_id, due)
}

impl NewOrder {
    /// A new order with normal priority and no optional fields.
    pub fn new(category: Category, caller: &str, description: impl Into<String>) -> Self {
        NewOrder {
            category,
            subcategory: None,
            estate_id: None,
            unit_id: None,
            caller: caller.to_string(),
            description: description.into(),
            recording_id: None,
            priority: Priority::Normal,
            parent_id: None,
        }
    }

    /// Finer kind ("water", "elevator", ...).
    pub fn subcategory(mut self, s: impl Into<String>) -> Self {
        self.subcategory = Some(s.into());
        self
    }

    /// The estate concerned.
    pub fn estate(mut self, id: Option<&str>) -> Self {
        self.estate_id = id.map(str::to_string);
        self
    }

    /// The unit concerned.
    pub fn unit(mut self, id: Option<&str>) -> Self {
        self.unit_id = id.map(str::to_string);
        self
    }

    /// Attach a recording.
    pub fn recording(mut self, id: &str) -> Self {
        self.recording_id = Some(id.to_string());
        self
    }

    /// Set the priority.
    pub fn priority(mut self, p: Priority) -> Self {
        self.priority = p;
        self
    }

    /// Make it a child of another order.
    pub fn parent(mut self, id: &str) -> Self {
        self.parent_id = Some(id.to_string());
        self
    }
}
