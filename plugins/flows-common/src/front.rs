//! The front door of the hotline (`ivr-main`): greet (by name when recognized), send closed-hours
//! calls to the night service, read the announcements, then run the menu.

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// Texts and settings of the front door (config section `front`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrontConfig {
    /// Greeting for a recognized caller: `{name}` ("张先生"), `{estate}`.
    pub greeting_known: String,
    /// Greeting for anyone else: `{estate}`.
    pub greeting: String,
    /// Estate name used when the call's estate is unknown.
    pub default_estate_name: String,
    /// Read today's announcements before the menu.
    pub announcements: bool,
    /// Said before the announcements.
    pub announcements_intro: String,
    /// Most announcements read.
    pub max_announcements: usize,
    /// A key press skips the announcements (and counts as the menu choice): regular callers
    /// have heard them, and three notices can take 40 s.
    pub announcements_skippable: bool,
}

impl Default for FrontConfig {
    fn default() -> Self {
        FrontConfig {
            greeting_known: "您好,{name},欢迎致电{estate}物业服务中心。".into(),
            greeting: "您好,欢迎致电{estate}物业服务中心。".into(),
            default_estate_name: "本".into(),
            announcements: true,
            announcements_intro: "最新通告:".into(),
            max_announcements: 3,
            announcements_skippable: true,
        }
    }
}

impl Ctx<'_> {
    /// The whole front-door call.
    pub fn front_door(&mut self) -> FlowResult {
        let cfg = self.s.front.clone();
        let resident = self.resident();
        let estate_id = self.call.estate_id().map(str::to_string).or_else(|| {
            let unit_id = resident.as_ref()?.unit_ids.first()?;
            directory::unit(unit_id).ok().flatten().map(|u| u.estate_id)
        });
        let estate_name = estate_id
            .as_deref()
            .and_then(|id| directory::estate(id).ok().flatten())
            .map(|e| e.name)
            .unwrap_or_else(|| cfg.default_estate_name.clone());
        let greeting = match &resident {
            Some(r) => Prompt::template(
                &cfg.greeting_known,
                &[("name", r.address_form().into()), ("estate", estate_name.as_str().into())],
            ),
            None => Prompt::template(&cfg.greeting, &[("estate", estate_name.as_str().into())]),
        };
        self.call.say(greeting)?;
        if self.s.after_hours.enabled && !clock::is_open(&self.s.after_hours.calendar) {
            return self.after_hours_closed();
        }
        if cfg.announcements {
            let notes = content::announcements(estate_id.as_deref());
            if !notes.is_empty() {
                let mut p = Prompt::from(cfg.announcements_intro.as_str());
                for n in notes.iter().take(cfg.max_announcements) {
                    p = p.text(n.as_str()).pause(300);
                }
                if cfg.announcements_skippable {
                    self.call.say_interruptible(p)?;
                } else {
                    self.call.say(p)?;
                }
            }
        }
        let menu = self.s.menu.clone();
        self.run_menu(&menu)
    }
}
