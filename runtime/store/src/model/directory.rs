//! Who lives where: estates, buildings, units and residents (the caller directory).

use super::Record;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A housing estate (小区/项目) managed by the firm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Estate {
    /// Stable id, e.g. "xfhy".
    pub id: String,
    /// Display name, e.g. "幸福花园".
    pub name: String,
    /// Front-desk phone of the estate's management office.
    #[serde(default)]
    pub office_phone: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
}

impl Record for Estate {
    const PREFIX: &'static str = "e/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// A building (楼栋) of an estate; derived from imported units so the console can browse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Building {
    /// `{estate}-{building}`.
    pub id: String,
    /// Estate it belongs to.
    pub estate_id: String,
    /// Building number as written on the building, e.g. "3".
    pub name: String,
}

impl Record for Building {
    const PREFIX: &'static str = "bd/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// A housing unit (房屋): building - entrance - room inside an estate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    /// Stable id `{estate}-{building}-{entrance}-{room}`.
    pub id: String,
    /// Estate id.
    pub estate_id: String,
    /// Building (楼栋).
    pub building: String,
    /// Entrance / staircase (单元).
    pub entrance: String,
    /// Room (房号).
    pub room: String,
    /// Floor area in square metres ×100 (integer to keep money-like exactness).
    #[serde(default)]
    pub area_centi_m2: Option<u32>,
    /// Hand-over / move-in date, start of warranty periods.
    #[serde(default)]
    pub move_in_date: Option<NaiveDate>,
}

impl Unit {
    /// The stable id for a unit address (used by import so re-import hits the same key).
    pub fn make_id(estate: &str, building: &str, entrance: &str, room: &str) -> String {
        format!("{estate}-{building}-{entrance}-{room}")
    }
}

impl Record for Unit {
    const PREFIX: &'static str = "u/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// Whether a person owns the unit or rents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResidentRole {
    /// 业主.
    Owner,
    /// 租户.
    Tenant,
}

/// An owner or tenant (业主/住户); several phones, possibly several units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Resident {
    /// Stable id (derived from name + phone on import).
    pub id: String,
    /// Full name, e.g. "张伟".
    pub name: String,
    /// Form of address, "先生" / "女士".
    #[serde(default)]
    pub honorific: Option<String>,
    /// Owner or tenant.
    pub role: ResidentRole,
    /// Normalized phone numbers (digits only).
    pub phones: Vec<String>,
    /// VIP callers get queue priority.
    #[serde(default)]
    pub vip: bool,
    /// Preferred prompt language, "zh" or "en".
    #[serde(default = "default_language")]
    pub language: String,
    /// Units this person is linked to.
    pub unit_ids: Vec<String>,
}

fn default_language() -> String {
    "zh".into()
}

impl Record for Resident {
    const PREFIX: &'static str = "r/";
    fn key(&self) -> String {
        self.id.clone()
    }
}
