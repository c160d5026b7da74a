//! Bills and arrears of a unit, and the payment link to send by SMS.
//!
//! Amounts are integer fen; speak them with [`money`](crate::prompt::money).

use crate::bindings::inbound::courtyard::flow::billing as raw;
pub use crate::bindings::inbound::courtyard::flow::billing::{Bill, FeeType};
pub use crate::bindings::inbound::courtyard::flow::types::ServiceError;

/// Bills of a unit, newest first; only unpaid ones when `unpaid_only`.
pub fn bills(unit_id: &str, unpaid_only: bool) -> Result<Vec<Bill>, ServiceError> {
    raw::bills(unit_id, unpaid_only)
}

/// Total unpaid amount of a unit in fen.
pub fn arrears(unit_id: &str) -> Result<i64, ServiceError> {
    raw::arrears(unit_id)
}

/// A payment link for the unit's unpaid bills.
pub fn payment_link(unit_id: &str) -> Result<String, ServiceError> {
    raw::payment_link(unit_id)
}

impl FeeType {
    /// Stable key used in configuration maps ("property", "water", ...).
    pub fn key(self) -> &'static str {
        match self {
            FeeType::Property => "property",
            FeeType::Water => "water",
            FeeType::Electricity => "electricity",
            FeeType::Gas => "gas",
            FeeType::Parking => "parking",
            FeeType::Other => "other",
        }
    }

    /// Default Chinese name of the fee (物业费, 水费, ...).
    pub fn label_zh(self) -> &'static str {
        match self {
            FeeType::Property => "物业费",
            FeeType::Water => "水费",
            FeeType::Electricity => "电费",
            FeeType::Gas => "燃气费",
            FeeType::Parking => "停车费",
            FeeType::Other => "其他费用",
        }
    }
}
