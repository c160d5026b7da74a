//! Concurrent-call limits per caller number and per source (trunk) address, configured in
//! `[limits]`: one caller redialling in a loop, or one trunk sending more calls than it is
//! contracted for, cannot take every line. A refused call gets 486 (the caller's own limit:
//! "busy") or 503 (the trunk's limit: "try another route"), with the reason in the status text,
//! and is counted in `/metrics`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use serde::Deserialize;

/// `[limits]`: concurrent calls in progress (answered or ringing in the runtime) at once.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Most calls at once from one caller number (0 = no limit). Over it: 486.
    pub max_calls_per_caller: u32,
    /// Most calls at once from one source IP (a trunk or PBX; 0 = no limit). Over it: 503.
    pub max_calls_per_source: u32,
    /// Per-source overrides by IP address, e.g. `{ "192.0.2.10" = 300 }` for a big trunk.
    pub sources: BTreeMap<String, u32>,
}

/// Why a call was refused, as the SIP status to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 486 or 503.
    pub code: u16,
    /// Reason phrase naming the limit.
    pub reason: &'static str,
}

/// Calls in progress per caller and per source, and refusals so far.
#[derive(Default)]
pub struct CallCounts {
    by_caller: Mutex<HashMap<String, u32>>,
    by_source: Mutex<HashMap<IpAddr, u32>>,
    refused_caller: AtomicU64,
    refused_source: AtomicU64,
    refused_media: AtomicU64,
}

/// The node's counters (one per process).
pub fn counts() -> &'static CallCounts {
    static COUNTS: LazyLock<CallCounts> = LazyLock::new(CallCounts::default);
    &COUNTS
}

/// A call's place in the counts; released when dropped (whatever way the call ends).
pub struct Slot {
    counts: &'static CallCounts,
    caller: String,
    source: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        dec(&mut self.counts.by_caller.lock(), &self.caller);
        dec(&mut self.counts.by_source.lock(), &self.source);
    }
}

fn dec<K: std::hash::Hash + Eq>(m: &mut HashMap<K, u32>, k: &K) {
    if let Some(v) = m.get_mut(k) {
        *v = v.saturating_sub(1);
        if *v == 0 {
            m.remove(k);
        }
    }
}

impl CallCounts {
    /// Takes a slot for a new call, or says which limit it would break.
    pub fn admit(&'static self, cfg: &LimitsSection, caller: &str, source: IpAddr) -> Result<Slot, Refusal> {
        let src_limit = cfg.sources.get(&source.to_string()).copied().unwrap_or(cfg.max_calls_per_source);
        let mut by_source = self.by_source.lock();
        let mut by_caller = self.by_caller.lock();
        if src_limit > 0 && by_source.get(&source).copied().unwrap_or(0) >= src_limit {
            self.refused_source.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal { code: 503, reason: "Service Unavailable (source concurrent call limit)" });
        }
        if cfg.max_calls_per_caller > 0 && !caller.is_empty() && by_caller.get(caller).copied().unwrap_or(0) >= cfg.max_calls_per_caller {
            self.refused_caller.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal { code: 486, reason: "Busy Here (caller concurrent call limit)" });
        }
        *by_source.entry(source).or_insert(0) += 1;
        *by_caller.entry(caller.to_string()).or_insert(0) += 1;
        Ok(Slot { counts: self, caller: caller.to_string(), source })
    }

    /// Counts a call refused because the media threads are overloaded (`[media] max_load`).
    pub fn refused_for_media_load(&self) {
        self.refused_media.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls refused because the media threads were overloaded.
    pub fn refused_by_media_load(&self) -> u64 {
        self.refused_media.load(Ordering::Relaxed)
    }

    /// Calls refused by the per-caller limit.
    pub fn refused_by_caller_limit(&self) -> u64 {
        self.refused_caller.load(Ordering::Relaxed)
    }

    /// Calls refused by the per-source limit.
    pub fn refused_by_source_limit(&self) -> u64 {
        self.refused_source.load(Ordering::Relaxed)
    }

    /// Distinct sources with calls in progress (a cardinality hint, not per-IP labels).
    pub fn active_sources(&self) -> usize {
        self.by_source.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaked() -> &'static CallCounts {
        Box::leak(Box::new(CallCounts::default()))
    }

    #[test]
    fn caller_and_source_limits_refuse_with_their_reason_and_free_on_drop() {
        let c = leaked();
        let cfg = LimitsSection { max_calls_per_caller: 2, max_calls_per_source: 3, sources: BTreeMap::from([("10.0.0.9".into(), 1)]) };
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = c.admit(&cfg, "13800138000", ip).unwrap();
        let _b = c.admit(&cfg, "13800138000", ip).unwrap();
        let r = c.admit(&cfg, "13800138000", ip).err().unwrap();
        assert_eq!(r.code, 486);
        let _x = c.admit(&cfg, "13900000000", ip).unwrap();
        let r = c.admit(&cfg, "13700000000", ip).err().unwrap();
        assert_eq!(r.code, 503, "fourth call from the source");
        drop(a);
        assert!(c.admit(&cfg, "13800138000", ip).is_ok(), "a finished call frees its slots");
        let big: IpAddr = "10.0.0.9".parse().unwrap();
        let _t = c.admit(&cfg, "1", big).unwrap();
        assert_eq!(c.admit(&cfg, "2", big).err().unwrap().code, 503, "per-source override");
        assert_eq!((c.refused_by_caller_limit(), c.refused_by_source_limit()), (1, 2));
    }

    #[test]
    fn zero_means_unlimited() {
        let c = leaked();
        let cfg = LimitsSection::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let slots: Vec<Slot> = (0..100).map(|_| c.admit(&cfg, "13800138000", ip).unwrap()).collect();
        assert_eq!(slots.len(), 100);
    }
}
