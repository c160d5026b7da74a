//! What a campaign is: its target list, the outbound flow answered calls run, and the rules the
//! dialer must obey (pacing limits, calling hours, retries, do-not-call, ring timeout,
//! answering-machine-safe start). Deserialized from the operator's TOML/JSON and checked by
//! [`CampaignConfig::validate`] before the scheduler accepts it, so a typo is an error that names
//! the key instead of a dialer that calls at midnight.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::CampaignError;

/// One person to call: the number plus the parameters the outbound flow needs (unit id, order id…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Stable id of the target inside the campaign (results are keyed by it).
    pub id: String,
    /// Number to dial (digits, optionally with `+`, spaces or dashes, which are ignored).
    pub number: String,
    /// Campaign-specific parameters handed to the flow (`unit-id`, `order-id`, ...).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// Pacing limits: how hard the campaign may load the trunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Calls in progress (ringing or talking) at most.
    pub max_concurrent: u32,
    /// Call starts per second at most; consecutive INVITEs are at least `1000 / this` ms apart.
    pub calls_per_second: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_concurrent: 4, calls_per_second: 1.0 }
    }
}

impl Limits {
    /// Minimum gap between two call starts, in milliseconds.
    pub fn start_gap_ms(&self) -> u64 {
        (1000.0 / self.calls_per_second).ceil() as u64
    }
}

/// A time of day `HH:MM` in the campaign's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(
    /// Minutes since local midnight.
    pub u16,
);

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a time of day, write HH:MM such as 09:00");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let h: u16 = h.trim().parse().map_err(|_| bad())?;
        let m: u16 = m.trim().parse().map_err(|_| bad())?;
        if h > 24 || m > 59 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(TimeOfDay(h * 60 + m))
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// When calls may start: a daily window in local time minus closed weekdays and dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallingHours {
    /// First minute a call may start (inclusive), local time.
    pub start: TimeOfDay,
    /// End of the window (exclusive): no call starts at or after it.
    pub end: TimeOfDay,
    /// Local time's offset from UTC in minutes (China: 480).
    pub utc_offset_minutes: i32,
    /// Weekdays with no calls at all: `mon` … `sun`.
    pub closed_weekdays: Vec<String>,
    /// Dates with no calls at all (public holidays): `YYYY-MM-DD`.
    pub closed_dates: Vec<String>,
}

impl Default for CallingHours {
    fn default() -> Self {
        CallingHours {
            start: TimeOfDay(9 * 60),
            end: TimeOfDay(20 * 60),
            utc_offset_minutes: 480,
            closed_weekdays: Vec::new(),
            closed_dates: Vec::new(),
        }
    }
}

const DAY_MS: i64 = 86_400_000;
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// [`CallingHours`] parsed once, answering "may a call start now, and if not, when?".
#[derive(Debug, Clone)]
pub struct CallingWindow {
    start_ms: i64,
    end_ms: i64,
    offset_ms: i64,
    closed_weekdays: [bool; 7],
    closed_days: BTreeSet<i64>,
}

impl CallingHours {
    /// Parse weekdays and dates; errors name the bad entry.
    pub fn window(&self) -> Result<CallingWindow, CampaignError> {
        if self.start >= self.end {
            return Err(CampaignError::Config(format!(
                "hours: start {} must be before end {} (windows across midnight are not supported)",
                self.start, self.end
            )));
        }
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err(CampaignError::Config(format!("hours.utc_offset_minutes {} is not a real offset", self.utc_offset_minutes)));
        }
        let mut closed_weekdays = [false; 7];
        for w in &self.closed_weekdays {
            let i = WEEKDAYS
                .iter()
                .position(|d| w.trim().to_ascii_lowercase().starts_with(d))
                .ok_or_else(|| CampaignError::Config(format!("hours.closed_weekdays: '{w}' is not a weekday (mon … sun)")))?;
            closed_weekdays[i] = true;
        }
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let mut closed_days = BTreeSet::new();
        for d in &self.closed_dates {
            let date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| CampaignError::Config(format!("hours.closed_dates: '{d}' is not a date, write YYYY-MM-DD")))?;
            closed_days.insert((date - epoch).num_days());
        }
        Ok(CallingWindow {
            start_ms: i64::from(self.start.0) * 60_000,
            end_ms: i64::from(self.end.0) * 60_000,
            offset_ms: i64::from(self.utc_offset_minutes) * 60_000,
            closed_weekdays,
            closed_days,
        })
    }
}

impl CallingWindow {
    fn day_open(&self, day: i64) -> bool {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let weekday = (epoch + chrono::Duration::days(day)).weekday().num_days_from_monday() as usize;
        !self.closed_weekdays[weekday] && !self.closed_days.contains(&day)
    }

    /// Whether a call may start at `now_ms`.
    pub fn is_open(&self, now_ms: u64) -> bool {
        self.next_open(now_ms) == Some(now_ms)
    }

    /// `now_ms` when calls may start now, else the next moment they may; `None` when every day of
    /// the coming ~2 years is closed (a configuration that can never call).
    pub fn next_open(&self, now_ms: u64) -> Option<u64> {
        let local = now_ms as i64 + self.offset_ms;
        let today = local.div_euclid(DAY_MS);
        for day in today..today + 800 {
            if !self.day_open(day) {
                continue;
            }
            let open = day * DAY_MS + self.start_ms;
            let close = day * DAY_MS + self.end_ms;
            if local < close {
                return Some((open.max(local) - self.offset_ms) as u64);
            }
        }
        None
    }
}

/// Whether and when to try a target again after one kind of unsuccessful attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRule {
    /// Attempts in total (the first call included) after which this outcome is final.
    pub max_attempts: u32,
    /// Seconds between the end of this attempt and the next one.
    pub spacing_secs: u64,
}

/// Retry rules per outcome. Rejections (403, 404, 603 …) are never retried: the network said no.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// 486/600 Busy.
    pub busy: RetryRule,
    /// Rang out (ring timeout, 408, 480, 487).
    pub no_answer: RetryRule,
    /// Trunk or network trouble (5xx, timeouts, transport errors).
    pub failed: RetryRule,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            busy: RetryRule { max_attempts: 3, spacing_secs: 300 },
            no_answer: RetryRule { max_attempts: 3, spacing_secs: 1800 },
            failed: RetryRule { max_attempts: 2, spacing_secs: 600 },
        }
    }
}

/// A campaign as the operator writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignConfig {
    /// Stable id (store key, `campaign-id` handed to the flow).
    pub id: String,
    /// Human-readable name for the console.
    #[serde(default)]
    pub name: String,
    /// Name of the outbound flow (registry key) every answered call runs.
    pub flow: String,
    /// Caller number presented on the trunk (From user); empty = the trunk's default.
    #[serde(default)]
    pub caller_id: String,
    /// SIP trunk (`[[trunk]] name` in the runtime config) the calls go out through; empty = the
    /// first configured trunk.
    #[serde(default)]
    pub trunk: String,
    /// Pacing.
    #[serde(default)]
    pub limits: Limits,
    /// Allowed calling hours.
    #[serde(default)]
    pub hours: CallingHours,
    /// Retries per outcome.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Seconds a call may ring before it is cancelled and counted as no answer.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_secs: u64,
    /// Start the flow only after `answer_delay_ms` of silence, so an answering machine's greeting
    /// or a person's "喂?" is not talked over.
    #[serde(default = "default_true")]
    pub answering_machine_safe: bool,
    /// Silence before the flow starts when `answering_machine_safe` is on.
    #[serde(default = "default_answer_delay")]
    pub answer_delay_ms: u64,
    /// Numbers that must never be dialled (refused before dialling, recorded as `dnc`).
    #[serde(default)]
    pub do_not_call: Vec<String>,
    /// Who to call.
    #[serde(default)]
    pub targets: Vec<Target>,
}

fn default_ring_timeout() -> u64 {
    30
}
fn default_true() -> bool {
    true
}
fn default_answer_delay() -> u64 {
    800
}

/// A number reduced to its digits (and a leading `+`) so `138-0000 0000` matches `13800000000`.
pub fn normalize_number(n: &str) -> String {
    let t = n.trim();
    let mut out = String::with_capacity(t.len());
    for (i, c) in t.chars().enumerate() {
        if c.is_ascii_digit() || (i == 0 && c == '+') {
            out.push(c);
        }
    }
    out
}

impl CampaignConfig {
    /// Parse a campaign from TOML text.
    pub fn from_toml(text: &str) -> Result<CampaignConfig, CampaignError> {
        let c: CampaignConfig = toml_de(text)?;
        c.validate()?;
        Ok(c)
    }

    /// Check every rule the scheduler relies on; the error names the key and what to write instead.
    pub fn validate(&self) -> Result<(), CampaignError> {
        let bad = |m: String| Err(CampaignError::Config(m));
        if self.id.trim().is_empty() {
            return bad("id: a campaign needs a non-empty id".into());
        }
        if self.id.contains('/') {
            return bad(format!("id '{}': '/' is not allowed in a campaign id", self.id));
        }
        if self.flow.trim().is_empty() {
            return bad("flow: name the outbound flow answered calls run".into());
        }
        if self.limits.max_concurrent == 0 {
            return bad("limits.max_concurrent must be at least 1".into());
        }
        if !(self.limits.calls_per_second.is_finite() && self.limits.calls_per_second > 0.0 && self.limits.calls_per_second <= 1000.0) {
            return bad(format!("limits.calls_per_second {} must be > 0 and ≤ 1000", self.limits.calls_per_second));
        }
        if self.ring_timeout_secs == 0 || self.ring_timeout_secs > 300 {
            return bad(format!("ring_timeout_secs {} must be between 1 and 300", self.ring_timeout_secs));
        }
        if self.answer_delay_ms > 10_000 {
            return bad(format!("answer_delay_ms {} is more than 10 s of dead air", self.answer_delay_ms));
        }
        for (k, r) in [("busy", self.retry.busy), ("no_answer", self.retry.no_answer), ("failed", self.retry.failed)] {
            if r.max_attempts == 0 {
                return bad(format!("retry.{k}.max_attempts must be at least 1 (1 = no retry)"));
            }
        }
        self.hours.window()?;
        let mut ids = BTreeSet::new();
        for (i, t) in self.targets.iter().enumerate() {
            if t.id.trim().is_empty() {
                return bad(format!("targets[{i}]: empty id"));
            }
            if !ids.insert(t.id.as_str()) {
                return bad(format!("targets[{i}]: id '{}' appears twice", t.id));
            }
            let n = normalize_number(&t.number);
            if n.trim_start_matches('+').is_empty() {
                return bad(format!("targets[{i}] ('{}'): number '{}' has no digits", t.id, t.number));
            }
        }
        Ok(())
    }

    /// The do-not-call list, normalized.
    pub fn dnc_set(&self) -> BTreeSet<String> {
        self.do_not_call.iter().map(|n| normalize_number(n)).collect()
    }

    /// The silence before the flow starts (zero when answering-machine-safe mode is off).
    pub fn effective_answer_delay_ms(&self) -> u64 {
        if self.answering_machine_safe { self.answer_delay_ms } else { 0 }
    }
}

fn toml_de(text: &str) -> Result<CampaignConfig, CampaignError> {
    toml::from_str(text).map_err(|e| CampaignError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> CampaignConfig {
        CampaignConfig::from_toml("id = \"c\"\nflow = \"f\"\n[[targets]]\nid = \"a\"\nnumber = \"138 0000 0000\"\n").unwrap()
    }

    #[test]
    fn the_documented_example_parses_with_the_documented_values() {
        let doc = include_str!("../../../docs/campaigns.md");
        let start = doc.find("```toml\n").expect("docs/campaigns.md has a toml block") + 8;
        let end = start + doc[start..].find("```").expect("closed block");
        let c = CampaignConfig::from_toml(&doc[start..end]).unwrap();
        assert_eq!(c.limits, Limits { max_concurrent: 4, calls_per_second: 1.0 });
        assert_eq!((c.hours.start.to_string(), c.hours.end.to_string()), ("09:00".into(), "20:00".into()));
        assert_eq!(c.retry, RetryPolicy::default());
        assert_eq!(c.targets[0].params["amount-fen"], "32050");
        assert!(c.dnc_set().contains("13800138000"));
        assert_eq!(c.effective_answer_delay_ms(), 800);
    }

    #[test]
    fn defaults_apply_to_a_minimal_campaign() {
        let c = minimal();
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.ring_timeout_secs, 30);
        assert!(c.answering_machine_safe);
        assert_eq!(c.hours.utc_offset_minutes, 480);
        assert_eq!(c.limits.start_gap_ms(), 1000);
        assert_eq!(Limits { max_concurrent: 1, calls_per_second: 3.0 }.start_gap_ms(), 334);
        let off = CampaignConfig { answering_machine_safe: false, ..c.clone() };
        assert_eq!((c.effective_answer_delay_ms(), off.effective_answer_delay_ms()), (800, 0));
    }

    #[test]
    fn mistakes_are_errors_that_name_the_key() {
        let err = |f: &dyn Fn(&mut CampaignConfig)| {
            let mut c = minimal();
            f(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(err(&|c| c.limits.calls_per_second = 0.0).contains("limits.calls_per_second"));
        assert!(err(&|c| c.limits.max_concurrent = 0).contains("limits.max_concurrent"));
        assert!(err(&|c| c.retry.busy.max_attempts = 0).contains("retry.busy.max_attempts"));
        assert!(err(&|c| c.hours.closed_dates = vec!["2026-13-01".into()]).contains("hours.closed_dates"));
        assert!(err(&|c| c.hours.closed_weekdays = vec!["funday".into()]).contains("hours.closed_weekdays"));
        assert!(err(&|c| c.targets[0].number = "abc".into()).contains("targets[0]"));
        assert!(err(&|c| c.targets.push(c.targets[0].clone())).contains("appears twice"));
        assert!(err(&|c| c.id = "a/b".into()).contains("'/'"));
        let bad_time = CampaignConfig::from_toml("id = \"c\"\nflow = \"f\"\n[hours]\nstart = \"9h\"\n").unwrap_err().to_string();
        assert!(bad_time.contains("HH:MM"), "{bad_time}");
        let unknown = CampaignConfig::from_toml("id = \"c\"\nflow = \"f\"\nmax_calls = 3\n").unwrap_err().to_string();
        assert!(unknown.contains("max_calls"), "{unknown}");
    }

    #[test]
    fn numbers_normalize_to_digits() {
        assert_eq!(normalize_number(" +86 138-0013-8000 "), "+8613800138000");
        assert_eq!(normalize_number("(0571) 8888 1234"), "057188881234");
    }
}
