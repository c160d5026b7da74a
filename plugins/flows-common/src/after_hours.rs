//! After hours (非工作时间): outside the working-hours calendar (holidays included), play the
//! notice, offer the emergency line, record a voicemail and create a callback task due at the
//! next opening — every after-hours caller is called back (100% 回呼).

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// Texts and settings of the after-hours service (config section `after_hours`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AfterHoursConfig {
    /// `ivr-main` only: send calls outside the calendar to this flow before the menu.
    pub enabled: bool,
    /// Working-hours calendar name.
    pub calendar: String,
    /// The notice.
    pub notice_text: String,
    /// Offers the emergency key and announces the voicemail; a short wait follows.
    pub emergency_prompt: String,
    /// Wait for the emergency key, ms; silence leads to the voicemail.
    pub emergency_timeout_ms: u32,
    /// Longest voicemail, seconds.
    pub record_max_seconds: u32,
    /// Reason written on the callback task.
    pub callback_reason: String,
    /// Confirmation: `{when}` is the next opening, read as a date and time.
    pub confirm_text: String,
    /// Said when the caller's number is withheld (no callback possible).
    pub anonymous_text: String,
    /// Said when the callback task could not be created.
    pub failed_text: String,
}

impl Default for AfterHoursConfig {
    fn default() -> Self {
        AfterHoursConfig {
            enabled: true,
            calendar: "default".into(),
            notice_text: "现在是非工作时间,物业服务中心工作时间为每天八点至十八点。".into(),
            emergency_prompt: "燃气泄漏、漏水等紧急情况请按9;如需留言,请在提示音后说话,说完请按井号键".into(),
            emergency_timeout_ms: 3000,
            record_max_seconds: 90,
            callback_reason: "非工作时间来电留言".into(),
            confirm_text: "您的留言已收到,我们将在{when}之后尽快回电,".into(),
            anonymous_text: "您的号码未显示,我们无法回电,请在工作时间再次来电,再见".into(),
            failed_text: "抱歉,留言登记失败,请在工作时间再次来电,再见".into(),
        }
    }
}

impl Ctx<'_> {
    /// The after-hours flow as a menu target or stand-alone plugin: closed → night service;
    /// open → an agent.
    pub fn after_hours(&mut self) -> FlowResult {
        if clock::is_open(&self.s.after_hours.calendar) {
            self.call.mark("after-hours:open");
            return self.to_agent();
        }
        self.after_hours_closed()
    }

    /// The night service itself (the caller already knows we are closed or is told now).
    pub fn after_hours_closed(&mut self) -> FlowResult {
        self.call.mark("after-hours");
        let cfg = self.s.after_hours.clone();
        self.call.say(cfg.notice_text.as_str())?;
        let key = self.call.collect(
            cfg.emergency_prompt.as_str(),
            Collect::digits(1).timeout_ms(cfg.emergency_timeout_ms).barge_in(),
        )?;
        if key.as_str() == "9" {
            self.call.mark("after-hours:emergency");
            let emergency = self.s.repair.categories.values().find(|c| c.emergency).cloned();
            return match emergency {
                Some(cat) => self.emergency_repair(&cat),
                None => self.to_agent(),
            };
        }
        let rec = self.call.record(Record::new().max_seconds(cfg.record_max_seconds))?;
        let caller = self.customer().to_string();
        if caller.is_empty() || caller == "anonymous" {
            self.call.say(cfg.anonymous_text.as_str())?;
            self.call.hangup();
            return Ok(());
        }
        let due = clock::next_open(&cfg.calendar);
        let rec_id = (rec.duration_ms > 0 && !rec.id.is_empty()).then_some(rec.id.as_str());
        match work_orders::create_callback(&caller, &cfg.callback_reason, rec_id, &due) {
            Ok(task) => {
                self.call.set_var("callback_task", &task);
                let when: String = due.chars().take(16).collect();
                self.call.say(Prompt::template(&cfg.confirm_text, &[("when", date(when).into())]))?;
                self.goodbye()
            }
            Err(e) => {
                log::warn(&format!("after-hours callback failed: {}", service_error_text(&e)));
                self.call.say(cfg.failed_text.as_str())?;
                self.call.hangup();
                Ok(())
            }
        }
    }
}
