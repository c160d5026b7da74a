//! Bill lookup (水电费/物业费查询): outstanding bills by fee type and period, the total and due
//! dates, then an SMS with the payment link, a repeat, or an agent.

use std::collections::BTreeMap;

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;
use crate::agent::{fill, yuan};

/// Texts and settings of the bill lookup (config section `bills`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BillConfig {
    /// Queue for billing questions and for billing failures.
    pub queue: String,
    /// Opens the reading: `{unit}`, `{count}`.
    pub header_text: String,
    /// One bill: `{fee}`, `{period}`, `{amount}`, `{due}`.
    pub item_text: String,
    /// After the items: `{total}`.
    pub total_text: String,
    /// Said when nothing is owed: `{unit}`.
    pub no_bills_text: String,
    /// Bills read out at most (the total covers all).
    pub max_items: usize,
    /// The choice after the reading (keys 1 SMS, 2 repeat, 0 agent).
    pub offer_prompt: String,
    /// SMS body: `{unit}`, `{total}` (yuan), `{link}`.
    pub sms_text: String,
    /// Said after the SMS was queued.
    pub sms_sent_text: String,
    /// Spoken names of fee types by key (property, water, electricity, gas, parking, other).
    pub fee_names: BTreeMap<String, String>,
}

impl Default for BillConfig {
    fn default() -> Self {
        BillConfig {
            queue: "billing".into(),
            header_text: "您的房屋{unit}共有{count}笔未缴费用,".into(),
            item_text: "{fee}{period}账单{amount},缴费截止日期{due};".into(),
            total_text: "合计应缴{total}。".into(),
            no_bills_text: "您的房屋{unit}目前没有未缴费用,感谢您的支持。".into(),
            max_items: 6,
            offer_prompt: "发送缴费链接短信请按1,重听请按2,人工服务请按0".into(),
            sms_text: "您的房屋{unit}待缴费用合计{total}元,缴费链接:{link}".into(),
            sms_sent_text: "缴费链接短信已发送,请注意查收。".into(),
            fee_names: BTreeMap::new(),
        }
    }
}

impl BillConfig {
    /// Spoken name of a fee type (configured, else the SDK's Chinese default).
    pub fn fee_name(&self, fee: FeeType) -> String {
        self.fee_names.get(fee.key()).cloned().unwrap_or_else(|| fee.label_zh().to_string())
    }

    /// The spoken statement for a list of unpaid bills.
    pub fn statement(&self, unit: &Unit, bills: &[Bill]) -> Prompt {
        let total: i64 = bills.iter().map(|b| b.amount).sum();
        let mut p = Prompt::template(
            &self.header_text,
            &[("unit", crate::unit_prompt(unit)), ("count", count_prompt(bills.len()))],
        );
        for b in bills.iter().take(self.max_items) {
            let due = if b.due_date.is_empty() { Prompt::new() } else { date(b.due_date.as_str()).into() };
            p = p.then(Prompt::template(
                &self.item_text,
                &[
                    ("fee", self.fee_name(b.fee_type).into()),
                    ("period", period_prompt(&b.period)),
                    ("amount", money(b.amount).into()),
                    ("due", due),
                ],
            ));
        }
        p.then(Prompt::template(&self.total_text, &[("total", money(total).into())]))
    }
}

/// A billing period spoken the way dates are: "2026-10" → digits 2026, 年, number 10, 月
/// (二零二六年十月, not 两千零二十六年); anything else is read as text.
pub fn period_prompt(period: &str) -> Prompt {
    if let Some((y, m)) = period.split_once('-') {
        let month = m.parse::<i64>().ok().filter(|m| (1..=12).contains(m));
        if let (true, Some(month)) = (y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()), month) {
            return Prompt::new().digits(y).text("年").number(month).text("月");
        }
    }
    Prompt::from(period)
}

/// A count before a measure word: 2 is 两 in Chinese (两笔), other numbers as quantities.
pub fn count_prompt(n: usize) -> Prompt {
    if n == 2 { Prompt::from("两") } else { number(n as i64).into() }
}

impl Ctx<'_> {
    /// The bill-lookup flow.
    pub fn bill_lookup(&mut self) -> FlowResult {
        self.call.mark("bills");
        let Some(unit) = self.unit()? else { return Ok(()) };
        let cfg = self.s.bills.clone();
        let bills = match billing::bills(&unit.id, true) {
            Ok(b) => b,
            Err(e) => return self.degrade("billing.bills", &e, Some(&cfg.queue)),
        };
        if bills.is_empty() {
            self.call.say(Prompt::template(&cfg.no_bills_text, &[("unit", crate::unit_prompt(&unit))]))?;
            return self.goodbye();
        }
        let total: i64 = bills.iter().map(|b| b.amount).sum();
        self.call.set_var("arrears_fen", &total.to_string());
        self.call.say(cfg.statement(&unit, &bills))?;
        for _ in 0..3 {
            match self.ask_key(cfg.offer_prompt.as_str(), &["1", "2", "0"])? {
                Ok(k) if k == "1" => {
                    self.call.mark("bills:sms");
                    if self.send_payment_link(&unit, total)? {
                        self.goodbye()?;
                    }
                    return Ok(());
                }
                Ok(k) if k == "2" => {
                    self.call.mark("bills:repeat");
                    self.call.say(cfg.statement(&unit, &bills))?;
                }
                Ok(_) => {
                    self.call.mark("bills:agent");
                    let c = &self.s.common;
                    return self.to_agent_at(&c.transfer_text, &cfg.queue, c.agent_priority);
                }
                Err(_) => return self.goodbye(),
            }
        }
        self.goodbye()
    }

    /// Fetch the payment link, SMS it to the customer and say so. `Ok(false)`: a service
    /// failed and the caller was handed to the billing queue instead.
    pub fn send_payment_link(&self, unit: &Unit, total_fen: i64) -> FlowResult<bool> {
        let cfg = &self.s.bills;
        let link = match billing::payment_link(&unit.id) {
            Ok(l) => l,
            Err(e) => {
                self.degrade("billing.payment-link", &e, Some(&cfg.queue))?;
                return Ok(false);
            }
        };
        let body = fill(&cfg.sms_text, &[("unit", &unit.label()), ("total", &yuan(total_fen)), ("link", &link)]);
        if let Err(e) = notify::sms(self.customer(), &self.sms_text(&body)) {
            self.degrade("notify.send", &e, Some(&cfg.queue))?;
            return Ok(false);
        }
        self.call.set_var("sms", "payment-link");
        self.call.say(cfg.sms_sent_text.as_str())?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_reads_year_digit_by_digit_and_month_as_number() {
        assert_eq!(period_prompt("2026-03").segments(), &[digits("2026"), text("年"), number(3), text("月")]);
        assert_eq!(period_prompt("2026-13").segments(), &[text("2026-13")]);
        assert_eq!(period_prompt("Q3").segments(), &[text("Q3")]);
        assert_eq!(count_prompt(2).segments(), &[text("两")]);
        assert_eq!(count_prompt(3).segments(), &[number(3)]);
    }

    #[test]
    fn statement_lists_items_up_to_max_and_total_of_all() {
        let cfg = BillConfig { max_items: 1, ..BillConfig::default() };
        let unit = Unit {
            id: "U1".into(),
            estate_id: "E1".into(),
            building: "3".into(),
            entrance: "2".into(),
            room: "1502".into(),
            move_in_date: None,
        };
        let bill = |amount, fee_type| Bill {
            id: "B".into(),
            unit_id: "U1".into(),
            fee_type,
            period: "2026-10".into(),
            amount,
            paid: false,
            due_date: "2026-11-15".into(),
        };
        let p = cfg.statement(&unit, &[bill(100, FeeType::Property), bill(250, FeeType::Water)]);
        let segs = p.segments();
        assert!(segs.contains(&money(100)));
        assert!(!segs.contains(&money(250)), "second item beyond max_items");
        assert!(segs.contains(&money(350)), "total covers all bills");
        assert!(p.to_plain_text().contains("共有两笔"));
        assert!(p.to_plain_text().contains("物业费2026年10月账单"));
    }
}
