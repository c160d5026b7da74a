//! Row validation and storage per import kind.

use super::ImportKind;
use crate::model::{
    Announcement, Bill, Estate, FeeType, KbArticle, Record, Resident, ResidentRole, Unit, WarrantyRule, is_valid_phone,
    normalize_phone,
};
use crate::{Store, StoreError};
use chrono::NaiveDate;
use csv::StringRecord;
use std::collections::{HashMap, HashSet};

/// Row outcome: `Ok(Err(reason))` is a bad row, `Err` aborts the import (storage failure).
type RowResult = Result<Result<(), String>, StoreError>;

pub(super) struct Ctx<'a> {
    store: &'a Store,
    kind: ImportKind,
    cols: HashMap<String, usize>,
    seen: HashSet<String>,
}

const REQUIRED: &[(ImportKind, &[&str])] = &[
    (ImportKind::Estates, &["id", "name"]),
    (ImportKind::Units, &["estate_id", "building", "entrance", "room"]),
    (ImportKind::Owners, &["estate_id", "building", "entrance", "room", "name", "phones"]),
    (ImportKind::Bills, &["estate_id", "building", "entrance", "room", "fee_type", "period", "amount_yuan", "paid", "due_date"]),
    (ImportKind::Warranty, &["estate_id", "item", "months"]),
    (ImportKind::Kb, &["id", "topic", "title", "answer"]),
    (ImportKind::Announcements, &["id", "text", "start", "end"]),
];

/// Parse "320.5" / "320.50" / "320" yuan into fen without floats.
pub(crate) fn parse_yuan(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('¥');
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yuan: i64 = int.parse().ok()?;
    let mut f: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    if frac.len() == 1 {
        f *= 10;
    }
    yuan.checked_mul(100)?.checked_add(f)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "是" | "已缴" | "已付" => Some(true),
        "0" | "false" | "no" | "n" | "否" | "未缴" | "未付" | "" => Some(false),
        _ => None,
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d")).ok()
}

/// FNV-1a, for stable resident ids derived from the data.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

/// Stable resident id: same person (name + first listed phone) → same id on every import.
pub(crate) fn resident_id(name: &str, phones: &[String]) -> String {
    let first = phones.first().cloned().unwrap_or_default();
    format!("r{:016x}", fnv(&format!("{name}|{first}")))
}

impl<'a> Ctx<'a> {
    pub(super) fn new(store: &'a Store, kind: ImportKind, cols: HashMap<String, usize>) -> Result<Self, StoreError> {
        let req = REQUIRED.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c).unwrap_or(&[]);
        let missing: Vec<&str> = req.iter().copied().filter(|c| !cols.contains_key(*c)).collect();
        if !missing.is_empty() {
            return Err(StoreError::Invalid(format!("line 1: header lacks column(s) {}", missing.join(", "))));
        }
        Ok(Ctx { store, kind, cols, seen: HashSet::new() })
    }

    fn f<'r>(&self, r: &'r StringRecord, col: &str) -> &'r str {
        self.cols.get(col).and_then(|&i| r.get(i)).unwrap_or("")
    }

    fn opt(&self, r: &StringRecord, col: &str) -> Option<String> {
        let v = self.f(r, col);
        (!v.is_empty()).then(|| v.to_string())
    }

    fn unit_of(&self, r: &StringRecord) -> Result<Result<Unit, String>, StoreError> {
        let (e, b, en, ro) = (self.f(r, "estate_id"), self.f(r, "building"), self.f(r, "entrance"), self.f(r, "room"));
        Ok(match self.store.get::<Unit>(&Unit::make_id(e, b, en, ro))? {
            Some(u) => Ok(u),
            None => Err(format!("unknown unit {e} {b}栋{en}单元{ro}")),
        })
    }

    fn first_seen(&mut self, key: String, what: &str) -> Result<(), String> {
        if self.seen.insert(key.clone()) { Ok(()) } else { Err(format!("duplicate {what} {key}")) }
    }

    pub(super) fn row(&mut self, r: &StringRecord) -> RowResult {
        for (name, i) in &self.cols {
            if let Some(v) = r.get(*i)
                && v.chars().any(|c| c == '\u{FFFD}')
            {
                return Ok(Err(format!("wrong encoding in column {name}")));
            }
        }
        match self.kind {
            ImportKind::Estates => self.estate(r),
            ImportKind::Units => self.unit(r),
            ImportKind::Owners => self.owner(r),
            ImportKind::Bills => self.bill(r),
            ImportKind::Warranty => self.warranty(r),
            ImportKind::Kb => self.kb(r),
            ImportKind::Announcements => self.announcement(r),
        }
    }

    fn estate(&mut self, r: &StringRecord) -> RowResult {
        let id = self.f(r, "id").to_string();
        if id.is_empty() || id.contains(['/', '-']) {
            return Ok(Err(format!("bad estate id '{id}' (non-empty, no '/' or '-')")));
        }
        if let Err(e) = self.first_seen(id.clone(), "estate") {
            return Ok(Err(e));
        }
        let office_phone = self.opt(r, "office_phone").map(|p| normalize_phone(&p));
        if let Some(p) = &office_phone
            && !is_valid_phone(p)
        {
            return Ok(Err(format!("bad phone '{}'", self.f(r, "office_phone"))));
        }
        let e = Estate { id, name: self.f(r, "name").into(), office_phone, address: self.opt(r, "address") };
        self.store.put_nf(&e)?;
        Ok(Ok(()))
    }

    fn unit(&mut self, r: &StringRecord) -> RowResult {
        let (e, b, en, ro) = (self.f(r, "estate_id"), self.f(r, "building"), self.f(r, "entrance"), self.f(r, "room"));
        if [e, b, en, ro].iter().any(|s| s.is_empty() || s.contains(['/', '-'])) {
            return Ok(Err("estate_id, building, entrance and room must be non-empty without '/' or '-'".into()));
        }
        if self.store.get::<Estate>(e)?.is_none() {
            return Ok(Err(format!("unknown estate '{e}'")));
        }
        let id = Unit::make_id(e, b, en, ro);
        if let Err(x) = self.first_seen(id.clone(), "unit") {
            return Ok(Err(x));
        }
        let area = match self.opt(r, "area_m2") {
            Some(a) => match parse_yuan(&a).and_then(|v| u32::try_from(v).ok()) {
                Some(v) => Some(v),
                None => return Ok(Err(format!("bad area '{a}'"))),
            },
            None => None,
        };
        let move_in = match self.opt(r, "move_in_date") {
            Some(d) => match parse_date(&d) {
                Some(d) => Some(d),
                None => return Ok(Err(format!("bad date '{d}' (use YYYY-MM-DD)"))),
            },
            None => None,
        };
        let u = Unit {
            id,
            estate_id: e.into(),
            building: b.into(),
            entrance: en.into(),
            room: ro.into(),
            area_centi_m2: area,
            move_in_date: move_in,
        };
        self.store.upsert_unit_nf(&u)?;
        Ok(Ok(()))
    }

    fn owner(&mut self, r: &StringRecord) -> RowResult {
        let unit = match self.unit_of(r)? {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let name = self.f(r, "name").to_string();
        if name.is_empty() {
            return Ok(Err("empty name".into()));
        }
        let mut phones = Vec::new();
        for raw in self.f(r, "phones").split([';', '|', '/', '；', '，', '、']).filter(|s| !s.trim().is_empty()) {
            let p = normalize_phone(raw);
            if !is_valid_phone(&p) {
                return Ok(Err(format!("bad phone '{raw}'")));
            }
            if !phones.contains(&p) {
                phones.push(p);
            }
        }
        if phones.is_empty() {
            return Ok(Err("no phone number".into()));
        }
        let role = match self.f(r, "role") {
            "" | "owner" | "业主" => ResidentRole::Owner,
            "tenant" | "租户" | "住户" => ResidentRole::Tenant,
            other => return Ok(Err(format!("bad role '{other}' (owner/业主 or tenant/租户)"))),
        };
        let vip = match parse_bool(self.f(r, "vip")) {
            Some(v) => v,
            None => return Ok(Err(format!("bad vip flag '{}'", self.f(r, "vip")))),
        };
        let id = resident_id(&name, &phones);
        if let Err(e) = self.first_seen(format!("{id}@{}", unit.id), "resident") {
            return Ok(Err(format!("{e} ({name} already listed for unit {})", unit.id)));
        }
        let language = self.opt(r, "language").unwrap_or_else(|| "zh".into());
        let mut res = Resident {
            id: id.clone(),
            name,
            honorific: self.opt(r, "honorific"),
            role,
            phones,
            vip,
            language,
            unit_ids: vec![unit.id.clone()],
        };
        if let Some(old) = self.store.get::<Resident>(&id)? {
            // Same person on another row or an earlier import: merge, so re-import is a no-op.
            for u in old.unit_ids {
                if !res.unit_ids.contains(&u) {
                    res.unit_ids.push(u);
                }
            }
            for p in old.phones {
                if !res.phones.contains(&p) {
                    res.phones.push(p);
                }
            }
            res.unit_ids.sort();
        }
        self.store.upsert_resident_nf(&res)?;
        Ok(Ok(()))
    }

    fn bill(&mut self, r: &StringRecord) -> RowResult {
        let unit = match self.unit_of(r)? {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let Some(fee) = FeeType::parse(self.f(r, "fee_type")) else {
            return Ok(Err(format!("bad fee type '{}'", self.f(r, "fee_type"))));
        };
        let period = self.f(r, "period").to_string();
        if NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").is_err() || period.len() != 7 {
            return Ok(Err(format!("bad period '{period}' (use YYYY-MM)")));
        }
        let Some(amount) = parse_yuan(self.f(r, "amount_yuan")) else {
            return Ok(Err(format!("bad amount '{}'", self.f(r, "amount_yuan"))));
        };
        let Some(paid) = parse_bool(self.f(r, "paid")) else {
            return Ok(Err(format!("bad paid flag '{}'", self.f(r, "paid"))));
        };
        let Some(due) = parse_date(self.f(r, "due_date")) else {
            return Ok(Err(format!("bad date '{}' (use YYYY-MM-DD)", self.f(r, "due_date"))));
        };
        let id = Bill::make_id(&unit.id, fee, &period);
        if let Err(e) = self.first_seen(id.clone(), "bill") {
            return Ok(Err(e));
        }
        let b = Bill { id, unit_id: unit.id, fee_type: fee, period, amount_fen: amount, paid, due_date: due };
        self.store.put_nf(&b)?;
        Ok(Ok(()))
    }

    fn warranty(&mut self, r: &StringRecord) -> RowResult {
        let estate = self.f(r, "estate_id").to_string();
        if self.store.get::<Estate>(&estate)?.is_none() {
            return Ok(Err(format!("unknown estate '{estate}'")));
        }
        let item = self.f(r, "item").to_string();
        if item.is_empty() || item.contains('/') {
            return Ok(Err(format!("bad item '{item}'")));
        }
        let Ok(months) = self.f(r, "months").parse::<u32>() else {
            return Ok(Err(format!("bad months '{}'", self.f(r, "months"))));
        };
        let w = WarrantyRule { estate_id: estate, item, months };
        if let Err(e) = self.first_seen(w.key(), "warranty item") {
            return Ok(Err(e));
        }
        self.store.put_nf(&w)?;
        Ok(Ok(()))
    }

    fn kb(&mut self, r: &StringRecord) -> RowResult {
        let id = self.f(r, "id").to_string();
        if id.is_empty() || id.contains('/') {
            return Ok(Err(format!("bad id '{id}'")));
        }
        if let Err(e) = self.first_seen(id.clone(), "article") {
            return Ok(Err(e));
        }
        let a = KbArticle {
            id,
            topic: self.f(r, "topic").into(),
            title: self.f(r, "title").into(),
            answer: self.f(r, "answer").into(),
            body: self.opt(r, "body").unwrap_or_else(|| self.f(r, "answer").into()),
            tags: self.f(r, "tags").split([';', '|', '；']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
        };
        self.store.put_nf(&a)?;
        Ok(Ok(()))
    }

    fn announcement(&mut self, r: &StringRecord) -> RowResult {
        let id = self.f(r, "id").to_string();
        if id.is_empty() || id.contains('/') {
            return Ok(Err(format!("bad id '{id}'")));
        }
        let estate_id = self.opt(r, "estate_id");
        if let Some(e) = &estate_id
            && self.store.get::<Estate>(e)?.is_none()
        {
            return Ok(Err(format!("unknown estate '{e}'")));
        }
        let (Some(start), Some(end)) = (parse_date(self.f(r, "start")), parse_date(self.f(r, "end"))) else {
            return Ok(Err("bad start/end date (use YYYY-MM-DD)".into()));
        };
        if end < start {
            return Ok(Err("end date before start date".into()));
        }
        if let Err(e) = self.first_seen(id.clone(), "announcement") {
            return Ok(Err(e));
        }
        let a = Announcement { id, estate_id, text: self.f(r, "text").into(), start, end };
        self.store.put_nf(&a)?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_to_fen_without_floats() {
        assert_eq!(parse_yuan("320.5"), Some(32050));
        assert_eq!(parse_yuan("320.05"), Some(32005));
        assert_eq!(parse_yuan("0"), Some(0));
        assert_eq!(parse_yuan("¥12"), Some(1200));
        assert_eq!(parse_yuan("-3"), None);
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("abc"), None);
    }
}
