//! Content and plugin data: announcements, KB answers and search, calendars, number lists, kv.

use super::Store;
use crate::StoreError;
use crate::kb::{KbHit, KbIndex};
use crate::model::{Announcement, Calendar, KbArticle, ListEntry, ListKind, normalize_phone};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::sync::Arc;

fn kv_key(plugin: &str, key: &str) -> Result<String, StoreError> {
    if plugin.is_empty() || plugin.contains('/') {
        return Err(StoreError::Invalid(format!("plugin name '{plugin}' is invalid")));
    }
    if key.len() > 1024 {
        return Err(StoreError::Invalid("kv key longer than 1024 bytes".into()));
    }
    Ok(format!("kv/{plugin}/{key}"))
}

/// Largest value a plugin may store under one key.
pub const KV_MAX_VALUE: usize = 1 << 20;

impl Store {
    /// Announcements valid on `date` for an estate (plus those for all estates), newest first.
    pub fn announcements_for(&self, estate_id: Option<&str>, date: NaiveDate) -> Result<Vec<Announcement>, StoreError> {
        let mut v = self
            .list::<Announcement>(
                |a| a.start <= date && date <= a.end && (a.estate_id.is_none() || a.estate_id.as_deref() == estate_id),
                0,
                usize::MAX,
            )?
            .items;
        v.sort_by(|a, b| b.start.cmp(&a.start).then(b.id.cmp(&a.id)));
        Ok(v)
    }

    /// Announcements for an estate today (WIT `content.announcements`).
    pub fn announcements_today(&self, estate_id: Option<&str>) -> Result<Vec<String>, StoreError> {
        Ok(self.announcements_for(estate_id, self.now().date_naive())?.into_iter().map(|a| a.text).collect())
    }

    /// The spoken answer for a KB topic key (WIT `content.kb-answer`).
    pub fn kb_answer(&self, topic: &str) -> Result<Option<String>, StoreError> {
        Ok(self.list::<KbArticle>(|a| a.topic == topic, 0, 1)?.items.into_iter().next().map(|a| a.answer))
    }

    /// Ranked KB search for Chinese (or mixed) text.
    pub fn kb_search(&self, query: &str, limit: usize) -> Result<Vec<KbHit>, StoreError> {
        let idx = {
            let cached = self.kb.lock().ok().and_then(|g| g.clone());
            match cached {
                Some(i) => i,
                None => {
                    let arts = self.list::<KbArticle>(|_| true, 0, usize::MAX)?.items;
                    let i = Arc::new(KbIndex::build(arts));
                    if let Ok(mut g) = self.kb.lock() {
                        *g = Some(i.clone());
                    }
                    i
                }
            }
        };
        Ok(idx.search(query, limit))
    }

    pub(crate) fn invalidate_kb(&self) {
        if let Ok(mut g) = self.kb.lock() {
            *g = None;
        }
    }

    /// A calendar by name; "default" falls back to Mon–Fri 08:30–17:30, Sat 09:00–12:00.
    pub fn calendar(&self, name: &str) -> Result<Calendar, StoreError> {
        match self.get::<Calendar>(name)? {
            Some(c) => Ok(c),
            None if name == "default" => Ok(Calendar::office_default("default")),
            None => Err(StoreError::NotFound(format!("calendar {name}"))),
        }
    }

    /// Whether a calendar is open at `at` (WIT `clock.is-open` uses now).
    pub fn is_open(&self, calendar: &str, at: DateTime<FixedOffset>) -> Result<bool, StoreError> {
        Ok(self.calendar(calendar)?.is_open(at))
    }

    /// Next opening time of a calendar (now when open).
    pub fn next_open(&self, calendar: &str, at: DateTime<FixedOffset>) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        Ok(self.calendar(calendar)?.next_open(at))
    }

    /// Whether a number is on the given list.
    pub fn is_listed(&self, kind: ListKind, number: &str) -> Result<bool, StoreError> {
        let k = match kind {
            ListKind::Blacklist => "black",
            ListKind::Whitelist => "white",
        };
        Ok(self.get::<ListEntry>(&format!("{k}/{}", normalize_phone(number)))?.is_some())
    }

    // ---- plugin kv -----------------------------------------------------------------------

    /// A plugin's value.
    pub fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.kv().get(kv_key(plugin, key)?.as_bytes())
    }

    /// Set a plugin's value (durable on return).
    pub async fn kv_set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if value.len() > KV_MAX_VALUE {
            return Err(StoreError::Invalid(format!("kv value of {} bytes exceeds {KV_MAX_VALUE}", value.len())));
        }
        self.kv().insert(kv_key(plugin, key)?.as_bytes(), value)?;
        self.flush().await
    }

    /// Delete a plugin's value.
    pub async fn kv_delete(&self, plugin: &str, key: &str) -> Result<(), StoreError> {
        self.kv().remove(kv_key(plugin, key)?.as_bytes())?;
        self.flush().await
    }

    /// Add `delta` to a decimal counter atomically; returns the new value.
    pub async fn kv_increment(&self, plugin: &str, key: &str, delta: i64) -> Result<i64, StoreError> {
        let k = kv_key(plugin, key)?;
        let v = self.txn(|tx| {
            let cur = match tx.get(k.as_bytes())? {
                Some(b) => std::str::from_utf8(&b)
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .ok_or_else(|| StoreError::Invalid(format!("kv key '{key}' does not hold a decimal counter")))?,
                None => 0,
            };
            let n = cur
                .checked_add(delta)
                .ok_or_else(|| StoreError::Invalid(format!("counter '{key}' would overflow")))?;
            tx.insert(k.as_bytes(), n.to_string().as_bytes())?;
            Ok(n)
        })?;
        self.flush().await?;
        Ok(v)
    }

    /// Keys of a plugin (for admin views), sorted.
    pub fn kv_keys(&self, plugin: &str) -> Result<Vec<String>, StoreError> {
        let p = kv_key(plugin, "")?;
        self.kv()
            .scan_prefix(p.as_bytes())
            .map(|r| r.map(|(k, _)| String::from_utf8_lossy(&k[p.len()..]).into_owned()))
            .collect()
    }

    /// An announcement by id (convenience for the API).
    pub fn announcement(&self, id: &str) -> Result<Option<Announcement>, StoreError> {
        self.get::<Announcement>(id)
    }

}
