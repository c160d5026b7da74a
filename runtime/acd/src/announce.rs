//! In-queue announcements: when to tell a caller their position and estimated wait, and what to say.
//!
//! The ACD decides *when* (first after `first_after_secs`, then every `every_secs`) and *what*
//! (the text, e.g. "您前面还有3位,预计等待2分钟"); the flow host plays it with TTS between music.
//!
//! Estimated wait = position × recent average handle time ÷ agents serving the queue, rounded up
//! to whole minutes when spoken. "Recent" is the last [`RECENT_HANDLES`] handled calls of the
//! queue; before any call has been handled the queue's `default_aht_secs` is used.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// How many recent handle times feed the wait estimate.
pub const RECENT_HANDLES: usize = 20;

/// Language of the announcement text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AnnounceLanguage {
    /// Mandarin (default): "您前面还有3位,预计等待2分钟".
    #[default]
    Zh,
    /// English: "There are 3 callers ahead of you. Estimated wait: 2 minutes."
    En,
}

/// Announcement schedule of a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnnounceConfig {
    /// Announcements are off when false.
    pub enabled: bool,
    /// Seconds after entering the queue of the first announcement.
    pub first_after_secs: u64,
    /// Seconds between later announcements.
    pub every_secs: u64,
    /// Include the estimated wait (some centers only announce the position).
    pub include_wait: bool,
    /// Text language.
    pub language: AnnounceLanguage,
}

impl Default for AnnounceConfig {
    fn default() -> Self {
        Self { enabled: true, first_after_secs: 30, every_secs: 60, include_wait: true, language: AnnounceLanguage::Zh }
    }
}

/// One announcement for one caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// 1-based position in the queue.
    pub position: usize,
    /// Callers ahead (position − 1): what "您前面还有N位" says.
    pub ahead: usize,
    /// Estimated wait in seconds.
    pub est_wait_secs: u64,
    /// The sentence to speak.
    pub text: String,
}

/// Estimated wait in seconds for the caller at `position` (1-based).
pub fn estimate_wait_secs(position: usize, aht_secs: f64, serving_agents: usize) -> u64 {
    let agents = serving_agents.max(1) as f64;
    (position as f64 * aht_secs / agents).ceil() as u64
}

/// Minutes as spoken: rounded up, at least 1.
pub fn spoken_minutes(est_wait_secs: u64) -> u64 {
    est_wait_secs.div_ceil(60).max(1)
}

/// The announcement sentence for `ahead` callers ahead and an estimated wait.
pub fn text(lang: AnnounceLanguage, ahead: usize, est_wait_secs: u64, include_wait: bool) -> String {
    let m = spoken_minutes(est_wait_secs);
    match lang {
        AnnounceLanguage::Zh => {
            let pos = if ahead == 0 { "您是下一位".to_string() } else { format!("您前面还有{ahead}位") };
            if include_wait { format!("{pos},预计等待{m}分钟") } else { pos }
        }
        AnnounceLanguage::En => {
            let pos = match ahead {
                0 => "You are next in line.".to_string(),
                1 => "There is 1 caller ahead of you.".to_string(),
                n => format!("There are {n} callers ahead of you."),
            };
            let unit = if m == 1 { "minute" } else { "minutes" };
            if include_wait { format!("{pos} Estimated wait: {m} {unit}.") } else { pos }
        }
    }
}

/// Builds the announcement for a caller at `position`.
pub fn announcement(cfg: &AnnounceConfig, position: usize, est_wait_secs: u64) -> Announcement {
    let ahead = position.saturating_sub(1);
    Announcement { position, ahead, est_wait_secs, text: text(cfg.language, ahead, est_wait_secs, cfg.include_wait) }
}

/// The last few handle times of a queue, for the wait estimate.
#[derive(Debug, Default, Clone)]
pub(crate) struct RecentHandles {
    secs: VecDeque<f64>,
}

impl RecentHandles {
    pub fn push(&mut self, handle_ms: u64) {
        if self.secs.len() == RECENT_HANDLES {
            self.secs.pop_front();
        }
        self.secs.push_back(handle_ms as f64 / 1000.0);
    }

    /// Average handle seconds, or `default` before any call was handled.
    pub fn average_or(&self, default: f64) -> f64 {
        if self.secs.is_empty() { default } else { self.secs.iter().sum::<f64>() / self.secs.len() as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_matches_the_console_wording() {
        // 4th in line, 120 s AHT, 4 agents: 4 × 120 / 4 = 120 s → "2分钟".
        let est = estimate_wait_secs(4, 120.0, 4);
        assert_eq!(est, 120);
        let a = announcement(&AnnounceConfig::default(), 4, est);
        assert_eq!(a.text, "您前面还有3位,预计等待2分钟");
        assert_eq!(announcement(&AnnounceConfig::default(), 1, 10).text, "您是下一位,预计等待1分钟");
        let en = AnnounceConfig { language: AnnounceLanguage::En, ..Default::default() };
        assert_eq!(announcement(&en, 2, 61).text, "There is 1 caller ahead of you. Estimated wait: 2 minutes.");
    }

    #[test]
    fn recent_handles_keep_only_the_last_twenty() {
        let mut r = RecentHandles::default();
        assert_eq!(r.average_or(180.0), 180.0);
        for _ in 0..RECENT_HANDLES {
            r.push(1_000_000);
        }
        for _ in 0..RECENT_HANDLES {
            r.push(60_000);
        }
        assert_eq!(r.average_or(180.0), 60.0);
    }
}
