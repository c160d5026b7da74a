//! Which ready agent gets the call: the queue's strategy, applied to the eligible candidates.
//!
//! Eligibility (logged in, ready, queue membership, skills at their levels, not recently tried
//! for this call) is decided by the router; a strategy only orders the eligible. Ties always fall
//! back to "longest idle", then registration order, so every choice is deterministic.
//!
//! The sticky agent (老客户直接转接到以前曾与之通过话的客服人员) is not a strategy but a
//! reservation the router applies before any strategy: see `QueueConfig::sticky_secs`.

use serde::{Deserialize, Serialize};

/// How a queue picks among ready, eligible agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The agent idle the longest (since their last call or 示闲) — the fairest default.
    #[default]
    LongestIdle,
    /// Agents in registration order, continuing after the one offered last in this queue.
    RoundRobin,
    /// The agent who answered the fewest calls today (local day), spreading the work.
    FewestCalls,
    /// The agent with the highest summed level in the call's required skills.
    SkillsBased,
}

/// What a strategy may look at for one eligible agent.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub ordinal: u64,
    pub idle_since_ms: u64,
    pub calls_today: u32,
    pub skill_score: u32,
}

/// Index of the chosen candidate, or `None` when there are none.
///
/// `rr_last` is the ordinal of the agent this queue offered last (round-robin only).
pub(crate) fn choose(strategy: Strategy, cands: &[Candidate], rr_last: Option<u64>) -> Option<usize> {
    let idle_then_order = |c: &Candidate| (c.idle_since_ms, c.ordinal);
    let idx = cands.iter().enumerate();
    match strategy {
        Strategy::LongestIdle => idx.min_by_key(|(_, c)| idle_then_order(c)).map(|(i, _)| i),
        Strategy::FewestCalls => {
            idx.min_by_key(|(_, c)| (c.calls_today, idle_then_order(c))).map(|(i, _)| i)
        }
        Strategy::SkillsBased => idx
            .min_by_key(|(_, c)| (std::cmp::Reverse(c.skill_score), idle_then_order(c)))
            .map(|(i, _)| i),
        Strategy::RoundRobin => {
            // First ordinal strictly after the last one offered, wrapping to the smallest.
            let after = |c: &Candidate| match rr_last {
                Some(last) if c.ordinal <= last => (1u8, c.ordinal),
                _ => (0u8, c.ordinal),
            };
            idx.min_by_key(|(_, c)| after(c)).map(|(i, _)| i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(ordinal: u64, idle: u64, calls: u32, score: u32) -> Candidate {
        Candidate { ordinal, idle_since_ms: idle, calls_today: calls, skill_score: score }
    }

    #[test]
    fn each_strategy_orders_candidates_as_documented() {
        let cands = vec![c(0, 300, 5, 3), c(1, 100, 7, 9), c(2, 200, 1, 9), c(3, 50, 1, 2)];
        assert_eq!(choose(Strategy::LongestIdle, &cands, None), Some(3));
        // Fewest calls: ordinals 2 and 3 tie at 1 call; 3 has been idle longer.
        assert_eq!(choose(Strategy::FewestCalls, &cands, None), Some(3));
        // Skills: 1 and 2 tie at score 9; 1 idle since 100, i.e. longer.
        assert_eq!(choose(Strategy::SkillsBased, &cands, None), Some(1));
        assert_eq!(choose(Strategy::RoundRobin, &cands, None), Some(0));
        assert_eq!(choose(Strategy::RoundRobin, &cands, Some(1)), Some(2));
        assert_eq!(choose(Strategy::RoundRobin, &cands, Some(3)), Some(0), "wraps around");
        assert_eq!(choose(Strategy::LongestIdle, &[], None), None);
    }
}
