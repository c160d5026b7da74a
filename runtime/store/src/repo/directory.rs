//! Directory and billing: units, residents with the phone index, bills, arrears, warranty.

use super::{Store, check_id, rkey, tx_get, tx_put};
use crate::StoreError;
use crate::backend::TxView;
use crate::model::{
    Bill, Building, Cdr, Estate, Page, Resident, Unit, WarrantyItem, WarrantyRule, WorkOrder, normalize_phone,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Everything an agent's screen-pop (and a flow's greeting) needs about a caller number.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CallerView {
    /// Normalized number looked up.
    pub number: String,
    /// Residents with this phone.
    pub residents: Vec<Resident>,
    /// Their units.
    pub units: Vec<Unit>,
    /// Unpaid total per unit id, fen.
    pub arrears: Vec<(String, i64)>,
    /// Open work orders of those units or this number, newest first.
    pub open_orders: Vec<WorkOrder>,
    /// Last calls from this number, newest first.
    pub last_calls: Vec<Cdr>,
}

fn unit_index_key(u: &Unit) -> String {
    format!("ix/ub/{}/{}/{}/{}", u.estate_id, u.building, u.entrance, u.room)
}

impl Store {
    // ---- units ---------------------------------------------------------------------------

    /// Insert or replace a unit and its address index (and derived building).
    pub async fn upsert_unit(&self, unit: &Unit) -> Result<(), StoreError> {
        self.upsert_unit_nf(unit)?;
        self.flush().await
    }

    pub(crate) fn upsert_unit_nf(&self, unit: &Unit) -> Result<(), StoreError> {
        for (what, v) in [("estate", &unit.estate_id), ("building", &unit.building), ("entrance", &unit.entrance), ("room", &unit.room)] {
            check_id(what, v)?;
        }
        self.txn(|tx| {
            if let Some(old) = tx_get::<Unit>(tx, &rkey::<Unit>(&unit.id))? {
                tx.remove(unit_index_key(&old).as_bytes())?;
            }
            tx_put(tx, &rkey::<Unit>(&unit.id), unit)?;
            tx.insert(unit_index_key(unit).as_bytes(), unit.id.as_bytes())?;
            let b = Building {
                id: format!("{}-{}", unit.estate_id, unit.building),
                estate_id: unit.estate_id.clone(),
                name: unit.building.clone(),
            };
            tx_put(tx, &rkey::<Building>(&b.id), &b)
        })
    }

    /// A unit by address within an estate (or in any estate when `estate` is `None`).
    pub fn find_unit(
        &self,
        estate: Option<&str>,
        building: &str,
        entrance: &str,
        room: &str,
    ) -> Result<Option<Unit>, StoreError> {
        match estate {
            Some(e) => {
                let k = format!("ix/ub/{e}/{building}/{entrance}/{room}");
                match self.kv().get(k.as_bytes())? {
                    Some(id) => self.get::<Unit>(&String::from_utf8_lossy(&id)),
                    None => Ok(None),
                }
            }
            None => {
                let estates = self.list::<Estate>(|_| true, 0, usize::MAX)?;
                for e in estates.items {
                    if let Some(u) = self.find_unit(Some(&e.id), building, entrance, room)? {
                        return Ok(Some(u));
                    }
                }
                Ok(None)
            }
        }
    }

    /// Units of an estate, optionally of one building (and entrance), in address order.
    pub fn units_of(
        &self,
        estate: &str,
        building: Option<&str>,
        entrance: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Page<Unit>, StoreError> {
        let mut prefix = format!("ix/ub/{estate}/");
        if let Some(b) = building {
            prefix.push_str(b);
            prefix.push('/');
            if let Some(e) = entrance {
                prefix.push_str(e);
                prefix.push('/');
            }
        }
        let ids: Vec<Vec<u8>> = self.kv().scan_prefix(prefix.as_bytes()).map(|r| r.map(|(_, v)| v)).collect::<Result<_, _>>()?;
        let total = ids.len();
        let mut items = Vec::new();
        for id in ids.into_iter().skip(offset).take(limit) {
            if let Some(u) = self.get::<Unit>(&String::from_utf8_lossy(&id))? {
                items.push(u);
            }
        }
        Ok(Page { items, total })
    }

    // ---- residents -----------------------------------------------------------------------

    /// Insert or replace a resident, keeping the phone and unit indexes in step (one transaction).
    pub async fn upsert_resident(&self, r: &Resident) -> Result<(), StoreError> {
        self.upsert_resident_nf(r)?;
        self.flush().await
    }

    pub(crate) fn upsert_resident_nf(&self, r: &Resident) -> Result<(), StoreError> {
        check_id("resident id", &r.id)?;
        let mut r = r.clone();
        r.phones = r.phones.iter().map(|p| normalize_phone(p)).filter(|p| !p.is_empty()).collect();
        r.phones.dedup();
        self.txn(|tx| {
            if let Some(old) = tx_get::<Resident>(tx, &rkey::<Resident>(&r.id))? {
                unindex_resident(tx, &old)?;
            }
            tx_put(tx, &rkey::<Resident>(&r.id), &r)?;
            for p in &r.phones {
                tx.insert(format!("ix/ph/{p}/{}", r.id).as_bytes(), b"")?;
            }
            for u in &r.unit_ids {
                tx.insert(format!("ix/ru/{u}/{}", r.id).as_bytes(), b"")?;
            }
            Ok(())
        })
    }

    /// Delete a resident and its index entries.
    pub async fn delete_resident(&self, id: &str) -> Result<bool, StoreError> {
        let existed = self.txn(|tx| {
            let Some(old) = tx_get::<Resident>(tx, &rkey::<Resident>(id))? else { return Ok(false) };
            unindex_resident(tx, &old)?;
            tx.remove(rkey::<Resident>(id).as_bytes())?;
            Ok(true)
        })?;
        self.flush().await?;
        Ok(existed)
    }

    /// Residents whose phone list contains `number` (normalized first). One index seek.
    pub fn lookup_caller(&self, number: &str) -> Result<Vec<Resident>, StoreError> {
        let n = normalize_phone(number);
        if n.is_empty() {
            return Ok(vec![]);
        }
        let ids = self.index_ids(&format!("ix/ph/{n}/"), false)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = self.get::<Resident>(&id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Residents linked to a unit.
    pub fn residents_of_unit(&self, unit_id: &str) -> Result<Vec<Resident>, StoreError> {
        let ids = self.index_ids(&format!("ix/ru/{unit_id}/"), false)?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(r) = self.get::<Resident>(&id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    // ---- billing -------------------------------------------------------------------------

    /// Bills of a unit, newest period first; only unpaid when `unpaid_only`.
    pub fn bills(&self, unit_id: &str, unpaid_only: bool) -> Result<Vec<Bill>, StoreError> {
        let mut bills =
            self.list_under::<Bill>(&format!("{unit_id}/"), |b| !unpaid_only || !b.paid, 0, usize::MAX, false)?.items;
        bills.sort_by(|a, b| b.period.cmp(&a.period).then(a.fee_type.key().cmp(b.fee_type.key())));
        Ok(bills)
    }

    /// Total unpaid amount of a unit, fen.
    pub fn arrears(&self, unit_id: &str) -> Result<i64, StoreError> {
        Ok(self.bills(unit_id, true)?.iter().map(|b| b.amount_fen).sum())
    }

    /// Mark a bill paid or unpaid.
    pub async fn set_bill_paid(&self, bill_id: &str, paid: bool) -> Result<Bill, StoreError> {
        let b = self.txn(|tx| {
            let mut b: Bill = tx_get(tx, &rkey::<Bill>(bill_id))?
                .ok_or_else(|| StoreError::NotFound(format!("bill {bill_id}")))?;
            b.paid = paid;
            tx_put(tx, &rkey::<Bill>(bill_id), &b)?;
            Ok(b)
        })?;
        self.flush().await?;
        Ok(b)
    }

    /// Warranty items of a unit with end dates computed from its move-in date (none without one).
    pub fn warranty(&self, unit_id: &str) -> Result<Vec<WarrantyItem>, StoreError> {
        let unit = self.get::<Unit>(unit_id)?.ok_or_else(|| StoreError::NotFound(format!("unit {unit_id}")))?;
        let Some(mi) = unit.move_in_date else { return Ok(vec![]) };
        let today = self.now().date_naive();
        let rules = self.list_under::<WarrantyRule>(&format!("{}/", unit.estate_id), |_| true, 0, usize::MAX, false)?;
        Ok(rules.items.iter().map(|r| r.for_unit(mi, today)).collect())
    }

    // ---- screen-pop ----------------------------------------------------------------------

    /// The screen-pop view of a caller number: residents, units, arrears, open orders, last calls.
    pub fn caller_view(&self, number: &str, last_calls: usize) -> Result<CallerView, StoreError> {
        let n = normalize_phone(number);
        let residents = self.lookup_caller(&n)?;
        let mut unit_ids: Vec<String> = residents.iter().flat_map(|r| r.unit_ids.clone()).collect();
        unit_ids.sort();
        unit_ids.dedup();
        let mut units = Vec::new();
        let mut arrears = Vec::new();
        let mut open_orders: Vec<WorkOrder> = Vec::new();
        for id in &unit_ids {
            if let Some(u) = self.get::<Unit>(id)? {
                units.push(u);
            }
            arrears.push((id.clone(), self.arrears(id)?));
            open_orders.extend(self.orders_for_unit(id, true)?);
        }
        for o in self.orders_for_caller(&n, true)? {
            if !open_orders.iter().any(|x| x.id == o.id) {
                open_orders.push(o);
            }
        }
        open_orders.sort_by(|a, b| b.id.cmp(&a.id));
        let last_calls = self.calls_from(&n, last_calls)?;
        Ok(CallerView { number: n, residents, units, arrears, open_orders, last_calls })
    }
}

fn unindex_resident(tx: &dyn TxView, old: &Resident) -> Result<(), StoreError> {
    for p in &old.phones {
        tx.remove(format!("ix/ph/{p}/{}", old.id).as_bytes())?;
    }
    for u in &old.unit_ids {
        tx.remove(format!("ix/ru/{u}/{}", old.id).as_bytes())?;
    }
    Ok(())
}
