//! Who is calling: caller number → residents → units → estate, plus the warranty table.
//!
//! ```no_run
//! use courtyard_plugin_sdk::prelude::*;
//! # fn f(call: &Call) -> FlowResult {
//! let residents = directory::lookup_caller(call.caller())?;
//! if let Some(r) = residents.first() {
//!     call.say(prompt!["您好,", r.name.chars().next().map(String::from).unwrap_or_default(),
//!         r.honorific.clone().unwrap_or_default()])?;
//! }
//! # Ok(()) }
//! ```

use crate::bindings::inbound::courtyard::flow::directory as raw;
pub use crate::bindings::inbound::courtyard::flow::directory::WarrantyItem;
pub use crate::bindings::inbound::courtyard::flow::types::{
    Estate, Resident, ResidentRole, ServiceError, Unit,
};

/// Residents whose phone list contains `number`.
pub fn lookup_caller(number: &str) -> Result<Vec<Resident>, ServiceError> {
    raw::lookup_caller(number)
}

/// A unit by id.
pub fn unit(unit_id: &str) -> Result<Option<Unit>, ServiceError> {
    raw::get_unit(unit_id)
}

/// A unit by building / entrance / room, within an estate when given.
pub fn find_unit(
    estate_id: Option<&str>,
    building: &str,
    entrance: &str,
    room: &str,
) -> Result<Option<Unit>, ServiceError> {
    raw::find_unit(estate_id, building, entrance, room)
}

/// An estate by id.
pub fn estate(estate_id: &str) -> Result<Option<Estate>, ServiceError> {
    raw::get_estate(estate_id)
}

/// Residents linked to a unit (to verify an unrecognized caller).
pub fn residents_of_unit(unit_id: &str) -> Result<Vec<Resident>, ServiceError> {
    raw::residents_of_unit(unit_id)
}

/// Warranty items of a unit with computed end dates.
pub fn warranty(unit_id: &str) -> Result<Vec<WarrantyItem>, ServiceError> {
    raw::warranty(unit_id)
}

impl Resident {
    /// Family name plus honorific for a greeting ("张先生"); the full name when no honorific is
    /// known. Chinese family names are the first character (compound surnames are rare enough to
    /// be read in full by configuring no honorific).
    pub fn address_form(&self) -> String {
        match self.honorific.as_deref() {
            Some(h) if !h.is_empty() => {
                let family: String = self.name.chars().take(1).collect();
                format!("{family}{h}")
            }
            _ => self.name.clone(),
        }
    }
}

impl Unit {
    /// Spoken form "3栋2单元1502", used when choosing among several units.
    pub fn label(&self) -> String {
        format!("{}栋{}单元{}", self.building, self.entrance, self.room)
    }
}
