//! Capabilities an operator grants to a plugin, and the install-time check of its imports.
//!
//! A plugin may only import the `courtyard:flow/*` interfaces it was granted; the host links
//! nothing else. Checking the component's declared imports at install (instead of failing at
//! first use) gives the operator a clear refusal naming the interface before any call reaches it.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One grantable interface of package `courtyard:flow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// `call`: control of the live call.
    Call,
    /// `directory`: caller lookup, units, estates.
    Directory,
    /// `billing`: bills and arrears.
    Billing,
    /// `work-orders`: work orders and callbacks.
    WorkOrders,
    /// `notify`: SMS, e-mail, webhook, on-duty messages.
    Notify,
    /// `kv`: plugin-scoped storage.
    Kv,
    /// `log`: per-call trace logging.
    Log,
    /// `config`: the plugin's own configuration (always granted).
    Config,
    /// `clock`: time and calendars.
    Clock,
    /// `content`: announcements and knowledge base.
    Content,
}

impl Capability {
    /// Every capability, in WIT order.
    pub const ALL: [Capability; 10] = [
        Capability::Call,
        Capability::Directory,
        Capability::Billing,
        Capability::WorkOrders,
        Capability::Notify,
        Capability::Kv,
        Capability::Log,
        Capability::Config,
        Capability::Clock,
        Capability::Content,
    ];

    /// The WIT interface name (`work-orders`).
    pub fn interface(self) -> &'static str {
        match self {
            Capability::Call => "call",
            Capability::Directory => "directory",
            Capability::Billing => "billing",
            Capability::WorkOrders => "work-orders",
            Capability::Notify => "notify",
            Capability::Kv => "kv",
            Capability::Log => "log",
            Capability::Config => "config",
            Capability::Clock => "clock",
            Capability::Content => "content",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

/// A capability name that is not an interface of `courtyard:flow`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown capability '{0}' (known: call, directory, billing, work-orders, notify, kv, log, config, clock, content)")]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.interface() == s)
            .ok_or_else(|| UnknownCapability(s.to_string()))
    }
}

/// The set of capabilities granted to one plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants(BTreeSet<Capability>);

impl Grants {
    /// Everything (the simulator's default and a trusted first-party plugin's).
    pub fn all() -> Self {
        Grants(Capability::ALL.into_iter().collect())
    }

    /// Exactly these capabilities, plus `config` which is always granted.
    pub fn only(caps: impl IntoIterator<Item = Capability>) -> Self {
        let mut set: BTreeSet<Capability> = caps.into_iter().collect();
        set.insert(Capability::Config);
        Grants(set)
    }

    /// Parse names like `["call", "billing"]`.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, UnknownCapability> {
        Ok(Grants::only(parse_interfaces(names)?))
    }

    /// Whether `cap` is granted.
    pub fn allows(&self, cap: Capability) -> bool {
        cap == Capability::Config || self.0.contains(&cap)
    }

    /// The granted capabilities.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }
}

impl Default for Grants {
    fn default() -> Self {
        Grants::all()
    }
}

/// Interface names (`billing`, `work-orders`) as capabilities: for grants, and for the
/// interfaces a plugin declares unused.
pub fn parse_interfaces<S: AsRef<str>>(names: &[S]) -> Result<BTreeSet<Capability>, UnknownCapability> {
    names.iter().map(|n| n.as_ref().trim().parse()).collect()
}

/// Why a component's imports were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportRefusal {
    /// It imports a `courtyard:flow` interface the operator did not grant.
    #[error("plugin imports interface 'courtyard:flow/{interface}' which is not granted (granted: {granted}); grant '{interface}', declare it unused if the plugin never calls it (toolchains that import every interface), or rebuild the plugin without it")]
    NotGranted {
        /// The interface name, e.g. `billing`.
        interface: String,
        /// The granted list, for the message.
        granted: String,
    },
    /// It imports something the host does not provide at all.
    #[error("plugin imports '{0}', which this host does not provide (only courtyard:flow/* and wasi:* are available)")]
    Unknown(String),
}

/// The interface part of an import name: `courtyard:flow/billing@0.1.0` -> `billing`.
pub(crate) fn flow_interface(import: &str) -> Option<&str> {
    let rest = import.strip_prefix("courtyard:flow/")?;
    Some(rest.split('@').next().unwrap_or(rest))
}

/// Check each import name of a component against the grants (the `types` interface, which
/// holds only type definitions, is always allowed; so are `wasi:*` imports, linked with nothing
/// granted). An ungranted interface in `unused` passes too: it is linked with functions that
/// trap (see [`InstallSpec::unused_imports`](crate::InstallSpec::unused_imports)).
pub fn check_imports<'a>(
    imports: impl IntoIterator<Item = &'a str>,
    grants: &Grants,
    unused: &BTreeSet<Capability>,
) -> Result<(), ImportRefusal> {
    for name in imports {
        if name.starts_with("wasi:") {
            continue;
        }
        match flow_interface(name) {
            Some("types") => {}
            Some(iface) => match iface.parse::<Capability>() {
                Ok(cap) if grants.allows(cap) || unused.contains(&cap) => {}
                Ok(_) => {
                    let granted: Vec<String> = grants.iter().map(|c| c.to_string()).collect();
                    return Err(ImportRefusal::NotGranted {
                        interface: iface.to_string(),
                        granted: granted.join(", "),
                    });
                }
                Err(_) => return Err(ImportRefusal::Unknown(name.to_string())),
            },
            None => return Err(ImportRefusal::Unknown(name.to_string())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ungranted_interface_is_named() {
        let grants = Grants::parse(&["call", "log"]).unwrap();
        let err = check_imports(
            ["wasi:cli/environment@0.2.6", "courtyard:flow/call@0.1.0", "courtyard:flow/billing@0.1.0"],
            &grants,
            &BTreeSet::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("courtyard:flow/billing"), "{err}");
        // Declared unused, it passes (and is linked as traps); the others still need a grant.
        let unused = BTreeSet::from([Capability::Billing]);
        check_imports(["courtyard:flow/call@0.1.0", "courtyard:flow/billing@0.1.0"], &grants, &unused).unwrap();
        assert!(check_imports(["courtyard:flow/kv@0.1.0"], &grants, &unused).is_err());
    }

    #[test]
    fn types_config_and_wasi_always_pass() {
        let grants = Grants::parse::<&str>(&[]).unwrap();
        check_imports(
            ["courtyard:flow/types@0.1.0", "courtyard:flow/config@0.1.0", "wasi:io/streams@0.2.0"],
            &grants,
            &BTreeSet::new(),
        )
        .unwrap();
    }

    #[test]
    fn unknown_imports_are_refused() {
        let none = BTreeSet::new();
        let err = check_imports(["acme:evil/net"], &Grants::all(), &none).unwrap_err();
        assert_eq!(err, ImportRefusal::Unknown("acme:evil/net".into()));
        assert!(check_imports(["courtyard:flow/sockets@0.1.0"], &Grants::all(), &none).is_err());
        assert!("http".parse::<Capability>().is_err());
    }
}
