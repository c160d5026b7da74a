//! Who is calling and which unit the call is about.
//!
//! A caller whose number is in the directory is *recognized*: greeted by name, and their unit is
//! used directly (or chosen by key when they have several). Anyone else types the unit as
//! building, entrance and room on the keypad, and is *verified* by the last four digits of a phone
//! number registered for that unit, so nobody hears a stranger's bills. Identification happens
//! lazily, the first time a flow needs the unit, so a caller who only wants an agent or a
//! complaint line is not asked for it.

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// Texts and rules for identifying the unit (config section `identify`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentifyConfig {
    /// Ask unrecognized callers for the last four digits of a registered phone.
    pub verify: bool,
    /// Asks for the building number.
    pub building_prompt: String,
    /// Asks for the entrance (单元) number.
    pub entrance_prompt: String,
    /// Asks for the room number.
    pub room_prompt: String,
    /// Said before asking again when no such unit exists.
    pub not_found_text: String,
    /// Asks for the last four digits of the owner's phone.
    pub verify_prompt: String,
    /// Said before asking again when the digits do not match.
    pub verify_failed_text: String,
    /// Said before the agent queue when identification failed for good.
    pub failed_text: String,
    /// Introduces the choice among several units.
    pub choose_intro: String,
    /// One choice: `{unit}` (spoken building-entrance-room) and `{key}`.
    pub choose_item: String,
    /// Tries for the whole unit entry and for verification.
    pub attempts: u32,
}

impl Default for IdentifyConfig {
    fn default() -> Self {
        IdentifyConfig {
            verify: true,
            building_prompt: "请输入您的楼栋号,以井号键结束".into(),
            entrance_prompt: "请输入单元号,以井号键结束".into(),
            room_prompt: "请输入房号,以井号键结束".into(),
            not_found_text: "未查询到该房屋,".into(),
            verify_prompt: "请输入业主预留手机号码的后四位".into(),
            verify_failed_text: "验证未通过,".into(),
            failed_text: "抱歉,无法核实您的房屋信息,正在为您转接人工客服".into(),
            choose_intro: "您名下有多套房屋,".into(),
            choose_item: "{unit}请按{key},".into(),
            attempts: 3,
        }
    }
}

/// What recognition found out about the caller.
#[derive(Clone, Debug, Default)]
pub(crate) struct Recognition {
    pub(crate) resident: Option<Resident>,
}

impl Ctx<'_> {
    /// The recognized resident, looked up once per call; a directory failure counts as
    /// "not recognized" (the caller can still identify by keypad).
    pub fn resident(&mut self) -> Option<Resident> {
        if self.recognition.is_none() {
            let resident = match directory::lookup_caller(self.customer()) {
                Ok(mut found) => {
                    if found.is_empty() { None } else { Some(found.swap_remove(0)) }
                }
                Err(e) => {
                    log::warn(&format!("caller lookup failed: {}", service_error_text(&e)));
                    None
                }
            };
            if let Some(r) = &resident {
                self.call.set_var("resident_id", &r.id);
            }
            self.recognition = Some(Recognition { resident });
        }
        self.recognition.as_ref().and_then(|r| r.resident.clone())
    }

    /// The unit this call is about. `Ok(None)` means the caller could not be identified and has
    /// already been handed to an agent (or told why); the flow should just return.
    pub fn unit(&mut self) -> FlowResult<Option<Unit>> {
        if let Some(u) = &self.unit {
            return Ok(Some(u.clone()));
        }
        let found = match self.resident() {
            Some(r) if !r.unit_ids.is_empty() => self.choose_unit(&r)?,
            _ => self.unit_by_keypad()?,
        };
        if let Some(u) = &found {
            self.call.set_var("unit_id", &u.id);
            self.unit = Some(u.clone());
        }
        Ok(found)
    }

    /// Sets the unit when it is already known (e.g. from an outbound campaign target).
    pub fn set_unit(&mut self, unit: Unit) {
        self.unit = Some(unit);
    }

    fn choose_unit(&mut self, r: &Resident) -> FlowResult<Option<Unit>> {
        let mut units = Vec::new();
        for id in r.unit_ids.iter().take(9) {
            match directory::unit(id) {
                Ok(Some(u)) => units.push(u),
                Ok(None) => log::warn(&format!("resident {} links unknown unit {id}", r.id)),
                Err(e) => {
                    self.degrade("directory.get-unit", &e, None)?;
                    return Ok(None);
                }
            }
        }
        if units.len() <= 1 {
            return match units.pop() {
                Some(u) => Ok(Some(u)),
                None => self.unit_by_keypad(),
            };
        }
        let cfg = &self.s.identify;
        let mut prompt = Prompt::from(cfg.choose_intro.as_str());
        let keys: Vec<String> = (1..=units.len()).map(|k| k.to_string()).collect();
        for (u, key) in units.iter().zip(&keys) {
            prompt = prompt.then(Prompt::template(
                &cfg.choose_item,
                &[("unit", crate::unit_prompt(u)), ("key", key.as_str().into())],
            ));
        }
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        match self.ask_key(prompt, &key_refs)? {
            Ok(k) => {
                let i: usize = k.parse().unwrap_or(1);
                self.call.mark(&format!("unit:{k}"));
                Ok(units.into_iter().nth(i.saturating_sub(1)))
            }
            Err(_) => {
                self.to_agent()?;
                Ok(None)
            }
        }
    }

    fn ask_number(&self, prefix: &Prompt, text: &str, max: u32) -> FlowResult<Option<String>> {
        let c = &self.s.common;
        let ask = Ask::new(
            prefix.clone().then(text),
            Collect::between(1, max).terminator("#").timeout_ms(c.first_digit_timeout_ms),
        )
        .attempts(c.attempts)
        .on_invalid(c.invalid_text.as_str())
        .on_timeout(c.no_input_text.as_str());
        Ok(self.call.ask(ask)?.ok())
    }

    fn unit_by_keypad(&mut self) -> FlowResult<Option<Unit>> {
        let cfg = self.s.identify.clone();
        let mut prefix = Prompt::new();
        for _ in 0..cfg.attempts.max(1) {
            let Some(building) = self.ask_number(&prefix, &cfg.building_prompt, 4)? else { break };
            let Some(entrance) = self.ask_number(&Prompt::new(), &cfg.entrance_prompt, 3)? else { break };
            let Some(room) = self.ask_number(&Prompt::new(), &cfg.room_prompt, 6)? else { break };
            let unit = match directory::find_unit(self.call.estate_id(), &building, &entrance, &room) {
                Ok(u) => u,
                Err(e) => {
                    self.degrade("directory.find-unit", &e, None)?;
                    return Ok(None);
                }
            };
            let Some(unit) = unit else {
                prefix = Prompt::from(cfg.not_found_text.as_str());
                continue;
            };
            self.call.mark("identify:unit");
            if !cfg.verify || self.verify(&unit)? {
                return Ok(Some(unit));
            }
            break;
        }
        self.to_agent_at(&cfg.failed_text, &self.s.common.agent_queue, self.s.common.agent_priority)?;
        Ok(None)
    }

    /// Last-four-digits check against the phones registered for the unit.
    fn verify(&mut self, unit: &Unit) -> FlowResult<bool> {
        let residents = match directory::residents_of_unit(&unit.id) {
            Ok(r) => r,
            Err(e) => {
                log::warn(&format!("residents-of-unit failed: {}", service_error_text(&e)));
                return Ok(false);
            }
        };
        let phones: Vec<String> = residents.into_iter().flat_map(|r| r.phones).collect();
        if phones.is_empty() {
            log::info("unit has no registered phone; verification skipped");
            return Ok(true);
        }
        let cfg = self.s.identify.clone();
        let mut prefix = Prompt::new();
        for _ in 0..cfg.attempts.max(1) {
            let ask = Ask::new(
                prefix.clone().then(cfg.verify_prompt.as_str()),
                Collect::digits(4).timeout_ms(self.s.common.first_digit_timeout_ms),
            )
            .attempts(1);
            match self.call.ask(ask)? {
                Ok(last4) if phones.iter().any(|p| p.ends_with(&last4)) => {
                    self.call.mark("identify:verified");
                    return Ok(true);
                }
                Ok(_) => prefix = Prompt::from(cfg.verify_failed_text.as_str()),
                Err(_) => prefix = Prompt::from(self.s.common.no_input_text.as_str()),
            }
        }
        Ok(false)
    }
}
