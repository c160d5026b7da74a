//! On-duty engineer: resolve who is on shift now from a roster, then send them an SMS.
//!
//! The roster is resolved at delivery time, not when the message is queued, so a retry after a
//! shift change reaches the engineer who is on duty then.

use super::sms::{SmsChannel, send_sms};
use super::{Channel, DeliveryError, Outbound};
use crate::OrdersError;
use crate::config::{OnDutyConfig, Shift, parse_hhmm};
use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use courtyard_store::Clock;
use std::sync::Arc;

/// The on-duty channel (SMS to whoever is on shift).
pub struct OnDutyChannel {
    shifts: Vec<(Shift, u32, u32)>,
    sms: Arc<SmsChannel>,
    clock: Arc<dyn Clock>,
}

impl OnDutyChannel {
    /// Build from the roster; shift times are validated here.
    pub fn new(cfg: OnDutyConfig, sms: Arc<SmsChannel>, clock: Arc<dyn Clock>) -> Result<OnDutyChannel, OrdersError> {
        let mut shifts = Vec::new();
        for s in cfg.shifts {
            let (a, b) = (parse_hhmm(&s.from)?, parse_hhmm(&s.to)?);
            shifts.push((s, a, b));
        }
        Ok(OnDutyChannel { shifts, sms, clock })
    }

    /// Who is on duty for `roster` (empty = "default") at `t`.
    pub fn resolve(&self, roster: &str, t: DateTime<FixedOffset>) -> Option<&Shift> {
        let roster = if roster.trim().is_empty() { "default" } else { roster.trim() };
        let minute = t.hour() * 60 + t.minute();
        let today = t.weekday().number_from_monday() as u8;
        let yesterday = if today == 1 { 7 } else { today - 1 };
        self.shifts
            .iter()
            .find(|(s, from, to)| {
                if s.roster != roster {
                    return false;
                }
                let on = |d: u8| s.days.is_empty() || s.days.contains(&d);
                if from <= to {
                    on(today) && minute >= *from && minute < *to
                } else {
                    // overnight: the evening part belongs to today, the morning part to yesterday's shift
                    (on(today) && minute >= *from) || (on(yesterday) && minute < *to)
                }
            })
            .map(|(s, _, _)| s)
    }
}

#[async_trait::async_trait]
impl Channel for OnDutyChannel {
    fn name(&self) -> &'static str {
        "on-duty"
    }
    async fn send(&self, msg: &Outbound<'_>) -> Result<(), DeliveryError> {
        let now = self.clock.now();
        let shift = self
            .resolve(msg.to, now)
            .ok_or_else(|| DeliveryError::Transient(format!("nobody is on duty in roster '{}' at {now}", msg.to)))?;
        tracing::debug!(notification = msg.id, engineer = %shift.name, "on-duty engineer resolved");
        send_sms(&self.sms, &shift.phone, msg.text).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SmsConfig, SmsFormat};
    use courtyard_store::FixedClock;

    fn shift(roster: &str, name: &str, days: &[u8], from: &str, to: &str) -> Shift {
        Shift { roster: roster.into(), name: name.into(), phone: "13900000000".into(), days: days.to_vec(), from: from.into(), to: to.into() }
    }

    #[test]
    fn roster_resolves_day_night_and_weekday_shifts() {
        let sms = Arc::new(
            SmsChannel::new(SmsConfig {
                url: "http://127.0.0.1:1/".into(),
                format: SmsFormat::Json,
                template: "{to}{text}".into(),
                headers: Default::default(),
                success_contains: None,
                timeout_ms: 100,
            })
            .unwrap(),
        );
        let t0 = DateTime::parse_from_rfc3339("2026-11-27T10:00:00+08:00").unwrap(); // a Friday
        let clock = Arc::new(FixedClock::new(t0));
        let cfg = OnDutyConfig {
            shifts: vec![
                shift("default", "day", &[1, 2, 3, 4, 5], "08:00", "20:00"),
                shift("default", "night", &[1, 2, 3, 4, 5], "20:00", "08:00"),
                shift("default", "weekend", &[6, 7], "00:00", "24:00"),
                shift("lifts", "lift", &[], "00:00", "24:00"),
            ],
        };
        let ch = OnDutyChannel::new(cfg, sms, clock).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(ch.resolve("", at("2026-11-27T10:00:00+08:00")).unwrap().name, "day");
        assert_eq!(ch.resolve("default", at("2026-11-27T21:00:00+08:00")).unwrap().name, "night");
        // Saturday 03:00 is still Friday's night shift
        assert_eq!(ch.resolve("default", at("2026-11-28T03:00:00+08:00")).unwrap().name, "night");
        assert_eq!(ch.resolve("default", at("2026-11-28T12:00:00+08:00")).unwrap().name, "weekend");
        // Monday 03:00: Sunday has no night shift, but the weekend shift covers Monday? no: weekend is days 6,7
        assert!(ch.resolve("default", at("2026-11-30T03:00:00+08:00")).is_none());
        assert_eq!(ch.resolve("lifts", at("2026-11-30T03:00:00+08:00")).unwrap().name, "lift");
        assert!(ch.resolve("nobody", at("2026-11-30T03:00:00+08:00")).is_none());
    }
}
