//! What operators deployed on this node at run time — signed packages installed over the API,
//! which version is active, a staged rollout — kept under the data directory so a restart comes
//! back with the flows the operator chose, not the ones the config file started with.
//!
//! Layout: `<data>/deployments/state.json` plus one `<flow>/<version-key>.cyp` package per
//! installed version. Packages are verified again against the trust store when restored, so a
//! key the operator stopped trusting also stops its packages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use courtyard_flows::{FailurePolicy, FlowRegistry, Grants, InstallSpec, PluginLimits, VersionKey};
use courtyard_packages::{TrustStore, VerifiedPackage};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The persisted choices for every flow.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    flows: BTreeMap<String, FlowState>,
}

/// One flow's persisted choices.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FlowState {
    /// Version key new calls get.
    active: Option<String>,
    /// A staged rollout in progress.
    rollout: Option<SavedRollout>,
    /// Packages installed over the API (configured flows are not here: the config has them).
    packages: Vec<SavedPackage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedRollout {
    version: String,
    percent: u8,
    estates: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedPackage {
    /// Registry version key.
    key: String,
    /// Capabilities the operator granted.
    grants: Vec<String>,
    /// Plugin configuration given at install.
    config_json: String,
}

/// The node's deployment record (see the module docs).
#[derive(Debug)]
pub struct Deployments {
    dir: PathBuf,
    state: Mutex<State>,
}

/// How an install request becomes an [`InstallSpec`]: the same for the API and for a restore.
pub struct PackageInstall<'a> {
    /// Flow the package is installed for.
    pub flow: &'a str,
    /// The verified package.
    pub package: &'a VerifiedPackage,
    /// Capability names the operator granted.
    pub grants: &'a [String],
    /// Plugin configuration; `None` inherits the configured flow's configuration.
    pub config_json: Option<String>,
}

impl PackageInstall<'_> {
    /// The install spec: grants checked against the manifest, memory from the manifest, the
    /// flow's failure policy and (by default) its configuration from the config file.
    pub fn spec(&self, cfg: &Config) -> Result<InstallSpec, String> {
        let granted = courtyard_packages::parse_grants(self.grants).map_err(|e| e.to_string())?;
        self.package.check_granted(&granted).map_err(|r| format!("package refused: {r}"))?;
        let grants = Grants::parse(&self.package.flow_interfaces()).map_err(|e| e.to_string())?;
        let configured = cfg.flows.iter().find(|f| f.name == self.flow);
        let mut spec = InstallSpec::new(self.flow, self.package.manifest.name.clone(), self.package.component_bytes.clone());
        spec.plugin_version = Some(self.package.manifest.version.to_string());
        spec.grants = grants;
        spec.unused_imports = courtyard_flows::parse_interfaces(&self.package.unused_interfaces()).map_err(|e| e.to_string())?;
        spec.limits = Some(PluginLimits {
            memory_bytes: (self.package.manifest.memory_mib as usize) << 20,
            ..PluginLimits::default()
        });
        spec.failure_policy = configured.map(|f| f.failure.clone()).unwrap_or_else(FailurePolicy::default);
        spec.config_json = match &self.config_json {
            Some(json) => {
                serde_json::from_str::<serde_json::Value>(json).map_err(|e| format!("config is not JSON: {e}"))?;
                json.clone()
            }
            None => match configured.and_then(|f| f.config.as_ref()) {
                Some(c) => serde_json::to_string(c).map_err(|e| format!("configured plugin config: {e}"))?,
                None => spec.config_json,
            },
        };
        Ok(spec)
    }
}

/// The operator's trust store for packages (`<data>/trust.toml`; empty when absent).
pub fn trust_store(data_dir: &Path) -> anyhow::Result<TrustStore> {
    let path = data_dir.join("trust.toml");
    if path.exists() {
        TrustStore::load(&path).with_context(|| format!("trust store {}", path.display()))
    } else {
        Ok(TrustStore::default())
    }
}

impl Deployments {
    /// Opens (or starts) the record under `<data>/deployments`.
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        let dir = data_dir.join("deployments");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("state.json");
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Deployments { dir, state: Mutex::new(state) })
    }

    fn package_path(&self, flow: &str, key: &str) -> PathBuf {
        self.dir.join(sanitize(flow)).join(format!("{}.cyp", sanitize(key)))
    }

    /// Keeps an installed package so a restart installs it again.
    pub fn save_package(&self, flow: &str, key: &VersionKey, package: &[u8], grants: &[String], config_json: &str) -> anyhow::Result<()> {
        let path = self.package_path(flow, &key.0);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        write_atomically(&path, package)?;
        let mut st = self.state.lock();
        let entry = st.flows.entry(flow.to_string()).or_default();
        entry.packages.retain(|p| p.key != key.0);
        entry.packages.push(SavedPackage { key: key.0.clone(), grants: grants.to_vec(), config_json: config_json.to_string() });
        self.write(&st)
    }

    /// Records what the registry now serves (active version and rollout of every flow) and
    /// forgets packages of versions the registry no longer has.
    pub fn record(&self, registry: &FlowRegistry) -> anyhow::Result<()> {
        let mut st = self.state.lock();
        for flow in registry.flow_names() {
            let versions = registry.versions(&flow);
            let entry = st.flows.entry(flow.clone()).or_default();
            entry.active = versions.iter().find(|v| v.active).map(|v| v.key.0.clone());
            entry.rollout = versions.iter().find_map(|v| {
                v.rollout.as_ref().map(|r| SavedRollout { version: v.key.0.clone(), percent: r.percent, estates: r.estates.clone() })
            });
            let removed: Vec<String> = entry
                .packages
                .iter()
                .filter(|p| !versions.iter().any(|v| v.key.0 == p.key))
                .map(|p| p.key.clone())
                .collect();
            entry.packages.retain(|p| !removed.contains(&p.key));
            for key in removed {
                let _ = std::fs::remove_file(self.package_path(&flow, &key));
            }
        }
        self.write(&st)
    }

    fn write(&self, st: &State) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(st)?;
        write_atomically(&self.dir.join("state.json"), &json)
    }

    /// Installs the saved packages again and re-applies each flow's active version and rollout.
    /// Returns one line per thing that could not be restored (the node still starts: the
    /// configured versions keep serving).
    pub async fn restore(&self, registry: &FlowRegistry, cfg: &Config) -> Vec<String> {
        let mut problems = Vec::new();
        let trust = match trust_store(&cfg.data.dir) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{e:#}"));
                TrustStore::default()
            }
        };
        let flows: Vec<(String, Option<String>, Option<SavedRollout>, Vec<SavedPackage>)> = {
            let st = self.state.lock();
            st.flows.iter().map(|(k, v)| (k.clone(), v.active.clone(), v.rollout.clone(), v.packages.clone())).collect()
        };
        for (flow, active, rollout, packages) in flows {
            for p in packages {
                let path = self.package_path(&flow, &p.key);
                let restored = async {
                    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let verified = courtyard_packages::verify(&bytes, &trust).map_err(|r| format!("package refused: {r}"))?;
                    let spec = PackageInstall { flow: &flow, package: &verified, grants: &p.grants, config_json: Some(p.config_json.clone()) }
                        .spec(cfg)?;
                    registry.install(spec).await.map_err(|e| format!("install refused: {e}"))?;
                    Ok::<(), String>(())
                }
                .await;
                if let Err(why) = restored {
                    problems.push(format!("flow '{flow}' version {}: {why}", p.key));
                }
            }
            if let Some(key) = active
                && registry.active(&flow).is_none_or(|v| v.key.0 != key)
                && let Err(e) = registry.activate(&flow, &VersionKey(key.clone()))
            {
                problems.push(format!("flow '{flow}': cannot reactivate {key}: {e}"));
            }
            if let Some(r) = rollout
                && let Err(e) = registry.set_rollout(&flow, &VersionKey(r.version.clone()), u32::from(r.percent), r.estates)
            {
                problems.push(format!("flow '{flow}': cannot resume the rollout of {}: {e}", r.version));
            }
        }
        // Restoring compiled every version (or loaded it from the cache): give the compiler's
        // working memory back before calls arrive.
        crate::memory::release_freed();
        problems
    }
}

/// File-name-safe form of a flow name or version key.
fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Write via a temporary file and rename, so a crash never leaves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
