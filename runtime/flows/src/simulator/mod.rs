//! The call simulator: one scripted call through a plugin, without SIP.
//!
//! `courtyard flow test <plugin.wasm> --script <file.toml>` calls [`run_script_file`]. The
//! plugin runs on the real host (same limits, grants and failure policy as production) against
//! an in-memory world loaded from the script's fixtures; prompts are rendered by the TTS crate's
//! reading rules. The script format is the contract in `docs/sim-format.md` (team copy:
//! `/work/team/sim-format.md`).

mod call;
mod matcher;
pub mod render;
pub(crate) mod script;
mod world;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

pub use matcher::Mismatch;
pub use render::render;

use crate::engine::FlowHost;
use crate::grants::Grants;
use crate::instance::CallOutcome;
use crate::registry::{FlowRegistry, RegistryError};
use crate::version::{FlowKind, InstallError, InstallSpec};
use crate::wit::{CallInfo, Direction, Target};
use call::SimCall;
use matcher::Matcher;
use world::World;

/// Result of one simulated call.
#[derive(Debug, Clone)]
pub struct SimReport {
    /// True when every step matched and none remained.
    pub passed: bool,
    /// Every host call and caller action, in order.
    pub transcript: Vec<String>,
    /// The first mismatch, when the test failed.
    pub mismatch: Option<Mismatch>,
    /// How the call ended on the host.
    pub outcome: CallOutcome,
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "transcript:")?;
        for (i, line) in self.transcript.iter().enumerate() {
            writeln!(f, "{:>4}  {line}", i + 1)?;
        }
        let ended = match &self.outcome {
            CallOutcome::Completed => "the flow completed".to_string(),
            CallOutcome::Outbound(o) => format!("the flow returned outcome \"{o}\""),
            CallOutcome::CallerHungUp => "the caller hung up".to_string(),
            CallOutcome::Failed { failure, action } => format!("the plugin failed ({failure}); policy: {action:?}"),
        };
        writeln!(f, "end: {ended}")?;
        match &self.mismatch {
            None => write!(f, "PASS"),
            Some(m) => write!(f, "FAIL at {m}"),
        }
    }
}

/// Why a script could not be run at all (as opposed to a failing run, which is a report).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The script is not valid.
    #[error("script: {0}")]
    Script(String),
    /// The plugin was refused at install (grants, world, canary...).
    #[error("plugin refused: {0}")]
    Install(#[from] InstallError),
    /// The registry refused the call.
    #[error("{0}")]
    Registry(#[from] RegistryError),
}

/// Run the script file against the plugin file.
pub async fn run_script_file(host: &FlowHost, wasm: &Path, script: &Path) -> Result<SimReport, SimError> {
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| SimError::Io { path, source }
    };
    let bytes = std::fs::read(wasm).map_err(io(wasm))?;
    let text = std::fs::read_to_string(script).map_err(io(script))?;
    let base = script.parent().unwrap_or(Path::new("."));
    let plugin = wasm.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin").to_string();
    run_script(host, &plugin, bytes, &text, base).await
}

/// Run script text against component bytes (`base` resolves `config_file`).
pub async fn run_script(
    host: &FlowHost,
    plugin_name: &str,
    wasm: Vec<u8>,
    script_text: &str,
    base: &Path,
) -> Result<SimReport, SimError> {
    let raw = script::parse(script_text).map_err(SimError::Script)?;
    let config_json = script::config_json(&raw, base).map_err(SimError::Script)?;
    let grants = match &raw.grants {
        Some(names) => Grants::parse(names).map_err(|e| SimError::Script(format!("grants: {e}")))?,
        None => Grants::all(),
    };
    let unused_imports = match &raw.unused_imports {
        Some(names) => crate::grants::parse_interfaces(names).map_err(|e| SimError::Script(format!("unused_imports: {e}")))?,
        None => Default::default(),
    };
    let direction = match raw.direction.as_deref().unwrap_or("inbound") {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => return Err(SimError::Script(format!("direction = \"{other}\": not inbound|outbound"))),
    };
    let target = match (direction, &raw.target) {
        (Direction::Outbound, Some(t)) => Some(Target {
            campaign_id: t.campaign_id.clone(),
            target_id: t.target_id.clone(),
            number: t.number.clone(),
            params: t
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(String::from).unwrap_or_else(|| v.to_string())))
                .collect(),
        }),
        (Direction::Outbound, None) => {
            return Err(SimError::Script("direction = \"outbound\" needs a [target] table".into()));
        }
        (Direction::Inbound, _) => None,
    };
    let mut raw = raw;
    let raw_steps = std::mem::take(&mut raw.steps);
    let steps = raw_steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| s.check(i + 1))
        .collect::<Result<Vec<_>, String>>()
        .map_err(SimError::Script)?;

    let matcher = Arc::new(Mutex::new(Matcher::new(steps)));
    let world = Arc::new(World::new(&raw, matcher.clone()).map_err(SimError::Script)?);
    let info = CallInfo {
        call_id: "sim-1".to_string(),
        caller: raw.caller.clone().unwrap_or_else(|| script::DEFAULT_CALLER.to_string()),
        called: raw.called.clone().unwrap_or_else(|| script::DEFAULT_CALLED.to_string()),
        direction,
        estate_id: raw.estate_id.clone(),
        language: raw.language.clone().unwrap_or_else(|| "zh".to_string()),
    };
    let call = Arc::new(SimCall::new(info, matcher.clone()));

    let registry = FlowRegistry::new(host.clone());
    let mut spec = InstallSpec::new("sim", plugin_name, wasm);
    spec.config_json = config_json;
    spec.grants = grants;
    spec.unused_imports = unused_imports;
    spec.kind = Some(if target.is_some() { FlowKind::Outbound } else { FlowKind::Inbound });
    if let Some(policy) = &raw.failure_policy {
        spec.failure_policy = policy.clone();
    }
    registry.deploy(spec).await.map_err(|e| match e {
        RegistryError::Install(i) => SimError::Install(i),
        other => SimError::Registry(other),
    })?;
    let services = world.services();
    let report = match target {
        Some(t) => registry.run_outbound("sim", call, services, t).await?,
        None => registry.run_inbound("sim", call, services).await?,
    };
    let mut m = matcher.lock();
    let outcome_text = match &report.outcome {
        CallOutcome::Outbound(o) => Some(o.as_str()),
        _ => None,
    };
    m.finish(outcome_text);
    Ok(SimReport {
        passed: m.mismatch.is_none(),
        transcript: m.transcript.clone(),
        mismatch: m.mismatch.clone(),
        outcome: report.outcome,
    })
}
