//! Missed and abandoned calls (未接来电), kept with the caller number for quick call-back.
//!
//! A call is "missed" when it left the queue without reaching an agent: the caller hung up, the
//! maximum wait passed, it overflowed to voicemail/callback, or the caller asked for a callback.
//! Short abandons are recorded too (flagged `short`), since a caller who hung up after two seconds
//! may still want a call back; the console can hide them. The list is bounded; the lead persists
//! records from [`AcdEvent::MissedCallRecorded`](crate::events::AcdEvent::MissedCallRecorded).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Why a call was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissedReason {
    /// The caller hung up while waiting.
    Abandoned,
    /// The maximum wait passed (or nobody could serve the call).
    Timeout,
    /// Overflowed to voicemail or a callback task.
    Overflow,
    /// The caller pressed the callback option.
    CallbackRequested,
}

/// One missed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedCall {
    /// Call id.
    pub call_id: String,
    /// Number to call back.
    pub caller: String,
    /// Queue the call was in.
    pub queue: String,
    /// When it was missed (ms since the Unix epoch).
    pub at_ms: u64,
    /// How long the caller waited, ms.
    pub waited_ms: u64,
    /// Why.
    pub reason: MissedReason,
    /// Abandoned before the queue's short-abandon threshold.
    pub short: bool,
    /// Set by `mark_called_back` once an agent returned the call.
    pub called_back: bool,
}

/// Bounded list of missed calls, newest last.
#[derive(Debug, Clone)]
pub(crate) struct MissedList {
    items: VecDeque<MissedCall>,
    limit: usize,
}

impl MissedList {
    pub fn new(limit: usize) -> Self {
        Self { items: VecDeque::new(), limit: limit.max(1) }
    }

    pub fn push(&mut self, m: MissedCall) {
        if self.items.len() == self.limit {
            self.items.pop_front();
        }
        self.items.push_back(m);
    }

    /// Missed calls, newest first; with `only_open`, those not yet called back.
    pub fn list(&self, only_open: bool) -> Vec<MissedCall> {
        self.items.iter().rev().filter(|m| !only_open || !m.called_back).cloned().collect()
    }

    /// Mark every missed record of `call_id` as called back; false if none matched.
    pub fn mark_called_back(&mut self, call_id: &str) -> bool {
        let mut found = false;
        for m in self.items.iter_mut().filter(|m| m.call_id == call_id) {
            m.called_back = true;
            found = true;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str) -> MissedCall {
        MissedCall {
            call_id: id.into(),
            caller: "13800000000".into(),
            queue: "q".into(),
            at_ms: 0,
            waited_ms: 0,
            reason: MissedReason::Abandoned,
            short: false,
            called_back: false,
        }
    }

    #[test]
    fn bounded_newest_first_and_call_back_marking() {
        let mut l = MissedList::new(2);
        l.push(m("a"));
        l.push(m("b"));
        l.push(m("c"));
        let ids: Vec<_> = l.list(false).into_iter().map(|m| m.call_id).collect();
        assert_eq!(ids, ["c", "b"]);
        assert!(l.mark_called_back("b"));
        assert!(!l.mark_called_back("a"), "evicted");
        let open: Vec<_> = l.list(true).into_iter().map(|m| m.call_id).collect();
        assert_eq!(open, ["c"]);
    }
}
