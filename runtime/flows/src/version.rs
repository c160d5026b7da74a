//! A prepared flow version: compiled, grant-checked, linked (`InstancePre`) and canaried, ready to
//! instantiate per call. Calls hold an `Arc<FlowVersion>` for their whole life, so swapping the
//! active version never disturbs a call in progress.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;

use crate::bindings::inbound::InboundFlowPre;
use crate::bindings::outbound::OutboundFlowPre;
use crate::cache::{CacheOutcome, sha256_hex};
use crate::engine::FlowHost;
use crate::grants::{Capability, Grants, check_imports};
use crate::limits::PluginLimits;
use crate::policy::FailurePolicy;
use crate::state::CallState;
use crate::stats::{CallCounts, VersionCounters};

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowKind {
    /// World `inbound-flow` (`handle-call`).
    Inbound,
    /// World `outbound-flow` (`on-answer`).
    Outbound,
}

impl FlowKind {
    fn world(self) -> &'static str {
        match self {
            FlowKind::Inbound => "inbound-flow",
            FlowKind::Outbound => "outbound-flow",
        }
    }
}

/// Identity of a version: hash of the component bytes and the configuration, so the same code
/// with another configuration is another version (and can be rolled back to).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct VersionKey(pub String);

impl VersionKey {
    /// Key of these component bytes (by their SHA-256) with this configuration.
    pub fn of(component_sha256: &str, config_json: &str) -> Self {
        let mut h = Sha256::new();
        h.update(component_sha256.as_bytes());
        h.update(b"\n");
        h.update(config_json.as_bytes());
        VersionKey(hex::encode(&h.finalize()[..8]))
    }
}

impl fmt::Display for VersionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an operator installs: a component for a flow name, with its config and grants.
#[derive(Debug, Clone)]
pub struct InstallSpec {
    /// Flow name the routes refer to (e.g. "ivr-main").
    pub flow: String,
    /// Plugin name (the `kv` scope and the metrics label).
    pub plugin_name: String,
    /// Declared plugin version (manifest), used as the metrics label; the key when absent.
    pub plugin_version: Option<String>,
    /// The component's bytes (never precompiled code).
    pub wasm: Vec<u8>,
    /// Configuration JSON returned by `config.get` ("{}" when none).
    pub config_json: String,
    /// Capabilities granted.
    pub grants: Grants,
    /// Interfaces the component imports but never calls, granted or not: toolchains such as
    /// componentize-py and componentize-js import the whole world whatever the flow uses. Each
    /// one that is not granted is linked with functions that trap, naming the interface, so the
    /// plugin installs without the operator granting what it does not need (a package declares
    /// them in `plugin.toml` `unused-imports`).
    pub unused_imports: BTreeSet<Capability>,
    /// Limits; the host's defaults when `None`.
    pub limits: Option<PluginLimits>,
    /// What happens to the caller when the plugin fails.
    pub failure_policy: FailurePolicy,
    /// The world the operator expects; detected from the exports when `None`.
    pub kind: Option<FlowKind>,
}

impl InstallSpec {
    /// A spec with defaults: all grants, `{}` config, default limits and failure policy.
    pub fn new(flow: impl Into<String>, plugin_name: impl Into<String>, wasm: Vec<u8>) -> Self {
        InstallSpec {
            flow: flow.into(),
            plugin_name: plugin_name.into(),
            plugin_version: None,
            wasm,
            config_json: "{}".to_string(),
            grants: Grants::all(),
            unused_imports: BTreeSet::new(),
            limits: None,
            failure_policy: FailurePolicy::default(),
            kind: None,
        }
    }
}

/// Why a version could not be installed. Nothing is activated when install fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    /// The bytes are not a valid WebAssembly component.
    #[error("not a valid WebAssembly component: {0}")]
    Malformed(String),
    /// The component does not implement a flow world.
    #[error("wrong world: {0}")]
    WrongWorld(String),
    /// It imports an interface that is not granted or not provided.
    #[error("refused: {0}")]
    Refused(#[from] crate::grants::ImportRefusal),
    /// Linking against the host failed (an import's type does not match).
    #[error("cannot link the plugin: {0}")]
    Link(String),
    /// The configuration is not valid JSON.
    #[error("configuration is not valid JSON: {0}")]
    Config(String),
    /// Limits above the host's ceiling.
    #[error("limits refused: {0}")]
    Limits(String),
    /// The canary (instantiate + `check-config`) failed.
    #[error("canary failed: {0}")]
    Canary(String),
}

pub(crate) enum FlowPre {
    Inbound(InboundFlowPre<CallState>),
    Outbound(OutboundFlowPre<CallState>),
}

/// A prepared, canaried version of a flow.
pub struct FlowVersion {
    /// Version identity (code hash + config hash).
    pub key: VersionKey,
    /// Flow name.
    pub flow: String,
    /// Plugin name.
    pub plugin_name: Arc<str>,
    /// Label for metrics: the declared version, or the key.
    pub plugin_version: String,
    /// Inbound or outbound.
    pub kind: FlowKind,
    /// SHA-256 of the component bytes.
    pub component_sha256: String,
    /// Whether compilation was served from the disk cache.
    pub cache: CacheOutcome,
    /// When it was prepared.
    pub installed_at: SystemTime,
    pub(crate) config_json: Arc<str>,
    pub(crate) grants: Grants,
    pub(crate) unused_imports: BTreeSet<Capability>,
    pub(crate) limits: PluginLimits,
    pub(crate) policy: FailurePolicy,
    pub(crate) pre: FlowPre,
    pub(crate) counters: VersionCounters,
}

impl fmt::Debug for FlowVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowVersion")
            .field("flow", &self.flow)
            .field("key", &self.key)
            .field("plugin", &self.plugin_name)
            .field("version", &self.plugin_version)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl FlowVersion {
    /// Call counts of this version.
    pub fn counts(&self) -> CallCounts {
        self.counters.snapshot()
    }

    /// The failure policy of this version.
    pub fn failure_policy(&self) -> &FailurePolicy {
        &self.policy
    }

    /// The grants of this version.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// The interfaces declared unused and not granted: linked as traps where the component
    /// imports them.
    pub fn trapped_imports(&self) -> impl Iterator<Item = Capability> + '_ {
        self.unused_imports.iter().copied().filter(|c| !self.grants.allows(*c))
    }

    /// Instantiate this version in a throwaway store and call `check-config` (the canary): a
    /// health probe for the console, and the benchmark's "instantiate + first host call".
    pub async fn probe(&self, host: &FlowHost) -> Result<(), String> {
        crate::canary::run(host, self).await
    }

    /// Compile (or load from cache), check world and grants, link, then canary.
    pub(crate) async fn prepare(host: &FlowHost, spec: InstallSpec) -> Result<FlowVersion, InstallError> {
        let inner = &host.inner;
        let engine = &inner.engine;
        serde_json::from_str::<serde_json::Value>(&spec.config_json)
            .map_err(|e| InstallError::Config(e.to_string()))?;
        let limits = spec.limits.clone().unwrap_or_else(|| inner.config.default_limits.clone());
        if limits.memory_bytes > inner.config.max_memory_bytes {
            return Err(InstallError::Limits(format!(
                "memory cap {} MiB is above the host's ceiling of {} MiB",
                limits.memory_bytes >> 20,
                inner.config.max_memory_bytes >> 20
            )));
        }
        if !spec.wasm.starts_with(b"\0asm") {
            return Err(InstallError::Malformed("the file does not start with the wasm magic bytes".into()));
        }
        let sha = sha256_hex(&spec.wasm);
        let (component, cache) = {
            let engine = engine.clone();
            let host = host.clone();
            let bytes = spec.wasm.clone();
            let sha = sha.clone();
            // Compiling takes tens of ms of CPU: keep it off the async workers.
            tokio::task::spawn_blocking(move || host.inner.cache.load_or_compile(&engine, &bytes, &sha))
                .await
                .map_err(|e| InstallError::Malformed(format!("compiler task failed: {e}")))?
                .map_err(|e| InstallError::Malformed(format!("{e:#}")))?
        };
        let ty = component.component_type();
        let exports: Vec<(String, bool)> = ty
            .exports(engine)
            .map(|(name, ext)| (name.to_string(), matches!(ext.ty, ComponentItem::ComponentFunc(_))))
            .collect();
        let kind = detect_kind(&exports, spec.kind)?;
        let imports: Vec<String> = ty.imports(engine).map(|(name, _)| name.to_string()).collect();
        check_imports(imports.iter().map(String::as_str), &spec.grants, &spec.unused_imports)?;
        let mut linker = crate::host::link(engine, &spec.grants).map_err(|e| InstallError::Link(format!("{e:#}")))?;
        crate::host::link_unused_as_traps(&mut linker, engine, &component, &spec.grants, &spec.unused_imports)
            .map_err(|e| InstallError::Link(format!("{e:#}")))?;
        let instance_pre = linker.instantiate_pre(&component).map_err(|e| InstallError::Link(format!("{e:#}")))?;
        let pre = match kind {
            FlowKind::Inbound => FlowPre::Inbound(InboundFlowPre::new(instance_pre).map_err(|e| {
                InstallError::WrongWorld(format!("exports do not match world inbound-flow: {e:#}"))
            })?),
            FlowKind::Outbound => FlowPre::Outbound(OutboundFlowPre::new(instance_pre).map_err(|e| {
                InstallError::WrongWorld(format!("exports do not match world outbound-flow: {e:#}"))
            })?),
        };
        let key = VersionKey::of(&sha, &spec.config_json);
        let version = FlowVersion {
            plugin_version: spec.plugin_version.clone().unwrap_or_else(|| key.0.clone()),
            key,
            flow: spec.flow,
            plugin_name: Arc::from(spec.plugin_name.as_str()),
            kind,
            component_sha256: sha,
            cache,
            installed_at: SystemTime::now(),
            config_json: Arc::from(spec.config_json.as_str()),
            grants: spec.grants,
            unused_imports: spec.unused_imports,
            limits,
            policy: spec.failure_policy,
            pre,
            counters: VersionCounters::default(),
        };
        crate::canary::run(host, &version).await.map_err(InstallError::Canary)?;
        Ok(version)
    }
}

fn detect_kind(exports: &[(String, bool)], expected: Option<FlowKind>) -> Result<FlowKind, InstallError> {
    let has = |n: &str| exports.iter().any(|(name, is_func)| name == n && *is_func);
    let found = if has("handle-call") {
        Some(FlowKind::Inbound)
    } else if has("on-answer") {
        Some(FlowKind::Outbound)
    } else {
        None
    };
    let listed = if exports.is_empty() {
        "nothing".to_string()
    } else {
        exports.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    };
    match (found, expected) {
        (None, _) => Err(InstallError::WrongWorld(format!(
            "the component exports {listed}; a flow must export `handle-call` (world inbound-flow) or `on-answer` (world outbound-flow) from courtyard:flow@0.1.0"
        ))),
        (Some(k), Some(e)) if k != e => Err(InstallError::WrongWorld(format!(
            "expected world {} but the component implements {} (exports {listed})",
            e.world(),
            k.world()
        ))),
        (Some(k), _) if !has("check-config") => Err(InstallError::WrongWorld(format!(
            "world {} requires the export `check-config` (exports {listed})",
            k.world()
        ))),
        (Some(k), _) => Ok(k),
    }
}
