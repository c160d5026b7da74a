//! Money owed by units (bills, arrears) and the warranty table.

use super::Record;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Kind of fee (物业费/水费/电费/燃气费/停车费).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FeeType {
    /// 物业费.
    Property,
    /// 水费.
    Water,
    /// 电费.
    Electricity,
    /// 燃气费.
    Gas,
    /// 停车费.
    Parking,
    /// Anything else.
    Other,
}

impl FeeType {
    /// Parse an English key or the usual Chinese label used in firms' spreadsheets.
    pub fn parse(s: &str) -> Option<FeeType> {
        Some(match s.trim() {
            "property" | "物业费" | "物业" => FeeType::Property,
            "water" | "水费" => FeeType::Water,
            "electricity" | "电费" => FeeType::Electricity,
            "gas" | "燃气费" | "燃气" => FeeType::Gas,
            "parking" | "停车费" => FeeType::Parking,
            "other" | "其他" => FeeType::Other,
            _ => return None,
        })
    }

    /// Stable key used in ids.
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
}

/// One bill of a unit for one period; amounts are integer fen (分), never floats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bill {
    /// Stable id `{unit}/{fee}/{period}` (so re-import updates instead of duplicating).
    pub id: String,
    /// Unit billed.
    pub unit_id: String,
    /// Fee kind.
    pub fee_type: FeeType,
    /// Billing period, "2026-10".
    pub period: String,
    /// Amount in fen.
    pub amount_fen: i64,
    /// Whether it has been paid.
    pub paid: bool,
    /// Payment due date.
    pub due_date: NaiveDate,
}

impl Bill {
    /// The stable id for a unit's bill of a fee kind and period.
    pub fn make_id(unit_id: &str, fee: FeeType, period: &str) -> String {
        format!("{unit_id}/{}/{period}", fee.key())
    }
}

impl Record for Bill {
    const PREFIX: &'static str = "b/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// A row of an estate's warranty table (保修期限一览表): item and months from move-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WarrantyRule {
    /// Estate the rule applies to.
    pub estate_id: String,
    /// Item, e.g. "防水".
    pub item: String,
    /// Warranty length in months.
    pub months: u32,
}

impl Record for WarrantyRule {
    const PREFIX: &'static str = "wr/";
    fn key(&self) -> String {
        format!("{}/{}", self.estate_id, self.item)
    }
}

/// A warranty entry of one unit with its computed end date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WarrantyItem {
    /// Item, e.g. "防水".
    pub item: String,
    /// Warranty length in months.
    pub months: u32,
    /// Last covered day (move-in + months − 1 day).
    pub ends_on: NaiveDate,
    /// Whether `today <= ends_on`.
    pub in_warranty: bool,
}

impl WarrantyRule {
    /// Compute the unit's warranty entry from its move-in date.
    pub fn for_unit(&self, move_in: NaiveDate, today: NaiveDate) -> WarrantyItem {
        let end = move_in
            .checked_add_months(Months::new(self.months))
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MAX);
        WarrantyItem { item: self.item.clone(), months: self.months, ends_on: end, in_warranty: today <= end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warranty_end_is_last_covered_day() {
        let r = WarrantyRule { estate_id: "e".into(), item: "防水".into(), months: 60 };
        let mi = NaiveDate::from_ymd_opt(2021, 11, 28).unwrap();
        let w = r.for_unit(mi, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        assert_eq!(w.ends_on, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        assert!(w.in_warranty);
        let w = r.for_unit(mi, NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
        assert!(!w.in_warranty);
    }
}
