//! Outbound calling: SIP trunks (`[[trunk]]`), the dial-plan guard (`[dialplan]`), campaigns
//! wired to the trunk (the dialer of `courtyard-campaigns` placing real calls), click-to-call
//! and missed-call call-back, and their API routes.
//!
//! Every outbound call goes through [`dial_external`]: guard first (refusals audited as
//! `dial.refused`), then the trunk's limits, then the INVITE.
//!
//! **For blind transfer to an external number** (the agents/transfer code): call
//! [`dial_external`] with the caller's number as `caller_id` and an actor such as
//! `"plugin:<flow>"` or `"agent:<id>"`; on [`DialOutcome::Answered`] hand the returned
//! `AgentCall` to `crate::call::connect::talk` (keep the [`trunk::TrunkSlot`] alive until `talk`
//! returns — dropping it frees the trunk's concurrency slot). A refused destination comes back as
//! `DialOutcome::Rejected { status: 403, .. }` with the guard's reason.

pub mod api;
pub mod campaigns;
pub mod guard;
pub mod health;
pub mod leg;
pub mod originate;
pub mod target_list;
pub mod trunk;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use courtyard_campaigns::CampaignHandle;
use parking_lot::Mutex;

use crate::app::Shared;
use crate::config::Config;
use guard::{DialPlan, Refused};
use trunk::{DialOutcome, Trunk};

/// The node's outbound side: trunks, dial plan and running campaigns.
pub struct Outbound {
    trunks: Vec<Arc<Trunk>>,
    plan: DialPlan,
    /// Campaigns started on this node, by id.
    pub(crate) campaigns: Mutex<HashMap<String, CampaignHandle>>,
}

impl Outbound {
    /// Trunks and the dial plan from the configuration (already validated).
    pub fn new(cfg: &Config) -> anyhow::Result<Outbound> {
        let extensions: Vec<String> = cfg.agents.iter().map(|a| a.extension.clone()).collect();
        let plan = DialPlan::new(&cfg.dialplan, &extensions).map_err(|e| anyhow::anyhow!(e))?;
        Ok(Outbound {
            trunks: cfg.trunks.iter().cloned().map(|t| Arc::new(Trunk::new(t))).collect(),
            plan,
            campaigns: Mutex::new(HashMap::new()),
        })
    }

    /// A trunk by name; the empty name is the first configured trunk.
    pub fn trunk(&self, name: &str) -> Option<Arc<Trunk>> {
        if name.is_empty() { self.trunks.first().cloned() } else { self.trunks.iter().find(|t| t.cfg.name == name).cloned() }
    }

    /// Every configured trunk.
    pub fn trunks(&self) -> &[Arc<Trunk>] {
        &self.trunks
    }

    /// The dial-plan guard without auditing (campaign import checks a whole list at once).
    pub fn plan(&self) -> &DialPlan {
        &self.plan
    }
}

/// Checks `number` against the dial plan on behalf of `actor` (`"campaign:<id>"`,
/// `"agent:<id>"`, `"plugin:<flow>"`, an API user name); a refusal is logged and audited.
pub async fn check_destination(shared: &Shared, number: &str, actor: &str) -> Result<String, Refused> {
    match shared.outbound.plan.check(number) {
        Ok(n) => Ok(n),
        Err(r) => {
            tracing::warn!(%actor, destination = %r.shown, reason = %r.reason, "dial-plan guard refused a destination");
            shared.audit(actor, "dial.refused", &r.shown, Some(r.reason.clone())).await;
            Err(r)
        }
    }
}

/// Dials `number` out through `trunk` (empty = the first trunk) after the dial-plan guard:
/// the one way the runtime calls an external number. `caller_id` empty = the trunk's.
pub async fn dial_external(
    shared: &Arc<Shared>,
    trunk: &str,
    number: &str,
    caller_id: &str,
    actor: &str,
    ring_timeout: Duration,
) -> DialOutcome {
    let number = match check_destination(shared, number, actor).await {
        Ok(n) => n,
        Err(r) => return DialOutcome::Rejected { status: 403, reason: r.to_string() },
    };
    let Some(t) = shared.outbound.trunk(trunk) else {
        return DialOutcome::Rejected {
            status: 503,
            reason: if trunk.is_empty() { "no [[trunk]] is configured".into() } else { format!("no trunk named '{trunk}'") },
        };
    };
    t.dial(&shared.sip, &shared.ports, shared.rtp_ip(), &number, caller_id, ring_timeout).await
}

/// Starts the outbound side once the node is up: the trunks' OPTIONS keep-alives, and resumes the campaigns stored as running or
/// paused (each on its own task, with its stored progress).
pub fn start(shared: &Arc<Shared>) {
    health::start(shared);
    campaigns::resume_stored(shared);
}

/// Stops every campaign's scheduler, keeping their stored state for the next start. Calls in
/// progress get up to 20 s to finish; one cut off counts as an interrupted attempt on resume.
pub async fn shutdown(shared: &Shared) {
    let handles: Vec<CampaignHandle> = shared.outbound.campaigns.lock().drain().map(|(_, h)| h).collect();
    let all = futures::future::join_all(handles.iter().map(|h| h.shutdown()));
    if tokio::time::timeout(Duration::from_secs(20), all).await.is_err() {
        tracing::warn!("campaign calls still in progress after 20 s; stopping anyway");
    }
}

/// Checks `[[trunk]]` entries (unique names, host:port, limits) and compiles `[dialplan]`.
pub fn validate_config(cfg: &Config) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for t in &cfg.trunks {
        t.validate()?;
        if !names.insert(t.name.as_str()) {
            return Err(format!("[[trunk]] '{}' is defined twice", t.name));
        }
    }
    DialPlan::new(&cfg.dialplan, &[]).map(|_| ())
}
