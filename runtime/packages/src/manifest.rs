//! `plugin.toml`: what a plugin is, who made it, what it targets and what it needs.
//!
//! Parsing is strict — unknown keys, duplicate capabilities, a version that is not semver, a
//! world the contract does not define are all errors naming the field — because the manifest is
//! what the operator approves and the signature covers: a typo silently ignored here would be a
//! capability silently granted or a limit silently dropped.
//!
//! ```toml
//! name = "bill-lookup"
//! version = "1.2.0"
//! vendor = "acme"
//! description = "Bills, arrears and payment-link SMS for the caller's unit"
//! wit = "courtyard:flow@0.1.0"
//! world = "inbound-flow"
//! capabilities = ["call", "directory.read", "billing.read", "notify.sms", "log"]
//! memory-mib = 32
//! config-schema = '''{ "type": "object", "properties": { "queue": { "type": "string" } } }'''
//! ```

use std::collections::BTreeSet;
use std::fmt;

use semver::Version;
use serde::Deserialize;

use crate::capabilities::Capability;
use crate::compat::WitTarget;

/// Memory cap used when the manifest does not ask for one, MiB.
pub const DEFAULT_MEMORY_MIB: u32 = 32;
/// Largest memory cap a manifest may ask for at all, MiB (the operator's ceiling is lower).
pub const MAX_MEMORY_MIB: u32 = 4096;
/// Largest `plugin.toml` accepted, bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// The world a plugin's component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum World {
    /// `inbound-flow`: answers calls to the service number.
    Inbound,
    /// `outbound-flow`: runs on answered campaign calls.
    Outbound,
}

impl World {
    /// The WIT world name.
    pub fn name(self) -> &'static str {
        match self {
            World::Inbound => "inbound-flow",
            World::Outbound => "outbound-flow",
        }
    }

    /// The function exports the world requires of the component.
    pub fn exports(self) -> &'static [&'static str] {
        match self {
            World::Inbound => &["check-config", "handle-call"],
            World::Outbound => &["check-config", "on-answer"],
        }
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed, validated `plugin.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Plugin name: lowercase letters, digits and `-`; also its kv namespace and OCI repository.
    pub name: String,
    /// Plugin version (semver).
    pub version: Version,
    /// Vendor id; must match the vendor of the key that signs it.
    pub vendor: String,
    /// One-line description shown at install.
    pub description: String,
    /// The `courtyard:flow` version it was built against.
    pub wit: WitTarget,
    /// The world it implements.
    pub world: World,
    /// Requested capabilities (`config` always included).
    pub capabilities: BTreeSet<Capability>,
    /// `courtyard:flow` interfaces the component imports but never calls (componentize-py and
    /// componentize-js import the whole world whatever the flow uses). Nothing is requested for
    /// them: the host links them with functions that trap, so the operator grants only what
    /// the flow really uses.
    pub unused_imports: BTreeSet<String>,
    /// Requested linear-memory cap, MiB.
    pub memory_mib: u32,
    /// JSON schema of its configuration (`{}` accepts anything).
    pub config_schema: serde_json::Value,
}

/// A `plugin.toml` problem, naming the field when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not valid TOML or the wrong shape (missing key, unknown key, wrong type).
    #[error("plugin.toml: {0}")]
    Syntax(String),
    /// A field's value is not acceptable.
    #[error("plugin.toml: field `{field}`: {problem}")]
    Field {
        /// The key, as written in plugin.toml.
        field: &'static str,
        /// What is wrong and what is expected.
        problem: String,
    },
}

fn field(field: &'static str, problem: impl Into<String>) -> ManifestError {
    ManifestError::Field { field, problem: problem.into() }
}

/// The TOML shape before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawManifest {
    name: String,
    version: String,
    vendor: String,
    description: String,
    wit: String,
    world: String,
    capabilities: Vec<String>,
    unused_imports: Option<Vec<String>>,
    memory_mib: Option<i64>,
    config_schema: Option<toml::Value>,
}

/// A name usable as kv namespace, OCI repository segment and file name.
fn check_ident(which: &'static str, s: &str) -> Result<(), ManifestError> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(field(which, format!("'{s}' must be 1-63 lowercase letters, digits or '-', starting with a letter")))
    }
}

impl Manifest {
    /// Parse and validate `plugin.toml` bytes.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::Syntax(format!("{} bytes, more than the {MAX_MANIFEST_BYTES} allowed", bytes.len())));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| ManifestError::Syntax(format!("not UTF-8: {e}")))?;
        let raw: RawManifest = toml::from_str(text).map_err(|e| ManifestError::Syntax(e.to_string().trim().to_string()))?;

        check_ident("name", &raw.name)?;
        check_ident("vendor", &raw.vendor)?;
        let version = Version::parse(raw.version.trim())
            .map_err(|e| field("version", format!("'{}' is not a semantic version like 1.2.0 ({e})", raw.version)))?;
        let description = raw.description.trim().to_string();
        if description.is_empty() || description.chars().count() > 500 {
            return Err(field("description", "must be 1-500 characters"));
        }
        let wit: WitTarget = raw.wit.parse().map_err(|e: String| field("wit", e))?;
        let world = match raw.world.as_str() {
            "inbound-flow" => World::Inbound,
            "outbound-flow" => World::Outbound,
            other => return Err(field("world", format!("'{other}' is not a world of courtyard:flow (inbound-flow, outbound-flow)"))),
        };
        let mut capabilities = BTreeSet::new();
        for name in &raw.capabilities {
            let cap: Capability = name.parse().map_err(|e: crate::capabilities::UnknownCapability| field("capabilities", e.to_string()))?;
            if !capabilities.insert(cap) {
                return Err(field("capabilities", format!("'{name}' is listed twice")));
            }
        }
        capabilities.insert(Capability::Config);
        let mut unused_imports = BTreeSet::new();
        for iface in raw.unused_imports.unwrap_or_default() {
            let covering = Capability::covering(&iface);
            if covering.is_empty() || iface == "config" {
                return Err(field(
                    "unused-imports",
                    format!("'{iface}' is not an interface that can be left ungranted (call, directory, billing, work-orders, notify, kv, log, clock, content)"),
                ));
            }
            if let Some(c) = covering.iter().find(|c| capabilities.contains(c)) {
                return Err(field(
                    "unused-imports",
                    format!("'{iface}' is also requested by capability '{c}'; a flow either uses an interface or declares it unused"),
                ));
            }
            if !unused_imports.insert(iface.clone()) {
                return Err(field("unused-imports", format!("'{iface}' is listed twice")));
            }
        }
        let memory_mib = match raw.memory_mib {
            None => DEFAULT_MEMORY_MIB,
            Some(m) if (1..=i64::from(MAX_MEMORY_MIB)).contains(&m) => m as u32,
            Some(m) => return Err(field("memory-mib", format!("{m} is outside 1..={MAX_MEMORY_MIB} MiB"))),
        };
        let config_schema = match raw.config_schema {
            None => serde_json::json!({}),
            Some(toml::Value::String(json)) => serde_json::from_str(&json)
                .map_err(|e| field("config-schema", format!("not valid JSON: {e}")))?,
            Some(table @ toml::Value::Table(_)) => serde_json::to_value(&table)
                .map_err(|e| field("config-schema", format!("cannot be expressed as JSON: {e}")))?,
            Some(_) => return Err(field("config-schema", "must be a JSON object in a string, or a TOML table")),
        };
        check_schema(&config_schema)?;

        Ok(Manifest {
            name: raw.name,
            version,
            vendor: raw.vendor,
            description,
            wit,
            world,
            capabilities,
            unused_imports,
            memory_mib,
            config_schema,
        })
    }

    /// The requested capabilities without the implicit `config`, as written in the manifest.
    pub fn requested(&self) -> Vec<Capability> {
        self.capabilities.iter().copied().filter(|c| *c != Capability::Config).collect()
    }
}

/// The structural checks we make on a config schema: an object; if it says `type`, it is
/// `object` (the configuration is always a JSON document with keys); `properties`, when present,
/// is an object of objects; `required`, when present, is a list of strings.
fn check_schema(schema: &serde_json::Value) -> Result<(), ManifestError> {
    let obj = schema
        .as_object()
        .ok_or_else(|| field("config-schema", "must be a JSON object (a JSON schema)"))?;
    if let Some(t) = obj.get("type")
        && t != "object"
    {
        return Err(field("config-schema", format!("root `type` must be \"object\", found {t}")));
    }
    if let Some(p) = obj.get("properties") {
        let props = p.as_object().ok_or_else(|| field("config-schema", "`properties` must be an object"))?;
        if let Some((k, _)) = props.iter().find(|(_, v)| !v.is_object()) {
            return Err(field("config-schema", format!("`properties.{k}` must be a schema object")));
        }
    }
    if let Some(r) = obj.get("required") {
        let ok = r.as_array().is_some_and(|a| a.iter().all(|v| v.is_string()));
        if !ok {
            return Err(field("config-schema", "`required` must be a list of property names"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "bill-lookup"
version = "1.2.0"
vendor = "acme"
description = "Bills and arrears"
wit = "courtyard:flow@0.1.0"
world = "inbound-flow"
capabilities = ["call", "directory.read", "billing.read", "notify.sms", "log"]
memory-mib = 48
config-schema = '''{ "type": "object", "properties": { "queue": { "type": "string" } }, "required": ["queue"] }'''
"#;

    fn with(line_prefix: &str, replacement: &str) -> String {
        GOOD.lines()
            .map(|l| if l.starts_with(line_prefix) { replacement.to_string() } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn unused_imports_name_interfaces_not_requested() {
        let m = Manifest::parse(format!("{GOOD}unused-imports = [\"kv\", \"work-orders\"]\n").as_bytes()).unwrap();
        assert_eq!(m.unused_imports.iter().map(String::as_str).collect::<Vec<_>>(), ["kv", "work-orders"]);
        assert!(Manifest::parse(GOOD.as_bytes()).unwrap().unused_imports.is_empty());
        for (list, problem) in [
            (r#"["billing"]"#, "also requested by capability 'billing.read'"),
            (r#"["billing.read"]"#, "not an interface"),
            (r#"["config"]"#, "not an interface"),
            (r#"["kv", "kv"]"#, "listed twice"),
        ] {
            let err = Manifest::parse(format!("{GOOD}unused-imports = {list}\n").as_bytes()).unwrap_err().to_string();
            assert!(err.contains("`unused-imports`") && err.contains(problem), "{list}: {err}");
        }
    }

    #[test]
    fn good_manifest_parses() {
        let m = Manifest::parse(GOOD.as_bytes()).unwrap();
        assert_eq!(m.name, "bill-lookup");
        assert_eq!(m.version, Version::new(1, 2, 0));
        assert_eq!(m.world, World::Inbound);
        assert_eq!(m.memory_mib, 48);
        assert!(m.capabilities.contains(&Capability::NotifySms));
        assert!(m.capabilities.contains(&Capability::Config));
        assert_eq!(m.requested().len(), 5);
        assert_eq!(m.config_schema["required"][0], "queue");
    }

    #[test]
    fn table_schema_and_defaults() {
        let t = GOOD
            .replace("memory-mib = 48\n", "")
            .replace(
                "config-schema = '''{ \"type\": \"object\", \"properties\": { \"queue\": { \"type\": \"string\" } }, \"required\": [\"queue\"] }'''",
                "[config-schema]\ntype = \"object\"\n[config-schema.properties.queue]\ntype = \"string\"",
            );
        let m = Manifest::parse(t.as_bytes()).unwrap();
        assert_eq!(m.memory_mib, DEFAULT_MEMORY_MIB);
        assert_eq!(m.config_schema["properties"]["queue"]["type"], "string");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (with("version", "version = \"1.2\""), "`version`"),
            (with("name", "name = \"Bill Lookup\""), "`name`"),
            (with("vendor", "vendor = \"\""), "`vendor`"),
            (with("world", "world = \"sideways-flow\""), "`world`"),
            (with("wit", "wit = \"courtyard:flow\""), "`wit`"),
            (with("capabilities", "capabilities = [\"call\", \"billing\"]"), "`capabilities`"),
            (with("capabilities", "capabilities = [\"call\", \"call\"]"), "twice"),
            (with("memory-mib", "memory-mib = 0"), "`memory-mib`"),
            (with("memory-mib", "memory-mib = 100000"), "`memory-mib`"),
            (with("config-schema", "config-schema = '''[1, 2]'''"), "`config-schema`"),
            (with("config-schema", "config-schema = '''{ \"type\": \"string\" }'''"), "`config-schema`"),
            (with("config-schema", "config-schema = '''{ nope'''"), "`config-schema`"),
            (with("description", "description = \"  \""), "`description`"),
        ];
        for (text, needle) in cases {
            let err = Manifest::parse(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(needle), "expected {needle} in: {err}");
        }
    }

    #[test]
    fn unknown_and_missing_keys_are_refused() {
        let err = Manifest::parse(format!("{GOOD}\nnetwork = true\n").as_bytes()).unwrap_err().to_string();
        assert!(err.contains("network"), "{err}");
        let err = Manifest::parse(with("vendor", "").as_bytes()).unwrap_err().to_string();
        assert!(err.contains("vendor"), "{err}");
    }
}
