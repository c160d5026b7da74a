//! Operator-managed content: knowledge base, announcements, working-hours calendars, number lists.

use super::Record;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A knowledge-base article (办事指南) searched by agents and read out by flows by topic key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KbArticle {
    /// Id.
    pub id: String,
    /// Topic key used by flows (`content.kb-answer`), e.g. "office-hours".
    pub topic: String,
    /// Title, e.g. "物业办公时间".
    pub title: String,
    /// Full text for agents.
    pub body: String,
    /// Short answer suitable for TTS.
    pub answer: String,
    /// Extra search keywords.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Record for KbArticle {
    const PREFIX: &'static str = "kb/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// An announcement (自动通告) read to callers of an estate within its date range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Announcement {
    /// Id.
    pub id: String,
    /// Estate, or none for every estate.
    pub estate_id: Option<String>,
    /// Text read by TTS.
    pub text: String,
    /// First day (inclusive).
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
}

impl Record for Announcement {
    const PREFIX: &'static str = "an/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// An opening interval within one day, "08:30"–"17:30".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenInterval {
    /// Opens at.
    #[schema(value_type = String)]
    pub open: NaiveTime,
    /// Closes at (exclusive).
    #[schema(value_type = String)]
    pub close: NaiveTime,
}

/// A working-hours calendar with holidays and make-up working days (调休).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Calendar {
    /// Name, "default" for the call center's own.
    pub name: String,
    /// Seven entries Monday..Sunday, each the day's opening intervals.
    pub weekly: Vec<Vec<OpenInterval>>,
    /// Closed all day.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Open with Monday's hours although a weekend (调休上班).
    #[serde(default)]
    pub extra_workdays: Vec<NaiveDate>,
}

impl Record for Calendar {
    const PREFIX: &'static str = "cal/";
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl Calendar {
    /// Mon–Fri 08:30–17:30, Sat 09:00–12:00: a typical 物业客服中心 calendar.
    pub fn office_default(name: &str) -> Calendar {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        let day = vec![OpenInterval { open: t(8, 30), close: t(17, 30) }];
        let sat = vec![OpenInterval { open: t(9, 0), close: t(12, 0) }];
        Calendar {
            name: name.into(),
            weekly: vec![day.clone(), day.clone(), day.clone(), day.clone(), day, sat, vec![]],
            holidays: vec![],
            extra_workdays: vec![],
        }
    }

    fn intervals(&self, date: NaiveDate) -> &[OpenInterval] {
        if self.holidays.contains(&date) {
            return &[];
        }
        let wd = if self.extra_workdays.contains(&date) { 0 } else { date.weekday().num_days_from_monday() as usize };
        self.weekly.get(wd).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether the calendar is open at `at` (interpreted in `at`'s offset).
    pub fn is_open(&self, at: DateTime<FixedOffset>) -> bool {
        let t = at.time();
        self.intervals(at.date_naive()).iter().any(|i| i.open <= t && t < i.close)
    }

    /// The next moment the calendar is open (now if open), searching up to a year ahead.
    pub fn next_open(&self, at: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        if self.is_open(at) {
            return Some(at);
        }
        let tz = *at.offset();
        for d in 0..=366 {
            let date = at.date_naive() + Duration::days(d);
            let mut opens: Vec<NaiveTime> = self.intervals(date).iter().map(|i| i.open).collect();
            opens.sort();
            for o in opens {
                let cand = tz.from_local_datetime(&date.and_time(o)).single()?;
                if cand > at {
                    return Some(cand);
                }
            }
        }
        None
    }
}

/// Whether a number is blocked or always let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ListKind {
    /// 黑名单.
    Blacklist,
    /// 白名单.
    Whitelist,
}

/// A number on the black- or whitelist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListEntry {
    /// Which list.
    pub kind: ListKind,
    /// Normalized number.
    pub number: String,
    /// Why.
    pub reason: Option<String>,
    /// Added at.
    pub created_at: DateTime<FixedOffset>,
}

impl Record for ListEntry {
    const PREFIX: &'static str = "nl/";
    fn key(&self) -> String {
        let k = match self.kind {
            ListKind::Blacklist => "black",
            ListKind::Whitelist => "white",
        };
        format!("{k}/{}", self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn calendar_open_next_open_and_holidays() {
        let mut c = Calendar::office_default("default");
        // Friday 2026-11-27
        assert!(c.is_open(at("2026-11-27T10:00:00+08:00")));
        assert!(!c.is_open(at("2026-11-27T18:00:00+08:00")));
        assert_eq!(c.next_open(at("2026-11-27T18:00:00+08:00")), Some(at("2026-11-28T09:00:00+08:00")));
        // Saturday afternoon → Monday morning
        assert_eq!(c.next_open(at("2026-11-28T13:00:00+08:00")), Some(at("2026-11-30T08:30:00+08:00")));
        c.holidays.push(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(c.next_open(at("2026-11-28T13:00:00+08:00")), Some(at("2026-12-01T08:30:00+08:00")));
        c.extra_workdays.push(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
        assert!(c.is_open(at("2026-11-29T16:00:00+08:00")));
    }
}
