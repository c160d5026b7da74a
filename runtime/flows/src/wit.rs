//! The WIT contract's types as Rust types, re-exported from the generated bindings.
//!
//! Host seam traits ([`crate::host_api`]) use exactly these types so that there is no parallel
//! "type zoo": what the plugin sees is what the SIP/media/store side implements.

pub use crate::bindings::interfaces::billing::{Bill, FeeType};
pub use crate::bindings::interfaces::call::{
    CallError, CallInfo, CollectEnd, CollectOptions, Collected, Direction, NamedPrompt,
    QueueOutcome, RecordOptions, Recording, Segment,
};
pub use crate::bindings::interfaces::directory::WarrantyItem;
pub use crate::bindings::interfaces::log::Level;
pub use crate::bindings::interfaces::notify::Channel;
pub use crate::bindings::interfaces::types::{Estate, Resident, ResidentRole, ServiceError, Unit};
pub use crate::bindings::interfaces::work_orders::{Category, NewOrder, Order, Priority};
pub use crate::bindings::outbound::Target;
