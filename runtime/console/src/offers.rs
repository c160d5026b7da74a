//! Recent `offer_started` events, kept server-side so the browser of a masked agent never needs
//! the caller's full number: screen-pop and "work order from this call" name the call id and the
//! console fills in the number it saw in the event.

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

/// One offer of a call to an agent, as announced by the ACD before the phone rings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferRecord {
    /// Call id.
    pub call_id: String,
    /// Queue the call waited in.
    pub queue: String,
    /// Agent being offered the call.
    pub agent_id: String,
    /// Full caller number (never sent to a masked viewer).
    #[serde(skip)]
    pub caller: String,
    /// The flow's screen-pop reference (e.g. resident id).
    pub data_ref: Option<String>,
    /// Seconds the caller had waited.
    pub waited_secs: u64,
    /// When the offer started (ms since epoch).
    pub at_ms: u64,
}

impl OfferRecord {
    /// Parse an `offer_started` event; `None` for any other event.
    pub fn from_event(v: &Value) -> Option<OfferRecord> {
        if v.get("type")?.as_str()? != "offer_started" {
            return None;
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(OfferRecord {
            call_id: s("call_id")?,
            queue: s("queue").unwrap_or_default(),
            agent_id: s("agent_id")?,
            caller: s("caller")?,
            data_ref: s("data_ref"),
            waited_secs: v.get("waited_secs").and_then(Value::as_u64).unwrap_or(0),
            at_ms: v.get("at_ms").and_then(Value::as_u64).unwrap_or(0),
        })
    }
}

/// Bounded, newest-last list of offers.
pub(crate) struct OfferBook {
    items: Mutex<VecDeque<OfferRecord>>,
    limit: usize,
    added: Notify,
}

impl OfferBook {
    pub(crate) fn new(limit: usize) -> Self {
        OfferBook { items: Mutex::new(VecDeque::new()), limit, added: Notify::new() }
    }

    pub(crate) fn push(&self, o: OfferRecord) {
        let mut items = self.items.lock();
        if items.len() >= self.limit {
            items.pop_front();
        }
        items.push_back(o);
        drop(items);
        self.added.notify_waiters();
    }

    /// The newest offer of `call_id`.
    pub(crate) fn get(&self, call_id: &str) -> Option<OfferRecord> {
        self.items.lock().iter().rev().find(|o| o.call_id == call_id).cloned()
    }

    /// The newest offer of `call_id`, waiting up to `wait` for it: the browser receives the event
    /// over its WebSocket at the same moment as the recorder task, and may ask first.
    pub(crate) async fn wait_for(&self, call_id: &str, wait: Duration) -> Option<OfferRecord> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.added.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(o) = self.get(call_id) {
                return Some(o);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.get(call_id);
            }
        }
    }
}

/// Record every offer published on the channel (runs until the channel closes).
pub(crate) fn spawn_recorder(book: Arc<OfferBook>, mut rx: broadcast::Receiver<Value>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        tracing::error!("courtyard_console::router called outside a tokio runtime: screen-pop disabled");
        return;
    };
    rt.spawn(async move {
        loop {
            match rx.recv().await {
                Ok(v) => {
                    if let Some(o) = OfferRecord::from_event(&v) {
                        book.push(o);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(skipped = n, "console offer recorder lagged"),
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offer_started_only() {
        let ev = serde_json::json!({"type":"offer_started","at_ms":5,"call_id":"c1","queue":"repairs","agent_id":"8001",
            "extension":"8001","caller":"13800138000","data_ref":"r1","waited_secs":3});
        let o = OfferRecord::from_event(&ev).unwrap();
        assert_eq!((o.call_id.as_str(), o.caller.as_str(), o.data_ref.as_deref(), o.waited_secs), ("c1", "13800138000", Some("r1"), 3));
        assert!(OfferRecord::from_event(&serde_json::json!({"type":"call_queued","call_id":"c1"})).is_none());
        // The full number is never serialized.
        assert!(!serde_json::to_string(&o).unwrap().contains("13800138000"));
    }

    #[tokio::test]
    async fn book_is_bounded_and_waits_for_late_offer() {
        let book = Arc::new(OfferBook::new(2));
        let mk = |id: &str| OfferRecord { call_id: id.into(), queue: "q".into(), agent_id: "a".into(), caller: "1".into(), data_ref: None, waited_secs: 0, at_ms: 0 };
        book.push(mk("a"));
        book.push(mk("b"));
        book.push(mk("c"));
        assert!(book.get("a").is_none());
        assert!(book.get("c").is_some());
        let b2 = book.clone();
        let late = tokio::spawn(async move { b2.wait_for("d", Duration::from_secs(5)).await });
        tokio::task::yield_now().await;
        book.push(mk("d"));
        assert_eq!(late.await.unwrap().map(|o| o.call_id), Some("d".to_string()));
        assert!(book.wait_for("zzz", Duration::from_millis(10)).await.is_none());
    }
}
