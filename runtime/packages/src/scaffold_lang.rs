//! `courtyard plugin new --lang python|js NAME`: a flow project in Python or JavaScript.
//!
//! The same manifest and configuration as the Rust template (see [`crate::scaffold`]), with the
//! flow in `app.py` (componentize-py) or `app.js` (componentize-js) on the thin SDK helpers of
//! `plugin-sdk/python` and `plugin-sdk/js`, a simulator script, and a `build.sh` that uses the
//! tools installed in the Courtyard checkout (offline once `scripts/polyglot.sh install` ran).
//! The SDKs import every `courtyard:flow` interface, so the manifest declares them all.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::PackageError;
use crate::manifest::{Manifest, World};
use crate::scaffold::ScaffoldOptions;

/// Language of a scaffolded flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust on the plugin SDK crate (the [`crate::new_plugin`] template).
    Rust,
    /// Python, built with componentize-py.
    Python,
    /// JavaScript, built with componentize-js.
    Js,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rust" | "rs" => Ok(Lang::Rust),
            "python" | "py" => Ok(Lang::Python),
            "js" | "javascript" => Ok(Lang::Js),
            other => Err(format!("unknown language '{other}' (rust, python or js)")),
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), PackageError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| PackageError::io(parent, e))?;
    }
    fs::write(path, text).map_err(|e| PackageError::io(path, e))
}

/// Create the project in `lang` (Rust delegates to [`crate::new_plugin`]); returns its directory.
pub fn new_plugin_in(options: &ScaffoldOptions, lang: Lang) -> Result<PathBuf, PackageError> {
    if lang == Lang::Rust {
        return crate::new_plugin(options);
    }
    let name = options.name.as_str();
    let manifest = crate::scaffold::plugin_toml(options).replace(
        r#"capabilities = ["call", "log"]"#,
        concat!(
            r#"capabilities = ["call", "log"]"#,
            "\n# The SDK imports every interface; these the template never calls (linked as traps, not",
            "\n# granted). Move one to `capabilities` (e.g. billing → \"billing.read\") when the flow uses it.",
            "\n",
            r#"unused-imports = ["directory", "billing", "work-orders", "notify", "kv", "clock", "content"]"#,
        ),
    );
    Manifest::parse(manifest.as_bytes())?;
    let root = options.dir.join(name);
    if root.exists() {
        return Err(PackageError::Scaffold(format!("{} already exists; choose another name or directory", root.display())));
    }
    let sdk = options.sdk_path.to_string_lossy().replace('\\', "/");
    if sdk.contains(['"', '$', '`']) {
        return Err(PackageError::Scaffold("the SDK path must not contain quotes, '$' or '`'".into()));
    }
    let world = options.world.name();
    let (source, build) = match (lang, options.world) {
        (Lang::Python, World::Inbound) => (("app.py", PY_INBOUND), PY_BUILD),
        (Lang::Python, World::Outbound) => (("app.py", PY_OUTBOUND), PY_BUILD),
        (_, World::Inbound) => (("app.js", JS_INBOUND), JS_BUILD),
        (_, World::Outbound) => (("app.js", JS_OUTBOUND), JS_BUILD),
    };
    let fill = |t: &str| t.replace("{{name}}", name).replace("{{sdk}}", &sdk).replace("{{world}}", world);
    write(&root.join("plugin.toml"), &manifest)?;
    write(&root.join(source.0), &fill(source.1))?;
    write(&root.join("build.sh"), &fill(build))?;
    make_executable(&root.join("build.sh"))?;
    let sim = match options.world {
        World::Inbound => SIM_INBOUND,
        World::Outbound => SIM_OUTBOUND,
    };
    write(&root.join("sim/agent.toml"), sim)?;
    write(&root.join(".gitignore"), "*.wasm\n*.cyp\n*.key\n__pycache__/\n")?;
    write(&root.join("README.md"), &fill(README))?;
    tracing::info!(plugin = name, dir = %root.display(), ?lang, "scaffolded plugin project");
    Ok(root)
}

fn make_executable(path: &Path) -> Result<(), PackageError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|e| PackageError::io(path, e))
}

const PY_BUILD: &str = r#"#!/usr/bin/env bash
# Builds {{name}}.wasm (world {{world}}) with componentize-py from the Courtyard checkout's SDK
# ({{sdk}}, relative to this directory); offline once `scripts/polyglot.sh install` ran there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
sdk="$(cd "{{sdk}}" && pwd)"
"$sdk/python/componentize-py" -d "$sdk/../wit" -w {{world}} componentize app -p . -p "$sdk/python" -o {{name}}.wasm
"#;

const JS_BUILD: &str = r#"#!/usr/bin/env bash
# Builds {{name}}.wasm (world {{world}}) with componentize-js from the Courtyard checkout's SDK
# ({{sdk}}, relative to this directory); offline once `scripts/polyglot.sh install` ran there.
# componentize-js reads modules only next to the source: the SDK's courtyard.js is staged with it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
sdk="$(cd "{{sdk}}" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp ./*.js "$sdk/js/courtyard.js" "$stage/"
(cd "$stage" && "$sdk/js/componentize" app.js -w "$sdk/../wit" -n {{world}} -o "$here/{{name}}.wasm")
"#;

const PY_INBOUND: &str = r#""""{{name}}: an inbound call flow for Courtyard (Python, componentize-py)."""

import courtyard
from courtyard import Collect, Miss, log

DEFAULTS = {"greeting": "您好,欢迎致电物业服务中心", "queue": "default"}


def settings(doc):
    """The configuration (schema in plugin.toml `config-schema`) over the defaults."""
    unknown = set(doc) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
    cfg = {**DEFAULTS, **doc}
    if not cfg["queue"].strip():
        raise ValueError("queue must not be empty")
    return cfg


def handle_call(call):
    cfg = settings(courtyard.config())
    call.mark("greeting")
    try:
        key = call.ask([cfg["greeting"], "人工服务请按0"], Collect.digits(1).timeout_ms(5000).barge_in(), keys=["0"])
    except Miss:
        call.say("感谢您的来电,再见")
        call.hangup()
        return
    log.info(f"caller pressed '{key}'")
    call.mark(f"menu:{key}")
    call.enqueue(cfg["queue"], 0)


WitWorld = courtyard.inbound(handle_call, settings)
"#;

const PY_OUTBOUND: &str = r#""""{{name}}: an outbound campaign flow for Courtyard (Python, componentize-py)."""

import courtyard
from courtyard import Collect, log

DEFAULTS = {"greeting": "您好,这里是物业服务中心", "queue": "default"}


def settings(doc):
    """The configuration (schema in plugin.toml `config-schema`) over the defaults."""
    unknown = set(doc) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
    return {**DEFAULTS, **doc}


def on_answer(call, target):
    cfg = settings(courtyard.config())
    log.info(f"campaign {target.campaign_id} target {target.target_id}")
    key = call.collect([cfg["greeting"], "确认请按1,人工服务请按0"], Collect.digits(1).timeout_ms(5000).barge_in()).digits
    if key == "1":
        return "confirmed"
    if key == "0":
        call.enqueue(cfg["queue"], 0)
        return "agent"
    return "no-answer"


WitWorld = courtyard.outbound(on_answer, settings)
"#;

const JS_INBOUND: &str = r#"// {{name}}: an inbound call flow for Courtyard (JavaScript, componentize-js).
import { inbound, config, Collect, Miss, log } from './courtyard.js'; // staged by build.sh

const DEFAULTS = { greeting: '您好,欢迎致电物业服务中心', queue: 'default' };

/** The configuration (schema in plugin.toml `config-schema`) over the defaults. */
function settings(doc) {
  const unknown = Object.keys(doc).filter((k) => !(k in DEFAULTS));
  if (unknown.length) throw new Error(`unknown configuration keys: ${unknown.join(', ')}`);
  const cfg = { ...DEFAULTS, ...doc };
  if (!cfg.queue.trim()) throw new Error('queue must not be empty');
  return cfg;
}

export const { checkConfig, handleCall } = inbound((call) => {
  const cfg = settings(config());
  call.mark('greeting');
  let key;
  try {
    key = call.ask([cfg.greeting, '人工服务请按0'], Collect.digits(1).timeoutMs(5000).bargeIn(), { keys: ['0'] });
  } catch (e) {
    if (!(e instanceof Miss)) throw e;
    call.say('感谢您的来电,再见');
    call.hangup();
    return;
  }
  log.info(`caller pressed '${key}'`);
  call.mark(`menu:${key}`);
  call.enqueue(cfg.queue, 0);
}, settings);
"#;

const JS_OUTBOUND: &str = r#"// {{name}}: an outbound campaign flow for Courtyard (JavaScript, componentize-js).
import { outbound, config, Collect, log } from './courtyard.js'; // staged by build.sh

const DEFAULTS = { greeting: '您好,这里是物业服务中心', queue: 'default' };

/** The configuration (schema in plugin.toml `config-schema`) over the defaults. */
function settings(doc) {
  const unknown = Object.keys(doc).filter((k) => !(k in DEFAULTS));
  if (unknown.length) throw new Error(`unknown configuration keys: ${unknown.join(', ')}`);
  return { ...DEFAULTS, ...doc };
}

export const { checkConfig, onAnswer } = outbound((call, target) => {
  const cfg = settings(config());
  log.info(`campaign ${target.campaignId} target ${target.targetId}`);
  const key = call.collect([cfg.greeting, '确认请按1,人工服务请按0'], Collect.digits(1).timeoutMs(5000).bargeIn()).digits;
  if (key === '1') return 'confirmed';
  if (key === '0') {
    call.enqueue(cfg.queue, 0);
    return 'agent';
  }
  return 'no-answer';
}, settings);
"#;

const SIM_INBOUND: &str = r#"# The caller hears the greeting, presses 0 and is queued for an agent.
# Run: courtyard flow test <name>.wasm --script sim/agent.toml
[[step]]
expect_say = "您好.*人工服务请按"
[[step]]
press = "0"
[[step]]
expect_mark = "menu:0"
[[step]]
expect_enqueue = "default"
"#;

const SIM_OUTBOUND: &str = r#"# The called party hears the greeting and confirms with 1.
# Run: courtyard flow test <name>.wasm --script sim/agent.toml
direction = "outbound"
[target]
campaign_id = "C1"
target_id = "T1"
number = "13800138000"
[[step]]
expect_say = "您好.*确认请按"
[[step]]
press = "1"
[[step]]
expect_outcome = "confirmed"
"#;

const README: &str = r#"# {{name}}

A Courtyard call-flow plugin (world `{{world}}`). Guides: docs/plugin-guide-python.md and
docs/plugin-guide-js.md in the Courtyard repository.

```sh
./build.sh                                              # → {{name}}.wasm (offline)
courtyard flow test {{name}}.wasm --script sim/agent.toml
courtyard plugin pack . {{name}}.wasm -o {{name}}-0.1.0.cyp
courtyard plugin sign {{name}}-0.1.0.cyp --key ~/.courtyard/keys/<vendor>-key.key
```

The SDK imports every `courtyard:flow` interface. `plugin.toml` requests only what the flow calls
(`capabilities`) and lists the rest in `unused-imports`: the host links those with functions that
trap, so the operator grants only what the flow uses. When the flow starts calling one (say
`billing`), move it from `unused-imports` to `capabilities` (`billing.read`).
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path, world: World) -> ScaffoldOptions {
        ScaffoldOptions {
            name: "hello-flow".into(),
            vendor: "acme".into(),
            dir: dir.to_path_buf(),
            world,
            sdk_path: PathBuf::from("../plugin-sdk"),
        }
    }

    #[test]
    fn python_and_js_projects_have_manifest_source_build_and_sim() {
        let tmp = tempfile::tempdir().unwrap();
        for (lang, source, world) in
            [(Lang::Python, "app.py", World::Inbound), (Lang::Js, "app.js", World::Outbound)]
        {
            let dir = tmp.path().join(format!("{lang:?}"));
            let root = new_plugin_in(&options(&dir, world), lang).unwrap();
            let manifest = Manifest::parse(&fs::read(root.join("plugin.toml")).unwrap()).unwrap();
            assert_eq!(manifest.world, world);
            // What the template calls is requested; every other interface the SDK imports is
            // declared unused, so the whole world is covered without granting it.
            assert_eq!(manifest.requested(), [crate::Capability::Call, crate::Capability::Log]);
            let covered: Vec<&str> = manifest.capabilities.iter().map(|c| c.interface()).chain(manifest.unused_imports.iter().map(String::as_str)).collect();
            for iface in ["call", "directory", "billing", "work-orders", "notify", "kv", "log", "config", "clock", "content"] {
                assert!(covered.contains(&iface), "{iface} is neither requested nor declared unused");
            }
            let src = fs::read_to_string(root.join(source)).unwrap();
            assert!(!src.contains("{{"), "{source} has an unfilled placeholder");
            let build = fs::read_to_string(root.join("build.sh")).unwrap();
            assert!(build.contains("../plugin-sdk") && build.contains(world.name()), "{build}");
            assert!(root.join("sim/agent.toml").is_file());
            assert!(new_plugin_in(&options(&dir, world), lang).is_err(), "an existing project is not overwritten");
        }
    }

    #[test]
    fn language_names_parse() {
        assert_eq!("python".parse::<Lang>(), Ok(Lang::Python));
        assert_eq!("js".parse::<Lang>(), Ok(Lang::Js));
        assert_eq!("rust".parse::<Lang>(), Ok(Lang::Rust));
        assert!("go".parse::<Lang>().is_err());
    }
}
