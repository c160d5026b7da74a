//! Installing the configured flows into the plugin registry at start.

use std::path::Path;

use anyhow::Context;
use courtyard_flows::{FlowRegistry, Grants, InstallSpec, PluginLimits, parse_interfaces};

use crate::config::FlowEntry;

/// Reads a flow's component, installs it (compile or cache hit, canary) and activates it.
pub async fn install(registry: &FlowRegistry, entry: &FlowEntry, plugins_dir: &Path, memory_mib: u64) -> anyhow::Result<()> {
    let path = plugins_dir.join(&entry.wasm);
    let wasm = std::fs::read(&path).with_context(|| {
        format!("cannot read the plugin component {} (build the plugins with `make plugins`)", path.display())
    })?;
    let plugin_name = entry
        .wasm
        .file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_else(|| entry.name.clone());
    let mut spec = InstallSpec::new(entry.name.clone(), plugin_name, wasm);
    if let Some(cfg) = &entry.config {
        spec.config_json = serde_json::to_string(cfg).context("plugin config cannot be expressed as JSON")?;
    }
    if let Some(g) = &entry.grants {
        spec.grants = Grants::parse(g).map_err(|e| anyhow::anyhow!("grants: {e}"))?;
    }
    spec.unused_imports = parse_interfaces(&entry.unused_imports).map_err(|e| anyhow::anyhow!("unused_imports: {e}"))?;
    spec.limits = Some(PluginLimits { memory_bytes: (memory_mib as usize) << 20, ..PluginLimits::default() });
    spec.failure_policy = entry.failure.clone();
    let started = std::time::Instant::now();
    let v = registry.deploy(spec).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(flow = %entry.name, version = %v.key, ms = started.elapsed().as_millis() as u64, "flow installed and active");
    Ok(())
}
