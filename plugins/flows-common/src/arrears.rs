//! Arrears reminder (欠费提醒, outbound): read the unit's arrears in Chinese money form, then
//! 1 details, 2 SMS payment link, 3 confirm, 4 dispute, 0 agent. The returned outcome is what the
//! campaign records for the target.

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// Texts and settings of the reminder (config section `arrears`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArrearsConfig {
    /// Campaign parameter holding the unit id.
    pub unit_param: String,
    /// Opening: `{unit}`, `{amount}` (money).
    pub intro_text: String,
    /// Said when nothing is owed any more.
    pub paid_text: String,
    /// The choice: 1 details, 2 SMS, 3 confirm, 4 dispute, 0 agent.
    pub menu_prompt: String,
    /// Said after 3.
    pub confirmed_text: String,
    /// Said after 4 (a callback task is created for the dispute).
    pub refused_text: String,
    /// Queue for 0 and for failures.
    pub queue: String,
    /// Times the menu is offered (details return to it).
    pub max_rounds: u32,
}

impl Default for ArrearsConfig {
    fn default() -> Self {
        ArrearsConfig {
            unit_param: "unit_id".into(),
            intro_text: "您好,这里是幸福物业,您的房屋{unit}目前欠缴费用共计{amount}。".into(),
            paid_text: "您的房屋目前没有欠费,感谢您的支持,再见".into(),
            menu_prompt: "听取明细请按1,发送缴费短信请按2,确认将按时缴费请按3,如有异议请按4,人工服务请按0".into(),
            confirmed_text: "感谢您的确认,请于截止日期前缴费,再见".into(),
            refused_text: "已记录您的异议,客服人员将与您联系核实,再见".into(),
            queue: "billing".into(),
            max_rounds: 3,
        }
    }
}

impl Ctx<'_> {
    /// The reminder; returns `no-arrears`, `answered`, `confirmed`, `refused`, `sms-sent` or
    /// `agent`.
    pub fn arrears_reminder(&mut self, target: &Target) -> FlowResult<String> {
        let cfg = self.s.arrears.clone();
        let unit_id = target
            .param(&cfg.unit_param)
            .ok_or_else(|| FlowError::msg(format!("campaign target has no '{}' parameter", cfg.unit_param)))?
            .to_string();
        let unit = match directory::unit(&unit_id) {
            Ok(Some(u)) => u,
            Ok(None) => return Err(FlowError::msg(format!("unknown unit '{unit_id}' in campaign target"))),
            Err(e) => {
                self.degrade("directory.get-unit", &e, Some(&cfg.queue))?;
                return Ok("agent".into());
            }
        };
        self.call.set_var("unit_id", &unit.id);
        let owed = match billing::arrears(&unit.id) {
            Ok(fen) => fen,
            Err(e) => {
                self.degrade("billing.arrears", &e, Some(&cfg.queue))?;
                return Ok("agent".into());
            }
        };
        if owed <= 0 {
            self.call.say(cfg.paid_text.as_str())?;
            self.call.hangup();
            return Ok("no-arrears".into());
        }
        self.call.set_var("arrears_fen", &owed.to_string());
        self.call.say(Prompt::template(
            &cfg.intro_text,
            &[("unit", crate::unit_prompt(&unit)), ("amount", money(owed).into())],
        ))?;
        for _ in 0..cfg.max_rounds.max(1) {
            let key = match self.ask_key(cfg.menu_prompt.as_str(), &["1", "2", "3", "4", "0"])? {
                Ok(k) => k,
                Err(_) => break,
            };
            self.call.mark(&format!("arrears:{key}"));
            match key.as_str() {
                "1" => match billing::bills(&unit.id, true) {
                    Ok(bills) => self.call.say(self.s.bills.statement(&unit, &bills))?,
                    Err(e) => {
                        self.degrade("billing.bills", &e, Some(&cfg.queue))?;
                        return Ok("agent".into());
                    }
                },
                "2" => {
                    return if self.send_payment_link(&unit, owed)? {
                        self.goodbye()?;
                        Ok("sms-sent".into())
                    } else {
                        Ok("agent".into())
                    };
                }
                "3" => {
                    self.call.say(cfg.confirmed_text.as_str())?;
                    self.call.hangup();
                    return Ok("confirmed".into());
                }
                "4" => {
                    let reason = format!("欠费异议:房屋{}", unit.label());
                    if let Err(e) = work_orders::create_callback(self.customer(), &reason, None, &clock::now()) {
                        log::warn(&format!("dispute callback failed: {}", service_error_text(&e)));
                    }
                    self.call.say(cfg.refused_text.as_str())?;
                    self.call.hangup();
                    return Ok("refused".into());
                }
                _ => {
                    let c = &self.s.common;
                    self.to_agent_at(&c.transfer_text, &cfg.queue, c.agent_priority)?;
                    return Ok("agent".into());
                }
            }
        }
        self.goodbye()?;
        Ok("answered".into())
    }
}
