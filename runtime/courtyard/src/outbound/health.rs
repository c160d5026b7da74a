//! Trunk health: an OPTIONS keep-alive per `[[trunk]]` every `options_interval_secs` (0 = off).
//!
//! Any final response — 200, but also 404/405/403 from an ITSP that does not serve OPTIONS —
//! means the trunk's SIP server is reachable, so the trunk is `up`; [`DOWN_AFTER`] probes in a
//! row without a response mark it `down`. A call placed on a `down` trunk fails at once with
//! "trunk down" instead of waiting out the INVITE's 32 s timeout: the campaign counts a failed
//! attempt (retried per its `failed` rule, so calls resume when the trunk comes back) and
//! click-to-call reports the reason straight away. Until the first probe ends the trunk is
//! `checking` and calls go out as usual; a trunk without keep-alive stays `configured`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Serialize;

use super::trunk::Trunk;
use crate::app::Shared;

/// Probes in a row without a response before a trunk is `down`.
pub const DOWN_AFTER: u32 = 3;
/// Longest wait for one OPTIONS response (shorter when the interval is shorter).
const MAX_PROBE_WAIT: Duration = Duration::from_secs(5);

/// What is known of a trunk's reachability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrunkState {
    /// Keep-alive off (`options_interval_secs = 0`): nothing is known.
    Configured,
    /// Keep-alive on, no probe has ended yet.
    Checking,
    /// The last probe got a response.
    Up,
    /// The last [`DOWN_AFTER`] probes got none.
    Down,
}

/// A trunk's health as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Current state.
    pub state: TrunkState,
    /// Unix ms when the last probe ended.
    pub last_checked: Option<i64>,
    /// Status of the last response (any code counts as reachable).
    pub last_response_code: Option<u16>,
    /// Round-trip time of the last answered probe.
    pub rtt_ms: Option<u64>,
    /// Probes in a row without a response.
    pub timeouts: u32,
}

/// The health record one trunk keeps, updated by its probe task.
pub struct HealthCell(Mutex<Health>);

impl HealthCell {
    /// The starting state for a trunk probed every `interval_secs` (0 = not probed).
    pub fn new(interval_secs: u64) -> HealthCell {
        let state = if interval_secs == 0 { TrunkState::Configured } else { TrunkState::Checking };
        HealthCell(Mutex::new(Health { state, last_checked: None, last_response_code: None, rtt_ms: None, timeouts: 0 }))
    }

    /// A copy of the current record.
    pub fn get(&self) -> Health {
        self.0.lock().clone()
    }

    /// Records one probe: `Some((status, rtt))` answered, `None` timed out.
    pub fn record(&self, reply: Option<(u16, Duration)>) {
        let mut h = self.0.lock();
        h.last_checked = Some(crate::call::record::now_ms());
        match reply {
            Some((status, rtt)) => {
                h.state = TrunkState::Up;
                h.timeouts = 0;
                h.last_response_code = Some(status);
                h.rtt_ms = Some(rtt.as_millis() as u64);
            }
            None => {
                h.timeouts = h.timeouts.saturating_add(1);
                if h.timeouts >= DOWN_AFTER {
                    h.state = TrunkState::Down;
                }
            }
        }
    }
}

/// Starts one keep-alive task per trunk with `options_interval_secs > 0`. The tasks hold the
/// node weakly and end with it.
pub fn start(shared: &Arc<Shared>) {
    for trunk in shared.outbound.trunks() {
        if trunk.cfg.options_interval_secs == 0 {
            continue;
        }
        tokio::spawn(keep_alive(Arc::downgrade(shared), trunk.clone()));
    }
}

async fn keep_alive(node: Weak<Shared>, trunk: Arc<Trunk>) {
    let interval = Duration::from_secs(trunk.cfg.options_interval_secs);
    let wait = interval.min(MAX_PROBE_WAIT);
    let target = format!("sip:{}", trunk.cfg.host);
    loop {
        let started = tokio::time::Instant::now();
        let Some(shared) = node.upgrade() else { return };
        let sip = shared.sip.clone();
        drop(shared);
        let reply = match sip.options_probe(&target, wait).await {
            Ok(r) => r.map(|r| (r.status, r.rtt)),
            Err(e) => {
                tracing::warn!(trunk = %trunk.cfg.name, error = %e, "trunk keep-alive cannot be sent");
                None
            }
        };
        let before = trunk.health.get().state;
        trunk.health.record(reply);
        let after = trunk.health.get().state;
        if before != after {
            tracing::info!(trunk = %trunk.cfg.name, state = ?after, "trunk health changed");
        }
        tokio::time::sleep_until(started + interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_response_is_up_three_silences_in_a_row_are_down() {
        assert_eq!(HealthCell::new(0).get().state, TrunkState::Configured);
        let h = HealthCell::new(30);
        assert_eq!(h.get().state, TrunkState::Checking);
        h.record(Some((405, Duration::from_millis(7))));
        let g = h.get();
        assert_eq!((g.state, g.last_response_code, g.rtt_ms), (TrunkState::Up, Some(405), Some(7)));
        h.record(None);
        h.record(None);
        assert_eq!(h.get().state, TrunkState::Up, "two silences are not yet down");
        h.record(None);
        assert_eq!(h.get().state, TrunkState::Down);
        assert_eq!(h.get().last_response_code, Some(405), "the last response stays visible");
        h.record(Some((200, Duration::from_millis(3))));
        assert_eq!((h.get().state, h.get().timeouts), (TrunkState::Up, 0));
    }
}
