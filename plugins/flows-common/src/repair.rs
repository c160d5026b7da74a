//! Repair intake (故障报修): category by key, warranty check, spoken description, a work order
//! bound to the recording, the order number read back digit by digit and confirmed by SMS.
//!
//! Emergencies (gas leak, flooding, elevator entrapment) skip everything else: an urgent work
//! order, an alert to the on-duty engineer, and the emergency queue at once.

use std::collections::BTreeMap;

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;
use crate::agent::fill;

/// One repair category of the menu.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairCategory {
    /// Spoken / written name, e.g. "水路".
    pub name: String,
    /// Work-order subcategory, e.g. "water".
    pub subcategory: String,
    /// Warranty-table item checked for this category (e.g. "防水"); none = no check.
    #[serde(default)]
    pub warranty_item: Option<String>,
    /// Emergency: urgent order, on-duty alert, emergency queue.
    #[serde(default)]
    pub emergency: bool,
    /// Whether the caller's unit is needed (public areas and elevators do not need one).
    #[serde(default = "yes")]
    pub needs_unit: bool,
}

fn yes() -> bool {
    true
}

/// Texts and settings of repair intake (config section `repair`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepairConfig {
    /// Key → category.
    pub categories: BTreeMap<String, RepairCategory>,
    /// The category menu.
    pub menu_prompt: String,
    /// Queue when the caller wants an agent or the menu fails.
    pub queue: String,
    /// Queue for emergencies.
    pub emergency_queue: String,
    /// Priority in the emergency queue.
    pub emergency_priority: u32,
    /// Said before the emergency queue.
    pub emergency_text: String,
    /// Recipient of the on-duty alert (rota name or number, per operator setup).
    pub on_duty_to: String,
    /// On-duty alert: `{category}`, `{caller}`, `{unit}`, `{order}`.
    pub on_duty_text: String,
    /// Said when the item is in warranty: `{item}`, `{ends}` (date).
    pub in_warranty_text: String,
    /// Said when the warranty has ended: `{item}`, `{ends}`.
    pub out_of_warranty_text: String,
    /// Asks for the spoken description (a beep follows).
    pub record_prompt: String,
    /// Longest description, seconds.
    pub record_max_seconds: u32,
    /// Read-back: `{id}` is read digit by digit.
    pub created_text: String,
    /// Appended to the read-back when the SMS was queued.
    pub sms_note_text: String,
    /// SMS body: `{id}`, `{category}`.
    pub sms_text: String,
}

impl Default for RepairConfig {
    fn default() -> Self {
        let cat = |name: &str, sub: &str, item: Option<&str>, emergency: bool, needs_unit: bool| RepairCategory {
            name: name.into(),
            subcategory: sub.into(),
            warranty_item: item.map(str::to_string),
            emergency,
            needs_unit,
        };
        let categories = BTreeMap::from([
            ("1".to_string(), cat("水路", "water", Some("防水"), false, true)),
            ("2".to_string(), cat("电路", "electricity", Some("电气管线"), false, true)),
            ("3".to_string(), cat("燃气", "gas", None, false, true)),
            ("4".to_string(), cat("门窗门锁", "doors", Some("门窗"), false, true)),
            ("5".to_string(), cat("电梯", "elevator", None, false, false)),
            ("6".to_string(), cat("公共区域", "public-area", None, false, false)),
            ("9".to_string(), cat("紧急情况", "emergency", None, true, false)),
        ]);
        RepairConfig {
            categories,
            menu_prompt: "水路维修请按1,电路维修请按2,燃气问题请按3,门窗门锁请按4,电梯故障请按5,公共区域请按6,燃气泄漏、严重漏水、电梯困人等紧急情况请按9".into(),
            queue: "repair".into(),
            emergency_queue: "emergency".into(),
            emergency_priority: 10,
            emergency_text: "已为您登记紧急报修并通知值班工程师,正在为您转接紧急维修专线,请不要挂机".into(),
            on_duty_to: "on-duty".into(),
            on_duty_text: "紧急报修:{category},来电{caller},房屋{unit},工单{order}".into(),
            in_warranty_text: "您房屋的{item}仍在保修期内,本次维修由开发商负责,不收取费用。".into(),
            out_of_warranty_text: "您房屋的{item}已过保修期,维修可能产生费用,以维修人员核定为准。".into(),
            record_prompt: "请在提示音后描述故障的具体位置和情况,说完请按井号键".into(),
            record_max_seconds: 60,
            created_text: "您的报修已受理,工单号为{id},".into(),
            sms_note_text: "确认短信已发送,".into(),
            sms_text: "您的{category}报修已受理,工单号{id},维修人员将尽快与您联系。".into(),
        }
    }
}

impl RepairConfig {
    /// Category keys must be single keypad keys.
    pub fn validate(&self) -> Result<(), String> {
        if self.categories.is_empty() {
            return Err("repair.categories is empty".into());
        }
        for key in self.categories.keys() {
            if key.chars().count() != 1 || !key.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#') {
                return Err(format!("repair.categories: key '{key}' is not one of 0-9 * #"));
            }
        }
        Ok(())
    }
}

impl Ctx<'_> {
    /// The repair-intake flow.
    pub fn repair_intake(&mut self) -> FlowResult {
        self.call.mark("repair");
        let cfg = self.s.repair.clone();
        let keys: Vec<&str> = cfg.categories.keys().map(String::as_str).collect();
        let key = match self.ask_key(cfg.menu_prompt.as_str(), &keys)? {
            Ok(k) => k,
            Err(_) => {
                let c = &self.s.common;
                return self.to_agent_at(&c.transfer_text, &cfg.queue, c.agent_priority);
            }
        };
        self.call.mark(&format!("repair:{key}"));
        let Some(cat) = cfg.categories.get(&key).cloned() else { return self.to_agent() };
        if cat.emergency {
            return self.emergency_repair(&cat);
        }
        let unit = if cat.needs_unit {
            match self.unit()? {
                Some(u) => Some(u),
                None => return Ok(()),
            }
        } else {
            None
        };
        if let (Some(u), Some(item)) = (&unit, &cat.warranty_item) {
            self.announce_warranty(u, item)?;
        }
        self.call.say(cfg.record_prompt.as_str())?;
        let rec = self.call.record(Record::new().max_seconds(cfg.record_max_seconds))?;
        let mut order = NewOrder::new(Category::Repair, self.customer(), format!("{}报修,详见录音", cat.name))
            .subcategory(cat.subcategory.as_str())
            .unit(unit.as_ref().map(|u| u.id.as_str()))
            .estate(unit.as_ref().map(|u| u.estate_id.as_str()).or(self.call.estate_id()));
        if rec.duration_ms > 0 && !rec.id.is_empty() {
            order = order.recording(&rec.id);
        }
        let created = match work_orders::create(order) {
            Ok(o) => o,
            Err(e) => return self.degrade("work-orders.create", &e, Some(&cfg.queue)),
        };
        self.call.set_var("work_order", &created.id);
        let sms = fill(&cfg.sms_text, &[("id", &created.id), ("category", &cat.name)]);
        let sms_sent = match notify::sms(self.customer(), &self.sms_text(&sms)) {
            Ok(_) => true,
            Err(e) => {
                log::warn(&format!("repair SMS failed: {}", service_error_text(&e)));
                false
            }
        };
        let mut readback = Prompt::template(&cfg.created_text, &[("id", digits(created.id.as_str()).into())]);
        if sms_sent {
            readback = readback.text(cfg.sms_note_text.as_str());
        }
        self.call.say(readback)?;
        self.goodbye()
    }

    fn announce_warranty(&self, unit: &Unit, item: &str) -> FlowResult {
        let items = match directory::warranty(&unit.id) {
            Ok(items) => items,
            Err(e) => {
                log::warn(&format!("warranty lookup failed: {}", service_error_text(&e)));
                return Ok(());
            }
        };
        let Some(w) = items.iter().find(|w| w.item == item || w.item.contains(item)) else { return Ok(()) };
        let cfg = &self.s.repair;
        let text = if w.in_warranty { &cfg.in_warranty_text } else { &cfg.out_of_warranty_text };
        self.call.set_var("in_warranty", if w.in_warranty { "yes" } else { "no" });
        let p = Prompt::template(text, &[("item", w.item.as_str().into()), ("ends", date(w.ends_on.as_str()).into())]);
        self.call.say(p)
    }

    /// The emergency path: urgent order, on-duty alert, emergency queue.
    pub fn emergency_repair(&mut self, cat: &RepairCategory) -> FlowResult {
        let cfg = self.s.repair.clone();
        // No questions in an emergency: use the unit only if the caller is recognized.
        let unit_id = self.resident().and_then(|r| r.unit_ids.first().cloned());
        let order = NewOrder::new(Category::Repair, self.customer(), format!("紧急报修:{}", cat.name))
            .subcategory(cat.subcategory.as_str())
            .unit(unit_id.as_deref())
            .estate(self.call.estate_id())
            .priority(Priority::Urgent);
        let order_id = match work_orders::create(order) {
            Ok(o) => o.id,
            Err(e) => {
                log::warn(&format!("urgent work order failed: {}", service_error_text(&e)));
                String::new()
            }
        };
        let alert = fill(
            &cfg.on_duty_text,
            &[
                ("category", &cat.name),
                ("caller", self.customer()),
                ("unit", unit_id.as_deref().unwrap_or("未知")),
                ("order", &order_id),
            ],
        );
        if let Err(e) = notify::on_duty(&cfg.on_duty_to, &alert) {
            log::warn(&format!("on-duty alert failed: {}", service_error_text(&e)));
        }
        self.call.set_var("emergency", "yes");
        self.to_agent_at(&cfg.emergency_text, &cfg.emergency_queue, cfg.emergency_priority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_categories_are_valid_and_nine_is_emergency() {
        let c = RepairConfig::default();
        c.validate().unwrap();
        assert!(c.categories["9"].emergency);
        assert!(!c.categories["5"].needs_unit);
        let bad = RepairConfig { categories: BTreeMap::new(), ..RepairConfig::default() };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn category_needs_unit_defaults_to_true() {
        let c: RepairCategory = serde_json::from_str(r#"{"name":"屋顶","subcategory":"roof"}"#).unwrap();
        assert!(c.needs_unit && !c.emergency);
    }
}
