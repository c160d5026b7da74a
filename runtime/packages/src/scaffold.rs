//! `courtyard plugin new NAME`: a plugin crate that builds, packs and signs out of the box.
//!
//! The template follows the shipped flows under `plugins/`: a `cdylib` crate on the plugin SDK,
//! built for `wasm32-wasip2`, with a `serde` configuration type and the SDK's export macro. It
//! adds what a vendor's crate needs and the shipped ones do not: its own `[workspace]` (so it
//! builds wherever it is created), the release profile the shipped flows use (small, fast to
//! instantiate), a `plugin.toml` whose capabilities cover what the template imports and whose
//! config schema matches its `Config`, and a README with the build → pack → sign → push steps.

use std::fs;
use std::path::{Path, PathBuf};

use crate::compat;
use crate::error::PackageError;
use crate::manifest::{Manifest, World};

/// What `plugin new` needs to know.
#[derive(Debug, Clone)]
pub struct ScaffoldOptions {
    /// Plugin name (also the crate and directory name): lowercase letters, digits, `-`.
    pub name: String,
    /// Vendor id written into plugin.toml (must match the vendor's signing key).
    pub vendor: String,
    /// Directory to create the crate in (the crate goes to `<dir>/<name>`).
    pub dir: PathBuf,
    /// Which world the flow implements.
    pub world: World,
    /// Path to the plugin SDK (`plugin-sdk/` of a Courtyard checkout), written into Cargo.toml
    /// as given; relative paths are relative to the new crate's directory.
    pub sdk_path: PathBuf,
}

fn write(path: &Path, text: &str) -> Result<(), PackageError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| PackageError::io(parent, e))?;
    }
    fs::write(path, text).map_err(|e| PackageError::io(path, e))
}

/// Create the plugin crate; returns its directory. Refuses to touch an existing directory.
pub fn new_plugin(options: &ScaffoldOptions) -> Result<PathBuf, PackageError> {
    let name = options.name.as_str();
    let manifest = plugin_toml(options);
    // Validate name and vendor exactly as a package would be validated, before writing anything.
    Manifest::parse(manifest.as_bytes())?;
    let root = options.dir.join(name);
    if root.exists() {
        return Err(PackageError::Scaffold(format!("{} already exists; choose another name or directory", root.display())));
    }
    let sdk = options.sdk_path.to_string_lossy().replace('\\', "/");
    if sdk.contains('"') {
        return Err(PackageError::Scaffold("the SDK path must not contain '\"'".into()));
    }
    write(&root.join("plugin.toml"), &manifest)?;
    write(&root.join("Cargo.toml"), &cargo_toml(name, &sdk))?;
    write(&root.join(".cargo/config.toml"), CARGO_CONFIG)?;
    write(&root.join(".gitignore"), "/target\n*.cyp\n*.key\n")?;
    let lib = match options.world {
        World::Inbound => INBOUND_LIB,
        World::Outbound => OUTBOUND_LIB,
    };
    write(&root.join("src/lib.rs"), &lib.replace("{{name}}", name))?;
    write(&root.join("README.md"), &readme(name, &options.vendor))?;
    tracing::info!(plugin = name, dir = %root.display(), world = %options.world, "scaffolded plugin crate");
    Ok(root)
}

pub(crate) fn plugin_toml(o: &ScaffoldOptions) -> String {
    let (description, capabilities) = match o.world {
        World::Inbound => ("An inbound call flow", r#"["call", "log"]"#),
        World::Outbound => ("An outbound campaign flow", r#"["call", "log"]"#),
    };
    format!(
        r#"# Courtyard plugin manifest: what the operator sees and approves at install, covered by the
# signature. Field reference: docs/packages.md in the Courtyard repository.
name = "{name}"
version = "0.1.0"
vendor = "{vendor}"
description = "{description}"
wit = "courtyard:flow@{wit}"
world = "{world}"
# Every courtyard:flow interface the component imports must be covered here (pack refuses it
# otherwise): call, directory.read, billing.read, work-orders.read, work-orders.write,
# notify.sms, notify.email, notify.webhook, notify.on-duty, kv, log, config, clock, content.
capabilities = {capabilities}
memory-mib = 32
# JSON schema of the configuration the operator supplies (src/lib.rs `Config`).
config-schema = '''
{{
  "type": "object",
  "properties": {{
    "greeting": {{ "type": "string", "description": "What the caller hears first" }},
    "queue": {{ "type": "string", "description": "ACD queue for agent requests" }}
  }}
}}
'''
"#,
        name = o.name,
        vendor = o.vendor,
        wit = compat::host_version(),
        world = o.world.name(),
    )
}

fn cargo_toml(name: &str, sdk: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
description = "Courtyard call-flow plugin {name}."
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
courtyard-plugin-sdk = {{ path = "{sdk}" }}
serde = {{ version = "1", features = ["derive"] }}

# Its own workspace, so the crate builds wherever it was created.
[workspace]

[profile.release]
# Small components load and instantiate faster.
opt-level = "s"
lto = true
codegen-units = 1
debug = false
panic = "abort"
"#
    )
}

const CARGO_CONFIG: &str = r#"# Plugins are WebAssembly components: `cargo build --release` builds
# target/wasm32-wasip2/release/<name>.wasm.
[build]
target = "wasm32-wasip2"
"#;

const INBOUND_LIB: &str = r#"//! `{{name}}`: an inbound call flow for Courtyard.

use courtyard_plugin_sdk::prelude::*;

/// The operator's configuration (schema in plugin.toml `config-schema`).
#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// What the caller hears first.
    greeting: String,
    /// Queue for "press 0 for an agent".
    queue: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { greeting: "您好,欢迎致电物业服务中心".into(), queue: "default".into() }
    }
}

/// The exported flow.
struct Flow;

impl InboundFlow for Flow {
    type Config = Config;

    fn validate_config(config: &Config) -> Result<(), String> {
        if config.queue.trim().is_empty() {
            return Err("queue must not be empty".into());
        }
        Ok(())
    }

    fn handle_call(call: &Call) -> FlowResult {
        let cfg: Config = config()?;
        call.mark("greeting");
        let digits = call.collect(
            prompt![cfg.greeting.as_str(), "人工服务请按0"],
            Collect::digits(1).timeout_ms(5000).barge_in(),
        )?;
        log::info(&format!("caller pressed '{}'", digits.as_str()));
        call.mark(&format!("menu:{}", digits.as_str()));
        call.enqueue(&cfg.queue, 0)?;
        Ok(())
    }
}

export_inbound!(Flow);
"#;

const OUTBOUND_LIB: &str = r#"//! `{{name}}`: an outbound campaign flow for Courtyard.

use courtyard_plugin_sdk::prelude::*;

/// The operator's configuration (schema in plugin.toml `config-schema`).
#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// What the called party hears first.
    greeting: String,
    /// Queue for "press 0 for an agent".
    queue: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { greeting: "您好,这里是物业服务中心".into(), queue: "default".into() }
    }
}

/// The exported flow.
struct Flow;

impl OutboundFlow for Flow {
    type Config = Config;

    fn on_answer(call: &Call, target: &Target) -> FlowResult<String> {
        let cfg: Config = config()?;
        log::info(&format!("campaign {} target {}", target.campaign_id, target.target_id));
        let digits = call.collect(
            prompt![cfg.greeting.as_str(), "确认请按1,人工服务请按0"],
            Collect::digits(1).timeout_ms(5000).barge_in(),
        )?;
        match digits.as_str() {
            "1" => Ok("confirmed".into()),
            "0" => {
                call.enqueue(&cfg.queue, 0)?;
                Ok("agent".into())
            }
            _ => Ok("no-answer".into()),
        }
    }
}

export_outbound!(Flow);
"#;

fn readme(name: &str, vendor: &str) -> String {
    let wasm = name.replace('-', "_");
    format!(
        r#"# {name}

A Courtyard call-flow plugin.

```sh
cargo build --release                                   # → target/wasm32-wasip2/release/{wasm}.wasm
courtyard plugin pack . target/wasm32-wasip2/release/{wasm}.wasm -o {name}-0.1.0.cyp
courtyard plugin keygen --key-id {vendor}-key --vendor {vendor} --out ~/.courtyard/keys   # once
courtyard plugin sign {name}-0.1.0.cyp --key ~/.courtyard/keys/{vendor}-key.key
courtyard plugin push {name}-0.1.0.cyp registry.example.com/{vendor}/{name}:0.1.0
```

`pack` refuses the component if it imports a `courtyard:flow` interface that `plugin.toml`
does not declare in `capabilities`; add the capability (the error names it) and pack again.
"#
    )
}
