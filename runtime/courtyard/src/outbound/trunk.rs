//! SIP trunks for outbound calls: `[[trunk]]` configuration, the per-trunk limits (concurrent
//! calls, calls per second) and [`Trunk::dial`], which places one INVITE and reports how it ended.
//!
//! The limits here are the trunk's own hard caps, shared by every user of the trunk (campaigns,
//! click-to-call, transfers): a campaign paces itself below them, but two campaigns plus agents
//! must still never exceed what the carrier allows. A call over the concurrency cap is refused
//! at once ([`DialOutcome::Failed`], "trunk at capacity") rather than queued, so the caller —
//! a campaign's retry policy, an API user — decides; the calls-per-second cap delays the INVITE
//! to the next free slot.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use courtyard_media::{MediaConfig, MediaSession, PortAllocator};
use courtyard_sip::sdp::LocalMedia;
use courtyard_sip::{CallProgress, Endpoint, Negotiated, OutboundCall, OutboundInvite};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::health::{DOWN_AFTER, HealthCell, TrunkState};
use crate::call::agent::AgentCall;

/// `[[trunk]]`: a SIP trunk (carrier or PBX) outbound calls are sent to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Name campaigns and the API refer to.
    pub name: String,
    /// `host:port` of the trunk's SIP server (UDP); the request URI is `sip:<number>@<host>`.
    pub host: String,
    /// Digest user name for 401/407 challenges (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// Digest password.
    #[serde(default)]
    pub password: Option<String>,
    /// Caller number presented (From user) when the campaign or API gives none.
    #[serde(default)]
    pub caller_id: String,
    /// Most calls up at once on this trunk (ringing or talking).
    #[serde(default = "default_max_calls")]
    pub max_concurrent: u32,
    /// Most new calls per second (INVITEs are spaced `1 / calls_per_second` apart).
    #[serde(default = "default_cps")]
    pub calls_per_second: f64,
    /// Seconds between OPTIONS keep-alives (trunk health, see `health.rs`); 0 = off.
    #[serde(default = "default_options_interval")]
    pub options_interval_secs: u64,
}

fn default_max_calls() -> u32 {
    10
}
fn default_cps() -> f64 {
    5.0
}
fn default_options_interval() -> u64 {
    30
}

impl TrunkConfig {
    /// Checks one trunk entry (called from the config's validation).
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("[[trunk]] name is empty".into());
        }
        let host_ok = self.host.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
        if !host_ok || self.host.contains(['@', ';', ' ', '/']) {
            return Err(format!("[[trunk]] '{}' host '{}' must be host:port", self.name, self.host));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(format!("[[trunk]] '{}': username and password go together", self.name));
        }
        if self.max_concurrent == 0 || !(self.calls_per_second > 0.0 && self.calls_per_second.is_finite()) {
            return Err(format!("[[trunk]] '{}': max_concurrent and calls_per_second must be above 0", self.name));
        }
        Ok(())
    }
}

/// How one outbound INVITE ended.
pub enum DialOutcome {
    /// Answered: the far end's dialog and our RTP session (bridge it or run a flow on it). The
    /// trunk slot is released when the returned [`TrunkSlot`] is dropped.
    Answered(AgentCall, TrunkSlot),
    /// 486/600.
    Busy,
    /// Rang out (our ring timeout and CANCEL), 408, 480, 487.
    NoAnswer,
    /// Refused by the network or by the dial-plan guard (never retried).
    Rejected {
        /// SIP status (403 for the guard).
        status: u16,
        /// Reason.
        reason: String,
    },
    /// Trunk or transport trouble; worth a later retry.
    Failed(String),
}

/// A taken concurrency slot on a trunk; dropping it frees the slot.
pub struct TrunkSlot(#[allow(dead_code)] OwnedSemaphorePermit);

/// A configured trunk with its live limits.
pub struct Trunk {
    /// Its configuration.
    pub cfg: TrunkConfig,
    /// Reachability from the OPTIONS keep-alive.
    pub health: HealthCell,
    slots: Arc<Semaphore>,
    next_invite: tokio::sync::Mutex<tokio::time::Instant>,
}

/// Longest wait for a calls-per-second slot before the call is refused as "trunk busy".
const MAX_PACING_WAIT: Duration = Duration::from_secs(10);

impl Trunk {
    /// A trunk from its configuration.
    pub fn new(cfg: TrunkConfig) -> Trunk {
        let slots = Arc::new(Semaphore::new(cfg.max_concurrent as usize));
        let health = HealthCell::new(cfg.options_interval_secs);
        Trunk { cfg, health, slots, next_invite: tokio::sync::Mutex::new(tokio::time::Instant::now()) }
    }

    /// Calls up on this trunk now.
    pub fn active_calls(&self) -> u32 {
        self.cfg.max_concurrent.saturating_sub(self.slots.available_permits() as u32)
    }

    /// Places one INVITE to `number` (already accepted by the dial-plan guard) presenting
    /// `caller_id` (empty = the trunk's), rings up to `ring_timeout`, and reports the outcome.
    /// Dropping the future while it rings sends CANCEL.
    pub async fn dial(
        &self,
        sip: &Endpoint,
        ports: &PortAllocator,
        rtp_ip: IpAddr,
        number: &str,
        caller_id: &str,
        ring_timeout: Duration,
    ) -> DialOutcome {
        if self.health.get().state == TrunkState::Down {
            return DialOutcome::Failed(format!(
                "trunk down: '{}' answered none of its last {DOWN_AFTER} OPTIONS keep-alives",
                self.cfg.name
            ));
        }
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            return DialOutcome::Failed(format!("trunk '{}' at capacity ({} calls)", self.cfg.name, self.cfg.max_concurrent));
        };
        // Calls-per-second: reserve the next INVITE slot, then wait for it.
        let wait = {
            let mut next = self.next_invite.lock().await;
            let now = tokio::time::Instant::now();
            let at = (*next).max(now);
            *next = at + Duration::from_secs_f64(1.0 / self.cfg.calls_per_second);
            at - now
        };
        if wait > MAX_PACING_WAIT {
            return DialOutcome::Failed(format!("trunk '{}' calls-per-second limit: no slot within 10 s", self.cfg.name));
        }
        tokio::time::sleep(wait).await;

        let media = match crate::media_rt::open(ports, MediaConfig::default()).await {
            Ok(m) => m,
            Err(e) => return DialOutcome::Failed(format!("no RTP port: {e}")),
        };
        let caller = if caller_id.is_empty() { self.cfg.caller_id.as_str() } else { caller_id };
        let mut inv = OutboundInvite::new(
            format!("sip:{number}@{}", self.cfg.host),
            caller,
            LocalMedia::new(rtp_ip, media.local_addr().port()),
        );
        if let (Some(u), Some(p)) = (&self.cfg.username, &self.cfg.password) {
            inv.credentials = Some((u.clone(), p.clone()));
        }
        let call = match sip.invite(inv).await {
            Ok(c) => c,
            Err(e) => {
                media.close().await;
                return DialOutcome::Failed(format!("INVITE could not be sent: {e}"));
            }
        };
        let mut guard = CancelOnDrop(Some(call));
        let answer = tokio::time::timeout(ring_timeout, async {
            let Some(call) = guard.0.as_mut() else { return Err((0, "no call".to_string())) };
            while let Some(p) = call.next().await {
                match p {
                    CallProgress::Answered { dialog, negotiated } => return Ok((dialog, negotiated)),
                    CallProgress::Failed { status, reason } => return Err((status, reason)),
                    _ => {}
                }
            }
            Err((0, "call ended without a final response".to_string()))
        })
        .await;
        match answer {
            Ok(Ok((dialog, negotiated))) => {
                guard.0.take();
                set_remote(&media, negotiated.or_else(|| dialog.media()));
                DialOutcome::Answered(AgentCall { agent_id: number.to_string(), dialog, media }, TrunkSlot(permit))
            }
            Ok(Err((status, reason))) => {
                guard.0.take();
                media.close().await;
                match status {
                    0 => DialOutcome::Failed(reason),
                    486 | 600 => DialOutcome::Busy,
                    408 | 480 | 487 => DialOutcome::NoAnswer,
                    500..=599 => DialOutcome::Failed(format!("{status} {reason}")),
                    _ => DialOutcome::Rejected { status, reason },
                }
            }
            Err(_) => {
                // Ring timeout: CANCEL and wait (briefly) for the 487 so the transaction ends
                // before the slot is reused.
                if let Some(mut call) = guard.0.take() {
                    call.cancel().await;
                    let _ = tokio::time::timeout(Duration::from_secs(4), async {
                        while let Some(p) = call.next().await {
                            if matches!(p, CallProgress::Failed { .. } | CallProgress::Answered { .. }) {
                                if let CallProgress::Answered { mut dialog, .. } = p {
                                    // Answered as we cancelled: hang up at once.
                                    let _ = dialog.hangup().await;
                                }
                                break;
                            }
                        }
                    })
                    .await;
                }
                media.close().await;
                DialOutcome::NoAnswer
            }
        }
    }
}

fn set_remote(media: &MediaSession, n: Option<Negotiated>) {
    match n.and_then(|n| n.remote_rtp.map(|a| (a, n.codec, n.telephone_event))) {
        Some((addr, codec, te)) => media.set_remote(addr, crate::call::media_codec(codec), te),
        None => tracing::warn!("the callee answered without usable SDP; waiting for its RTP"),
    }
}

/// Sends CANCEL for a still-ringing INVITE when the dial future is dropped (a campaign's guard
/// timer, an API request given up).
struct CancelOnDrop(Option<OutboundCall>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(mut out) = self.0.take() {
            tokio::spawn(async move { out.cancel().await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trunk(host: &str) -> TrunkConfig {
        TrunkConfig {
            name: "t".into(),
            host: host.into(),
            username: None,
            password: None,
            caller_id: String::new(),
            max_concurrent: 1,
            calls_per_second: 1.0,
            options_interval_secs: 0,
        }
    }

    #[test]
    fn trunk_host_must_be_host_port_without_uri_tricks() {
        assert!(trunk("10.0.0.1:5060").validate().is_ok());
        assert!(trunk("sip.carrier.example:5080").validate().is_ok());
        for bad in ["10.0.0.1", "a@b:5060", "h;transport=tcp:5060", ":5060", "h:99999"] {
            assert!(trunk(bad).validate().is_err(), "{bad}");
        }
        let mut t = trunk("h:5060");
        t.username = Some("u".into());
        assert!(t.validate().unwrap_err().contains("go together"));
    }
}
