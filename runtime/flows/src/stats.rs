//! Counters the console and metrics read: failures per plugin name + version + kind, and per
//! version call counts (so two versions of a flow can be compared side by side).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use parking_lot::Mutex;
use serde::Serialize;

use crate::policy::FailureKind;

/// One failure counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureCount {
    /// Plugin name.
    pub plugin: String,
    /// Plugin version label (declared version, or the version key).
    pub version: String,
    /// Failure kind.
    pub kind: FailureKind,
    /// How many times.
    pub count: u64,
}

/// Failure counts keyed by (plugin, version, kind).
#[derive(Debug, Default)]
pub(crate) struct FailureCounters {
    map: Mutex<BTreeMap<(String, String, FailureKind), u64>>,
}

impl FailureCounters {
    pub(crate) fn record(&self, plugin: &str, version: &str, kind: FailureKind) {
        *self.map.lock().entry((plugin.to_string(), version.to_string(), kind)).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> Vec<FailureCount> {
        self.map
            .lock()
            .iter()
            .map(|((plugin, version, kind), count)| FailureCount {
                plugin: plugin.clone(),
                version: version.clone(),
                kind: *kind,
                count: *count,
            })
            .collect()
    }
}

/// Live counters of one flow version.
#[derive(Debug, Default)]
pub(crate) struct VersionCounters {
    calls: AtomicU64,
    in_flight: AtomicU64,
    completed: AtomicU64,
    caller_hangups: AtomicU64,
    failures: AtomicU64,
    consecutive_failures: AtomicU32,
}

/// What a finished call did to a version's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallEnd {
    Completed,
    CallerHungUp,
    Failed,
}

impl VersionCounters {
    pub(crate) fn started(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Account a finished call; returns the consecutive failure count after it.
    pub(crate) fn finished(&self, end: CallEnd) -> u32 {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        match end {
            CallEnd::Completed => {
                self.completed.fetch_add(1, Ordering::Relaxed);
                self.consecutive_failures.store(0, Ordering::Relaxed);
                0
            }
            CallEnd::CallerHungUp => {
                self.caller_hangups.fetch_add(1, Ordering::Relaxed);
                self.consecutive_failures.store(0, Ordering::Relaxed);
                0
            }
            CallEnd::Failed => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1
            }
        }
    }

    pub(crate) fn snapshot(&self) -> CallCounts {
        CallCounts {
            calls: self.calls.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            caller_hangups: self.caller_hangups.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
        }
    }
}

/// Call counts of one flow version at a moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    /// Calls started on this version.
    pub calls: u64,
    /// Calls running now.
    pub in_flight: u64,
    /// Calls the plugin finished normally.
    pub completed: u64,
    /// Calls that ended because the caller hung up (not failures).
    pub caller_hangups: u64,
    /// Calls where the plugin failed (trap, timeout, memory, error, instantiate).
    pub failures: u64,
    /// Failures in a row since the last good call (the crash-loop breaker's input).
    pub consecutive_failures: u32,
}
