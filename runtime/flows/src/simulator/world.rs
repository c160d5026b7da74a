//! The simulator's in-memory world: directory, billing, work orders, notify, kv, clock and
//! content backed by the script's fixture tables. Writes (work orders, messages, callbacks)
//! are checked against the script's `expect_*` steps; every access shows in the transcript.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, Months, NaiveDate, NaiveTime};
use parking_lot::Mutex;

use crate::host_api::{Billing, Clock, Content, Directory, Kv, Notify, Services, WorkOrders};
use crate::simulator::matcher::{Kind, Matcher, check_fields};
use crate::simulator::script::{RawScript, Step};
use crate::wit::{
    Bill, Category, Channel, Estate, FeeType, NewOrder, Order, Priority, Resident, ResidentRole, ServiceError, Unit,
    WarrantyItem,
};

/// Fixtures and mutable state of one simulated call's world.
pub(crate) struct World {
    matcher: Arc<Mutex<Matcher>>,
    now: DateTime<FixedOffset>,
    open: bool,
    calendar: BTreeMap<String, bool>,
    estates: Vec<Estate>,
    units: Vec<Unit>,
    residents: Vec<Resident>,
    bills: Vec<Bill>,
    warranty: Vec<(String, String, u32)>,
    orders: Mutex<Vec<Order>>,
    announcements: Vec<(String, Option<String>)>,
    kb: BTreeMap<String, String>,
    fail: HashMap<String, String>,
    kv: Mutex<HashMap<(String, String), Vec<u8>>>,
    ids: Mutex<u32>,
}

fn role(s: &str) -> Result<ResidentRole, String> {
    match s {
        "owner" => Ok(ResidentRole::Owner),
        "tenant" => Ok(ResidentRole::Tenant),
        o => Err(format!("resident role '{o}' is not owner|tenant")),
    }
}

fn fee(s: &str) -> Result<FeeType, String> {
    Ok(match s {
        "property" => FeeType::Property,
        "water" => FeeType::Water,
        "electricity" => FeeType::Electricity,
        "gas" => FeeType::Gas,
        "parking" => FeeType::Parking,
        "other" => FeeType::Other,
        o => return Err(format!("fee_type '{o}' is not property|water|electricity|gas|parking|other")),
    })
}

/// WIT name of a work-order category.
pub(crate) fn category_name(c: Category) -> &'static str {
    match c {
        Category::Repair => "repair",
        Category::Complaint => "complaint",
        Category::Suggestion => "suggestion",
        Category::Inquiry => "inquiry",
    }
}

fn category(s: &str) -> Result<Category, String> {
    [Category::Repair, Category::Complaint, Category::Suggestion, Category::Inquiry]
        .into_iter()
        .find(|c| category_name(*c) == s)
        .ok_or_else(|| format!("category '{s}' is not repair|complaint|suggestion|inquiry"))
}

/// WIT name of a priority.
pub(crate) fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}

fn priority(s: &str) -> Result<Priority, String> {
    [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent]
        .into_iter()
        .find(|p| priority_name(*p) == s)
        .ok_or_else(|| format!("priority '{s}' is not low|normal|high|urgent"))
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "sms",
        Channel::Email => "email",
        Channel::Webhook => "webhook",
        Channel::OnDuty => "on-duty",
    }
}

impl World {
    /// Build the world from the script's fixtures.
    pub(crate) fn new(raw: &RawScript, matcher: Arc<Mutex<Matcher>>) -> Result<Self, String> {
        let now_text = raw.now.clone().unwrap_or_else(|| crate::simulator::script::DEFAULT_NOW.to_string());
        let now = DateTime::parse_from_rfc3339(&now_text)
            .map_err(|e| format!("now = \"{now_text}\": not an ISO-8601 date-time with offset: {e}"))?;
        for (service, mode) in &raw.fail {
            if !["directory", "billing", "work-orders", "notify", "kv"].contains(&service.as_str()) {
                return Err(format!("[fail] {service}: not one of directory|billing|work-orders|notify|kv"));
            }
            if !["unavailable", "invalid", "denied"].contains(&mode.as_str()) {
                return Err(format!("[fail] {service} = \"{mode}\": not unavailable|invalid|denied"));
            }
        }
        Ok(World {
            matcher,
            now,
            open: raw.open.unwrap_or(true),
            calendar: raw.calendar.clone(),
            estates: raw
                .estates
                .iter()
                .map(|e| Estate { id: e.id.clone(), name: e.name.clone(), office_phone: e.office_phone.clone() })
                .collect(),
            units: raw
                .units
                .iter()
                .map(|u| Unit {
                    id: u.id.clone(),
                    estate_id: u.estate_id.clone(),
                    building: u.building.clone(),
                    entrance: u.entrance.clone(),
                    room: u.room.clone(),
                    move_in_date: u.move_in_date.clone(),
                })
                .collect(),
            residents: raw
                .residents
                .iter()
                .map(|r| {
                    Ok(Resident {
                        id: r.id.clone(),
                        name: r.name.clone(),
                        honorific: r.honorific.clone(),
                        role: role(&r.role)?,
                        phones: r.phones.clone(),
                        vip: r.vip,
                        language: r.language.clone(),
                        unit_ids: r.unit_ids.clone(),
                    })
                })
                .collect::<Result<_, String>>()?,
            bills: raw
                .bills
                .iter()
                .map(|b| {
                    Ok(Bill {
                        id: b.id.clone(),
                        unit_id: b.unit_id.clone(),
                        fee_type: fee(&b.fee_type)?,
                        period: b.period.clone(),
                        amount: b.amount,
                        paid: b.paid,
                        due_date: b.due_date.clone(),
                    })
                })
                .collect::<Result<_, String>>()?,
            warranty: raw.warranty.iter().map(|w| (w.unit_id.clone(), w.item.clone(), w.months)).collect(),
            orders: Mutex::new(
                raw.work_orders
                    .iter()
                    .map(|o| {
                        Ok(Order {
                            id: o.id.clone(),
                            category: category(&o.category)?,
                            subcategory: o.subcategory.clone(),
                            estate_id: o.estate_id.clone(),
                            unit_id: o.unit_id.clone(),
                            caller: o.caller.clone(),
                            description: o.description.clone(),
                            recording_id: o.recording_id.clone(),
                            priority: priority(&o.priority)?,
                            state: o.state.clone(),
                            created_at: o.created_at.clone(),
                            parent_id: o.parent_id.clone(),
                        })
                    })
                    .collect::<Result<_, String>>()?,
            ),
            announcements: raw.announcements.iter().map(|a| (a.text.clone(), a.estate_id.clone())).collect(),
            kb: raw.kb.clone(),
            fail: raw.fail.clone().into_iter().collect(),
            kv: Mutex::new(HashMap::new()),
            ids: Mutex::new(0),
        })
    }

    /// Wrap this world as the services of a call.
    pub(crate) fn services(self: &Arc<Self>) -> Services {
        Services {
            directory: self.clone(),
            billing: self.clone(),
            work_orders: self.clone(),
            notify: self.clone(),
            kv: self.clone(),
            clock: self.clone(),
            content: self.clone(),
        }
    }

    fn note(&self, line: String) {
        self.matcher.lock().note(line);
    }

    /// The `[fail]` mode of a service, as the error every call returns.
    fn failing(&self, service: &str, op: &str) -> Result<(), ServiceError> {
        let Some(mode) = self.fail.get(service) else { return Ok(()) };
        self.note(format!("{op} -> {service} fails ({mode})"));
        let text = format!("{service} failed by the script's [fail] table");
        Err(match mode.as_str() {
            "invalid" => ServiceError::Invalid(text),
            "denied" => ServiceError::Denied(text),
            _ => ServiceError::Unavailable(text),
        })
    }

    fn next_id(&self) -> u32 {
        let mut n = self.ids.lock();
        *n += 1;
        *n
    }

    fn now_text(&self) -> String {
        self.now.to_rfc3339()
    }

    fn new_order_id(&self) -> String {
        let count = self.orders.lock().len() as u32 + 1;
        format!("{}{count:04}", self.now.format("%y%m%d"))
    }
}

#[async_trait]
impl Directory for World {
    async fn lookup_caller(&self, number: &str) -> Result<Vec<Resident>, ServiceError> {
        self.failing("directory", &format!("directory.lookup-caller {number}"))?;
        let found: Vec<Resident> = self.residents.iter().filter(|r| r.phones.iter().any(|p| p == number)).cloned().collect();
        let names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
        self.note(format!("directory.lookup-caller {number} -> {names:?}"));
        Ok(found)
    }

    async fn get_unit(&self, unit_id: &str) -> Result<Option<Unit>, ServiceError> {
        self.failing("directory", &format!("directory.get-unit {unit_id}"))?;
        let u = self.units.iter().find(|u| u.id == unit_id).cloned();
        self.note(format!("directory.get-unit {unit_id} -> {}", if u.is_some() { "found" } else { "none" }));
        Ok(u)
    }

    async fn find_unit(
        &self,
        estate_id: Option<&str>,
        building: &str,
        entrance: &str,
        room: &str,
    ) -> Result<Option<Unit>, ServiceError> {
        self.failing("directory", "directory.find-unit")?;
        let u = self
            .units
            .iter()
            .find(|u| {
                estate_id.is_none_or(|e| u.estate_id == e) && u.building == building && u.entrance == entrance && u.room == room
            })
            .cloned();
        self.note(format!(
            "directory.find-unit {building}-{entrance}-{room} -> {}",
            u.as_ref().map(|u| u.id.as_str()).unwrap_or("none")
        ));
        Ok(u)
    }

    async fn get_estate(&self, estate_id: &str) -> Result<Option<Estate>, ServiceError> {
        self.failing("directory", &format!("directory.get-estate {estate_id}"))?;
        let e = self.estates.iter().find(|e| e.id == estate_id).cloned();
        self.note(format!("directory.get-estate {estate_id} -> {}", e.as_ref().map(|e| e.name.as_str()).unwrap_or("none")));
        Ok(e)
    }

    async fn residents_of_unit(&self, unit_id: &str) -> Result<Vec<Resident>, ServiceError> {
        self.failing("directory", &format!("directory.residents-of-unit {unit_id}"))?;
        let found: Vec<Resident> =
            self.residents.iter().filter(|r| r.unit_ids.iter().any(|u| u == unit_id)).cloned().collect();
        self.note(format!("directory.residents-of-unit {unit_id} -> {} resident(s)", found.len()));
        Ok(found)
    }

    async fn warranty(&self, unit_id: &str) -> Result<Vec<WarrantyItem>, ServiceError> {
        self.failing("directory", &format!("directory.warranty {unit_id}"))?;
        let move_in = self
            .units
            .iter()
            .find(|u| u.id == unit_id)
            .and_then(|u| u.move_in_date.as_deref())
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let today = self.now.date_naive();
        let items: Vec<WarrantyItem> = self
            .warranty
            .iter()
            .filter(|(u, _, _)| u == unit_id)
            .map(|(_, item, months)| {
                let ends = move_in
                    .and_then(|d| d.checked_add_months(Months::new(*months)))
                    .and_then(|d| d.pred_opt());
                WarrantyItem {
                    item: item.clone(),
                    months: *months,
                    ends_on: ends.map(|d| d.to_string()).unwrap_or_default(),
                    in_warranty: ends.is_some_and(|e| today <= e),
                }
            })
            .collect();
        self.note(format!("directory.warranty {unit_id} -> {} item(s)", items.len()));
        Ok(items)
    }
}

#[async_trait]
impl Billing for World {
    async fn bills(&self, unit_id: &str, unpaid_only: bool) -> Result<Vec<Bill>, ServiceError> {
        self.failing("billing", &format!("billing.bills {unit_id}"))?;
        let mut bills: Vec<Bill> =
            self.bills.iter().filter(|b| b.unit_id == unit_id && !(unpaid_only && b.paid)).cloned().collect();
        bills.sort_by(|a, b| b.period.cmp(&a.period));
        self.note(format!("billing.bills {unit_id} -> {} bill(s)", bills.len()));
        Ok(bills)
    }

    async fn arrears(&self, unit_id: &str) -> Result<i64, ServiceError> {
        self.failing("billing", &format!("billing.arrears {unit_id}"))?;
        let sum = self.bills.iter().filter(|b| b.unit_id == unit_id && !b.paid).map(|b| b.amount).sum();
        self.note(format!("billing.arrears {unit_id} -> {sum} fen"));
        Ok(sum)
    }

    async fn payment_link(&self, unit_id: &str) -> Result<String, ServiceError> {
        self.failing("billing", &format!("billing.payment-link {unit_id}"))?;
        let link = format!("https://pay.courtyard.invalid/u/{unit_id}");
        self.note(format!("billing.payment-link {unit_id} -> {link}"));
        Ok(link)
    }
}

#[async_trait]
impl WorkOrders for World {
    async fn create(&self, order: NewOrder) -> Result<Order, ServiceError> {
        self.failing("work-orders", "work-orders.create")?;
        let created = Order {
            id: self.new_order_id(),
            category: order.category,
            subcategory: order.subcategory,
            estate_id: order.estate_id,
            unit_id: order.unit_id,
            caller: order.caller,
            description: order.description,
            recording_id: order.recording_id,
            priority: order.priority,
            state: "new".to_string(),
            created_at: self.now_text(),
            parent_id: order.parent_id,
        };
        let fields: Vec<(&str, String)> = vec![
            ("category", category_name(created.category).to_string()),
            ("subcategory", created.subcategory.clone().unwrap_or_default()),
            ("estate_id", created.estate_id.clone().unwrap_or_default()),
            ("unit_id", created.unit_id.clone().unwrap_or_default()),
            ("caller", created.caller.clone()),
            ("description", created.description.clone()),
            ("recording_id", created.recording_id.clone().unwrap_or_default()),
            ("priority", priority_name(created.priority).to_string()),
            ("parent_id", created.parent_id.clone().unwrap_or_default()),
        ];
        let shown = format!(
            "work-orders.create #{} {} {} \"{}\"",
            created.id,
            category_name(created.category),
            priority_name(created.priority),
            created.description
        );
        self.matcher.lock().action(Kind::WorkOrder, &shown, |s| match s {
            Step::ExpectWorkOrder(rules) => check_fields(rules, &fields).map_err(|d| format!("work order with {d}")),
            _ => Ok(()),
        });
        self.orders.lock().push(created.clone());
        Ok(created)
    }

    async fn get(&self, id: &str) -> Result<Option<Order>, ServiceError> {
        self.failing("work-orders", &format!("work-orders.get {id}"))?;
        let o = self.orders.lock().iter().find(|o| o.id == id).cloned();
        self.note(format!("work-orders.get {id} -> {}", if o.is_some() { "found" } else { "none" }));
        Ok(o)
    }

    async fn list_for_unit(&self, unit_id: &str, open_only: bool) -> Result<Vec<Order>, ServiceError> {
        self.failing("work-orders", &format!("work-orders.list-for-unit {unit_id}"))?;
        let closed = ["done", "closed", "cancelled"];
        let mut list: Vec<Order> = self
            .orders
            .lock()
            .iter()
            .filter(|o| o.unit_id.as_deref() == Some(unit_id) && !(open_only && closed.contains(&o.state.as_str())))
            .cloned()
            .collect();
        list.reverse();
        self.note(format!("work-orders.list-for-unit {unit_id} -> {} order(s)", list.len()));
        Ok(list)
    }

    async fn rate(&self, id: &str, score: u8, comment: Option<&str>) -> Result<Option<String>, ServiceError> {
        self.failing("work-orders", &format!("work-orders.rate {id}"))?;
        if !(1..=5).contains(&score) {
            return Err(ServiceError::Invalid(format!("score {score} is not 1-5")));
        }
        let parent = self.orders.lock().iter().find(|o| o.id == id).cloned();
        let Some(parent) = parent else {
            return Err(ServiceError::Invalid(format!("no work order {id}")));
        };
        let child = if score <= 2 {
            let child = Order {
                id: self.new_order_id(),
                parent_id: Some(parent.id.clone()),
                state: "new".into(),
                created_at: self.now_text(),
                recording_id: comment.map(String::from),
                ..parent
            };
            let cid = child.id.clone();
            self.orders.lock().push(child);
            Some(cid)
        } else {
            None
        };
        self.note(format!("work-orders.rate {id} score {score} -> reopened as {child:?}"));
        Ok(child)
    }

    async fn create_callback(
        &self,
        number: &str,
        reason: &str,
        recording_id: Option<&str>,
        due: &str,
    ) -> Result<String, ServiceError> {
        self.failing("work-orders", "work-orders.create-callback")?;
        let id = format!("CB{}", self.next_id());
        let fields: Vec<(&str, String)> = vec![
            ("number", number.to_string()),
            ("reason", reason.to_string()),
            ("recording_id", recording_id.unwrap_or_default().to_string()),
            ("due", due.to_string()),
        ];
        let shown = format!("work-orders.create-callback {id} to {number} \"{reason}\" due {due}");
        self.matcher.lock().action(Kind::Callback, &shown, |s| match s {
            Step::ExpectCallback(rules) => check_fields(rules, &fields).map_err(|d| format!("callback with {d}")),
            _ => Ok(()),
        });
        Ok(id)
    }
}

#[async_trait]
impl Notify for World {
    async fn send(&self, channel: Channel, to: &str, text: &str) -> Result<String, ServiceError> {
        self.failing("notify", "notify.send")?;
        let id = format!("M{}", self.next_id());
        let fields: Vec<(&str, String)> =
            vec![("channel", channel_name(channel).to_string()), ("to", to.to_string()), ("text", text.to_string())];
        let shown = format!("notify.send {} to {to}: {text}", channel_name(channel));
        self.matcher.lock().action(Kind::Notify, &shown, |s| match s {
            Step::ExpectNotify(rules) => check_fields(rules, &fields).map_err(|d| format!("notify with {d}")),
            _ => Ok(()),
        });
        Ok(id)
    }
}

#[async_trait]
impl Kv for World {
    async fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        self.failing("kv", &format!("kv.get {key}"))?;
        let v = self.kv.lock().get(&(plugin.to_string(), key.to_string())).cloned();
        self.note(format!("kv.get {key} -> {}", if v.is_some() { "found" } else { "none" }));
        Ok(v)
    }

    async fn set(&self, plugin: &str, key: &str, value: Vec<u8>) -> Result<(), ServiceError> {
        self.failing("kv", &format!("kv.set {key}"))?;
        self.note(format!("kv.set {key} ({} bytes)", value.len()));
        self.kv.lock().insert((plugin.to_string(), key.to_string()), value);
        Ok(())
    }

    async fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError> {
        self.failing("kv", &format!("kv.delete {key}"))?;
        self.note(format!("kv.delete {key}"));
        self.kv.lock().remove(&(plugin.to_string(), key.to_string()));
        Ok(())
    }

    async fn increment(&self, plugin: &str, key: &str, delta: i64) -> Result<i64, ServiceError> {
        self.failing("kv", &format!("kv.increment {key}"))?;
        let mut kv = self.kv.lock();
        let slot = kv.entry((plugin.to_string(), key.to_string())).or_insert_with(|| b"0".to_vec());
        let current: i64 = std::str::from_utf8(slot)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| ServiceError::Invalid(format!("kv key {key} does not hold a decimal counter")))?;
        let next = current.saturating_add(delta);
        *slot = next.to_string().into_bytes();
        drop(kv);
        self.note(format!("kv.increment {key} by {delta} -> {next}"));
        Ok(next)
    }
}

#[async_trait]
impl Clock for World {
    async fn now(&self) -> String {
        self.now_text()
    }

    async fn is_open(&self, calendar: &str) -> bool {
        let open = self.calendar.get(calendar).copied().unwrap_or(self.open);
        self.note(format!("clock.is-open {calendar} -> {open}"));
        open
    }

    async fn next_open(&self, calendar: &str) -> String {
        let open = self.calendar.get(calendar).copied().unwrap_or(self.open);
        if open {
            return self.now_text();
        }
        // Closed: next 08:00 (today if before eight, else tomorrow).
        let eight = NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default();
        let mut day = self.now.date_naive();
        if self.now.time() >= eight {
            day += Duration::days(1);
        }
        let next = day.and_time(eight).and_local_timezone(*self.now.offset()).single();
        next.map(|d| d.to_rfc3339()).unwrap_or_else(|| self.now_text())
    }
}

#[async_trait]
impl Content for World {
    async fn announcements(&self, estate_id: Option<&str>) -> Vec<String> {
        let list: Vec<String> = self
            .announcements
            .iter()
            .filter(|(_, e)| e.is_none() || estate_id.is_none() || e.as_deref() == estate_id)
            .map(|(t, _)| t.clone())
            .collect();
        self.note(format!("content.announcements -> {}", list.len()));
        list
    }

    async fn kb_answer(&self, topic: &str) -> Option<String> {
        let a = self.kb.get(topic).cloned();
        self.note(format!("content.kb-answer {topic} -> {}", if a.is_some() { "found" } else { "none" }));
        a
    }
}
