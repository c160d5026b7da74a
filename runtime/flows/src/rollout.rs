//! Staged rollout of a new flow version: a share of calls (by percentage, or every call of some
//! estates) runs the candidate while the rest stays on the active version, so an operator can
//! compare the two side by side before promoting the candidate to every estate.
//!
//! The choice is deterministic per call key (the SIP Call-ID): a call never changes version, and
//! the same key always lands on the same side of the split.

use std::sync::Arc;

use serde::Serialize;

use crate::version::FlowVersion;

/// What a call offers for choosing its version.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallPick<'a> {
    /// A stable key for the call (SIP Call-ID): the percentage split hashes it.
    pub key: &'a str,
    /// The estate the call belongs to, when the route names one.
    pub estate: Option<&'a str>,
}

/// The candidate version and which calls get it.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// The candidate version.
    pub version: Arc<FlowVersion>,
    /// Share of all calls (0–100) routed to the candidate.
    pub percent: u8,
    /// Estates whose every call goes to the candidate.
    pub estates: Vec<String>,
}

/// A rollout as the API and console show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolloutInfo {
    /// Share of all calls (0–100).
    pub percent: u8,
    /// Estates on the candidate.
    pub estates: Vec<String>,
}

impl Rollout {
    /// Whether this call should run the candidate.
    pub fn takes(&self, pick: &CallPick<'_>) -> bool {
        if pick.estate.is_some_and(|e| self.estates.iter().any(|x| x == e)) {
            return true;
        }
        self.percent > 0 && bucket(pick.key) < u32::from(self.percent.min(100))
    }

    /// The public view.
    pub fn info(&self) -> RolloutInfo {
        RolloutInfo { percent: self.percent, estates: self.estates.clone() }
    }
}

/// A stable bucket 0..100 for a call key (FNV-1a: fixed across runs and platforms).
fn bucket(key: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % 100
}

#[cfg(test)]
mod tests {
    use super::bucket;

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(bucket("a@b"), bucket("a@b"));
        let mut counts = [0u32; 10];
        for i in 0..10_000 {
            counts[(bucket(&format!("call-{i}@10.0.0.1")) / 10) as usize] += 1;
        }
        // Each tenth of the range gets roughly a tenth of the keys.
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
    }
}
