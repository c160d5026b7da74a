//! Flows by name, their versions, atomic activation, rollback and the crash-loop breaker.
//!
//! Activation swaps an `Arc<FlowVersion>` (arc-swap) that new calls load; a call holds the `Arc`
//! it started with until it ends, so hot swap and rollback never touch calls in progress. New
//! versions are prepared and canaried off the hot path before they can be activated. The
//! breaker watches the active version: when it fails `crash_loop_threshold` calls in a row, the
//! previous version is reactivated automatically.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;

use crate::engine::FlowHost;
use crate::grants::Capability;
use crate::host_api::{CallControl, Services};
use crate::instance::{CallOutcome, Entry};
use crate::rollout::{CallPick, Rollout, RolloutInfo};
use crate::stats::CallCounts;
use crate::version::{FlowKind, FlowVersion, InstallError, InstallSpec, VersionKey};
use crate::wit::Target;

/// Why a registry operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No flow by that name was installed.
    #[error("unknown flow '{0}'")]
    UnknownFlow(String),
    /// The flow has versions but none is active.
    #[error("flow '{0}' has no active version")]
    NoActiveVersion(String),
    /// No such version of the flow.
    #[error("flow '{flow}' has no version {key}")]
    UnknownVersion {
        /// Flow name.
        flow: String,
        /// The key asked for.
        key: String,
    },
    /// Rollback with nothing to roll back to.
    #[error("flow '{0}' has no previous version to roll back to")]
    NoPrevious(String),
    /// An inbound call to an outbound flow or vice versa.
    #[error("flow '{flow}' is an {kind:?} flow")]
    WrongKind {
        /// Flow name.
        flow: String,
        /// Its kind.
        kind: FlowKind,
    },
    /// The version is active and cannot be removed.
    #[error("version {key} of flow '{flow}' is active")]
    Active {
        /// Flow name.
        flow: String,
        /// The key.
        key: String,
    },
    /// The version still has calls running, or is the rollout candidate.
    #[error("version {key} of flow '{flow}' is in use ({why})")]
    InUse {
        /// Flow name.
        flow: String,
        /// The key.
        key: String,
        /// Calls in flight, or "rollout candidate".
        why: String,
    },
    /// A rollout share above 100 %.
    #[error("rollout percent must be 0–100, not {0}")]
    BadPercent(u32),
    /// Installing failed (from [`FlowRegistry::deploy`]).
    #[error(transparent)]
    Install(#[from] InstallError),
}

/// The result of one call through the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct CallReport {
    /// Flow name.
    pub flow: String,
    /// The version the call ran on.
    pub version: VersionKey,
    /// Its plugin version label.
    pub plugin_version: String,
    /// How it ended.
    pub outcome: CallOutcome,
}

/// A version as the console shows it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// Flow name.
    pub flow: String,
    /// Version key.
    pub key: VersionKey,
    /// Plugin name.
    pub plugin_name: String,
    /// Plugin version label.
    pub plugin_version: String,
    /// Inbound or outbound.
    pub kind: FlowKind,
    /// Whether new calls get this version.
    pub active: bool,
    /// The crash-loop breaker rolled this version back.
    pub tripped: bool,
    /// This version is the rollout candidate: which calls get it.
    pub rollout: Option<RolloutInfo>,
    /// When it was prepared.
    pub installed_at: SystemTime,
    /// Call counts.
    pub counts: CallCounts,
    /// The interfaces it is granted (what it may do).
    pub grants: Vec<Capability>,
    /// Interfaces declared unused and not granted: linked as traps.
    pub trapped_imports: Vec<Capability>,
}

#[derive(Default)]
struct SlotState {
    versions: BTreeMap<VersionKey, Arc<FlowVersion>>,
    /// Activation history, the active version last.
    history: Vec<VersionKey>,
    tripped: Vec<VersionKey>,
}

#[derive(Default)]
struct FlowSlot {
    active: ArcSwapOption<FlowVersion>,
    rollout: ArcSwapOption<Rollout>,
    state: Mutex<SlotState>,
}

/// All flows of this node; share it (`Arc<FlowRegistry>`) between SIP call handlers and the API.
pub struct FlowRegistry {
    host: FlowHost,
    flows: RwLock<HashMap<String, Arc<FlowSlot>>>,
}

impl std::fmt::Debug for FlowRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowRegistry").field("flows", &self.flow_names()).finish()
    }
}

impl FlowRegistry {
    /// An empty registry over this host.
    pub fn new(host: FlowHost) -> Self {
        FlowRegistry { host, flows: RwLock::new(HashMap::new()) }
    }

    /// The plugin host.
    pub fn host(&self) -> &FlowHost {
        &self.host
    }

    fn slot(&self, flow: &str) -> Result<Arc<FlowSlot>, RegistryError> {
        self.flows.read().get(flow).cloned().ok_or_else(|| RegistryError::UnknownFlow(flow.to_string()))
    }

    /// Prepare and canary a version (not activated). Installing the same code and config again
    /// returns the existing version.
    pub async fn install(&self, spec: InstallSpec) -> Result<Arc<FlowVersion>, InstallError> {
        let key = VersionKey::of(&crate::cache::sha256_hex(&spec.wasm), &spec.config_json);
        if let Ok(slot) = self.slot(&spec.flow)
            && let Some(v) = slot.state.lock().versions.get(&key)
        {
            return Ok(v.clone());
        }
        let flow = spec.flow.clone();
        let version = Arc::new(FlowVersion::prepare(&self.host, spec).await?);
        let slot = self.flows.write().entry(flow.clone()).or_default().clone();
        let mut st = slot.state.lock();
        let v = st.versions.entry(version.key.clone()).or_insert(version).clone();
        tracing::info!(flow = %flow, version_key = %v.key, plugin = %v.plugin_name, plugin_version = %v.plugin_version, cache = ?v.cache, "flow version installed");
        Ok(v)
    }

    /// Make a version the one new calls get (atomic; calls in progress keep theirs).
    pub fn activate(&self, flow: &str, key: &VersionKey) -> Result<(), RegistryError> {
        let slot = self.slot(flow)?;
        let mut st = slot.state.lock();
        let version = st
            .versions
            .get(key)
            .cloned()
            .ok_or_else(|| RegistryError::UnknownVersion { flow: flow.to_string(), key: key.0.clone() })?;
        if st.history.last() != Some(key) {
            st.history.push(key.clone());
        }
        st.tripped.retain(|k| k != key);
        slot.active.store(Some(version));
        // Activating the candidate promotes it: the rollout is over.
        if slot.rollout.load().as_ref().is_some_and(|r| &r.version.key == key) {
            slot.rollout.store(None);
        }
        tracing::info!(flow, version_key = %key, "flow version activated");
        Ok(())
    }

    /// Install then activate.
    pub async fn deploy(&self, spec: InstallSpec) -> Result<Arc<FlowVersion>, RegistryError> {
        let flow = spec.flow.clone();
        let v = self.install(spec).await?;
        self.activate(&flow, &v.key)?;
        Ok(v)
    }

    /// Reactivate the version that was active before the current one; returns its key.
    pub fn rollback(&self, flow: &str) -> Result<VersionKey, RegistryError> {
        let slot = self.slot(flow)?;
        let mut st = slot.state.lock();
        Self::rollback_locked(flow, &slot, &mut st)
    }

    fn rollback_locked(flow: &str, slot: &FlowSlot, st: &mut SlotState) -> Result<VersionKey, RegistryError> {
        if st.history.len() < 2 {
            return Err(RegistryError::NoPrevious(flow.to_string()));
        }
        let from = st.history.pop();
        let to = st.history.last().cloned().ok_or_else(|| RegistryError::NoPrevious(flow.to_string()))?;
        let version = st
            .versions
            .get(&to)
            .cloned()
            .ok_or_else(|| RegistryError::UnknownVersion { flow: flow.to_string(), key: to.0.clone() })?;
        slot.active.store(Some(version));
        tracing::warn!(flow, from = ?from.map(|k| k.0), to = %to, "flow rolled back");
        Ok(to)
    }

    /// Start (or change) a staged rollout: `percent` of calls, and every call of `estates`, run
    /// version `key`; the rest stay on the active version.
    pub fn set_rollout(&self, flow: &str, key: &VersionKey, percent: u32, estates: Vec<String>) -> Result<(), RegistryError> {
        if percent > 100 {
            return Err(RegistryError::BadPercent(percent));
        }
        let slot = self.slot(flow)?;
        let st = slot.state.lock();
        let version = st
            .versions
            .get(key)
            .cloned()
            .ok_or_else(|| RegistryError::UnknownVersion { flow: flow.to_string(), key: key.0.clone() })?;
        if version.kind != FlowKind::Inbound && !estates.is_empty() {
            return Err(RegistryError::WrongKind { flow: flow.to_string(), kind: version.kind });
        }
        tracing::info!(flow, version_key = %key, percent, estates = ?estates, "flow rollout set");
        slot.rollout.store(Some(Arc::new(Rollout { version, percent: percent as u8, estates })));
        Ok(())
    }

    /// End a rollout without promoting the candidate (every call goes back to the active version).
    pub fn clear_rollout(&self, flow: &str) -> Result<Option<VersionKey>, RegistryError> {
        let slot = self.slot(flow)?;
        let _st = slot.state.lock();
        Ok(slot.rollout.swap(None).map(|r| r.version.key.clone()))
    }

    /// Forget a version that is neither active, nor the rollout candidate, nor running calls.
    pub fn remove_version(&self, flow: &str, key: &VersionKey) -> Result<(), RegistryError> {
        let slot = self.slot(flow)?;
        let mut st = slot.state.lock();
        if slot.active.load().as_ref().is_some_and(|v| &v.key == key) {
            return Err(RegistryError::Active { flow: flow.to_string(), key: key.0.clone() });
        }
        if slot.rollout.load().as_ref().is_some_and(|r| &r.version.key == key) {
            return Err(RegistryError::InUse { flow: flow.to_string(), key: key.0.clone(), why: "rollout candidate".into() });
        }
        if let Some(v) = st.versions.get(key) {
            let in_flight = v.counts().in_flight;
            if in_flight > 0 {
                return Err(RegistryError::InUse { flow: flow.to_string(), key: key.0.clone(), why: format!("{in_flight} calls in flight") });
            }
        }
        st.versions
            .remove(key)
            .ok_or_else(|| RegistryError::UnknownVersion { flow: flow.to_string(), key: key.0.clone() })?;
        st.history.retain(|k| k != key);
        Ok(())
    }

    /// The version new calls of `flow` get.
    pub fn active(&self, flow: &str) -> Option<Arc<FlowVersion>> {
        self.slot(flow).ok()?.active.load_full()
    }

    /// Names of the installed flows.
    pub fn flow_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.flows.read().keys().cloned().collect();
        names.sort();
        names
    }

    /// Versions of a flow with their counters.
    pub fn versions(&self, flow: &str) -> Vec<VersionInfo> {
        let Ok(slot) = self.slot(flow) else { return Vec::new() };
        let active = slot.active.load_full().map(|v| v.key.clone());
        let rollout = slot.rollout.load_full();
        let st = slot.state.lock();
        st.versions
            .values()
            .map(|v| VersionInfo {
                flow: flow.to_string(),
                key: v.key.clone(),
                plugin_name: v.plugin_name.to_string(),
                plugin_version: v.plugin_version.clone(),
                kind: v.kind,
                active: active.as_ref() == Some(&v.key),
                tripped: st.tripped.contains(&v.key),
                rollout: rollout.as_ref().filter(|r| r.version.key == v.key).map(|r| r.info()),
                installed_at: v.installed_at,
                counts: v.counts(),
                grants: v.grants().iter().collect(),
                trapped_imports: v.trapped_imports().collect(),
            })
            .collect()
    }

    fn active_of(&self, flow: &str, kind: FlowKind) -> Result<Arc<FlowVersion>, RegistryError> {
        self.version_for(flow, kind, None)
    }

    /// The version a call runs: the rollout candidate when the call falls in its share, else the
    /// active version.
    fn version_for(&self, flow: &str, kind: FlowKind, pick: Option<&CallPick<'_>>) -> Result<Arc<FlowVersion>, RegistryError> {
        let slot = self.slot(flow)?;
        if let Some(pick) = pick
            && let Some(r) = slot.rollout.load_full()
            && r.version.kind == kind
            && r.takes(pick)
        {
            return Ok(r.version.clone());
        }
        let version = slot.active.load_full().ok_or_else(|| RegistryError::NoActiveVersion(flow.to_string()))?;
        if version.kind != kind {
            return Err(RegistryError::WrongKind { flow: flow.to_string(), kind: version.kind });
        }
        Ok(version)
    }

    /// Run an inbound call through the flow's active version (failure policy included).
    pub async fn run_inbound(
        &self,
        flow: &str,
        call: Arc<dyn CallControl>,
        services: Services,
    ) -> Result<CallReport, RegistryError> {
        self.run_inbound_picked(flow, call, services, None).await
    }

    /// Run an inbound call on the version its [`CallPick`] selects (a staged rollout's candidate
    /// or the active version).
    pub async fn run_inbound_picked(
        &self,
        flow: &str,
        call: Arc<dyn CallControl>,
        services: Services,
        pick: Option<&CallPick<'_>>,
    ) -> Result<CallReport, RegistryError> {
        let version = self.version_for(flow, FlowKind::Inbound, pick)?;
        let (outcome, consecutive) = version.run_call(&self.host, call, services, Entry::HandleCall).await;
        Ok(self.finish(flow, &version, outcome, consecutive))
    }

    /// Run an answered outbound call through the flow's active version.
    pub async fn run_outbound(
        &self,
        flow: &str,
        call: Arc<dyn CallControl>,
        services: Services,
        target: Target,
    ) -> Result<CallReport, RegistryError> {
        let version = self.active_of(flow, FlowKind::Outbound)?;
        let (outcome, consecutive) = version.run_call(&self.host, call, services, Entry::OnAnswer(&target)).await;
        Ok(self.finish(flow, &version, outcome, consecutive))
    }

    fn finish(&self, flow: &str, version: &Arc<FlowVersion>, outcome: CallOutcome, consecutive: u32) -> CallReport {
        let threshold = self.host.inner.config.crash_loop_threshold;
        if threshold > 0 && consecutive >= threshold {
            self.trip_breaker(flow, version, consecutive);
        }
        CallReport {
            flow: flow.to_string(),
            version: version.key.clone(),
            plugin_version: version.plugin_version.clone(),
            outcome,
        }
    }

    /// Roll back `version` if it is still the active one (concurrent failing calls trip once).
    fn trip_breaker(&self, flow: &str, version: &Arc<FlowVersion>, consecutive: u32) {
        let Ok(slot) = self.slot(flow) else { return };
        let mut st = slot.state.lock();
        // A failing rollout candidate ends its rollout; the active version keeps every call.
        if slot.rollout.load().as_ref().is_some_and(|r| r.version.key == version.key) {
            slot.rollout.store(None);
            st.tripped.push(version.key.clone());
            tracing::error!(flow, version_key = %version.key, consecutive,
                "crash-loop breaker: rollout candidate failed {consecutive} calls in a row; rollout ended");
            return;
        }
        let still_active = slot.active.load().as_ref().is_some_and(|v| v.key == version.key);
        if !still_active {
            return;
        }
        match Self::rollback_locked(flow, &slot, &mut st) {
            Ok(to) => {
                st.tripped.push(version.key.clone());
                tracing::error!(flow, version_key = %version.key, consecutive, rolled_back_to = %to,
                    "crash-loop breaker: version failed {consecutive} calls in a row; rolled back");
            }
            Err(e) => {
                tracing::error!(flow, version_key = %version.key, consecutive,
                    "crash-loop breaker: version keeps failing but cannot roll back: {e}");
            }
        }
    }
}
