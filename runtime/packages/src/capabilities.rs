//! Capabilities a plugin declares in `plugin.toml`, how they map to `courtyard:flow` interfaces,
//! and the two checks built on them.
//!
//! A capability is finer than an interface (`work-orders.read` vs `work-orders.write`,
//! `notify.sms` vs `notify.email`) so an operator sees *what* a vendor's flow wants to do, not
//! only which interface it links. Linking is per interface, though: the component model has no
//! smaller unit, so an import of `courtyard:flow/notify` is covered by any `notify.*` capability
//! and the host enforces the finer part (the SMS channel only, read-only work orders) at call time.
//!
//! The checks:
//! * [`check_imports`] — the component's *actual* imports must be covered by its *declared*
//!   capabilities (run by `pack` and `verify`); a vendor cannot ship a flow that links `billing`
//!   without saying so in its manifest.
//! * [`check_granted`] — the operator's grants must include everything the manifest requests
//!   (run at install); nothing is activated with a partial grant.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::compat::{self, WIT_PACKAGE};
use crate::verify::RefusedReason;

/// One capability a plugin can request and an operator can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Capability {
    /// `call`: control the live call (say, collect, record, transfer, enqueue).
    Call,
    /// `directory.read`: look up callers, units, estates, warranty items.
    DirectoryRead,
    /// `billing.read`: bills, arrears and payment links of a unit.
    BillingRead,
    /// `work-orders.read`: read work orders of a unit or by number.
    WorkOrdersRead,
    /// `work-orders.write`: create, rate work orders and callback tasks (implies reading).
    WorkOrdersWrite,
    /// `notify.sms`: send SMS.
    NotifySms,
    /// `notify.email`: send e-mail.
    NotifyEmail,
    /// `notify.webhook`: call the firm's webhook.
    NotifyWebhook,
    /// `notify.on-duty`: page the on-duty engineer.
    NotifyOnDuty,
    /// `kv`: plugin-scoped key-value storage.
    Kv,
    /// `log`: write to the per-call trace.
    Log,
    /// `config`: read the plugin's own configuration (always granted).
    Config,
    /// `clock`: current time and working-hours calendars.
    Clock,
    /// `content`: announcements and knowledge-base answers.
    Content,
}

impl Capability {
    /// Every capability, in WIT interface order.
    pub const ALL: [Capability; 14] = [
        Capability::Call,
        Capability::DirectoryRead,
        Capability::BillingRead,
        Capability::WorkOrdersRead,
        Capability::WorkOrdersWrite,
        Capability::NotifySms,
        Capability::NotifyEmail,
        Capability::NotifyWebhook,
        Capability::NotifyOnDuty,
        Capability::Kv,
        Capability::Log,
        Capability::Config,
        Capability::Clock,
        Capability::Content,
    ];

    /// The name used in `plugin.toml` and on the CLI (`work-orders.write`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Call => "call",
            Capability::DirectoryRead => "directory.read",
            Capability::BillingRead => "billing.read",
            Capability::WorkOrdersRead => "work-orders.read",
            Capability::WorkOrdersWrite => "work-orders.write",
            Capability::NotifySms => "notify.sms",
            Capability::NotifyEmail => "notify.email",
            Capability::NotifyWebhook => "notify.webhook",
            Capability::NotifyOnDuty => "notify.on-duty",
            Capability::Kv => "kv",
            Capability::Log => "log",
            Capability::Config => "config",
            Capability::Clock => "clock",
            Capability::Content => "content",
        }
    }

    /// The `courtyard:flow` interface whose import this capability covers (`work-orders`).
    pub fn interface(self) -> &'static str {
        match self {
            Capability::Call => "call",
            Capability::DirectoryRead => "directory",
            Capability::BillingRead => "billing",
            Capability::WorkOrdersRead | Capability::WorkOrdersWrite => "work-orders",
            Capability::NotifySms
            | Capability::NotifyEmail
            | Capability::NotifyWebhook
            | Capability::NotifyOnDuty => "notify",
            Capability::Kv => "kv",
            Capability::Log => "log",
            Capability::Config => "config",
            Capability::Clock => "clock",
            Capability::Content => "content",
        }
    }

    /// What granting it allows, in words for the operator's install prompt.
    pub fn description(self) -> &'static str {
        match self {
            Capability::Call => "control the live call: play prompts, collect digits, record, transfer, queue",
            Capability::DirectoryRead => "look up callers, units, estates and warranty periods",
            Capability::BillingRead => "read bills and arrears and create payment links",
            Capability::WorkOrdersRead => "read work orders",
            Capability::WorkOrdersWrite => "create and rate work orders and callback tasks",
            Capability::NotifySms => "send SMS messages",
            Capability::NotifyEmail => "send e-mail",
            Capability::NotifyWebhook => "call the firm's webhook",
            Capability::NotifyOnDuty => "page the on-duty engineer",
            Capability::Kv => "store data of its own (isolated per plugin)",
            Capability::Log => "write to the per-call trace",
            Capability::Config => "read its own configuration",
            Capability::Clock => "read the time and working-hours calendars",
            Capability::Content => "read announcements and knowledge-base answers",
        }
    }

    /// Capabilities whose declaration covers an import of `interface`, for error messages.
    pub fn covering(interface: &str) -> Vec<Capability> {
        Capability::ALL.into_iter().filter(|c| c.interface() == interface).collect()
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A capability name that Courtyard does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability '{0}' (known: {known})", known = known_names())]
pub struct UnknownCapability(pub String);

/// The known names, comma separated, for error messages.
pub fn known_names() -> String {
    Capability::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
}

impl FromStr for Capability {
    type Err = UnknownCapability;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownCapability(s.to_string()))
    }
}

/// Parse a list of capability names (CLI `--grant call,billing.read`); `config` is added since
/// it is always granted.
pub fn parse_grants<S: AsRef<str>>(names: &[S]) -> Result<BTreeSet<Capability>, UnknownCapability> {
    let mut set = names
        .iter()
        .map(|n| n.as_ref().trim().parse())
        .collect::<Result<BTreeSet<Capability>, _>>()?;
    set.insert(Capability::Config);
    Ok(set)
}

/// The interface names covered by a set of capabilities, deduplicated, in WIT order — what the
/// host's linker (`courtyard_flows::Grants::parse`) takes.
pub fn interfaces(caps: &BTreeSet<Capability>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in Capability::ALL {
        if caps.contains(&c) && !out.contains(&c.interface()) {
            out.push(c.interface());
        }
    }
    out
}

/// An import name split into package, interface and version:
/// `courtyard:flow/billing@0.1.0` → (`courtyard:flow`, `billing`, `0.1.0`).
fn split_import(name: &str) -> Option<(&str, &str, Option<&str>)> {
    let (pkg, rest) = name.split_once('/')?;
    let (iface, version) = match rest.split_once('@') {
        Some((i, v)) => (i, Some(v)),
        None => (rest, None),
    };
    Some((pkg, iface, version))
}

/// Check the component's import names against its declared capabilities and the host's WIT
/// version. `wasi:*` imports are allowed (the host links WASI with nothing granted: no files,
/// sockets or environment); `courtyard:flow/types` holds only types and is always allowed.
///
/// An interface in `unused` (the manifest's `unused-imports`) is covered too: the host links it
/// with functions that trap.
pub fn check_imports<S: AsRef<str>>(
    imports: &[S],
    declared: &BTreeSet<Capability>,
    unused: &BTreeSet<String>,
    host_wit: &Version,
) -> Result<(), RefusedReason> {
    for import in imports {
        let name = import.as_ref();
        if name.starts_with("wasi:") {
            continue;
        }
        let Some((pkg, iface, version)) = split_import(name) else {
            return Err(RefusedReason::UnknownImport { import: name.to_string() });
        };
        if pkg != WIT_PACKAGE {
            return Err(RefusedReason::UnknownImport { import: name.to_string() });
        }
        let Some(version) = version else {
            return Err(RefusedReason::UnknownImport { import: name.to_string() });
        };
        let version = Version::parse(version)
            .map_err(|_| RefusedReason::UnknownImport { import: name.to_string() })?;
        compat::check(&version, host_wit).map_err(|why| RefusedReason::WitIncompatible {
            what: format!("import '{name}'"),
            why,
        })?;
        if iface == "types" {
            continue;
        }
        let covering = Capability::covering(iface);
        if covering.is_empty() {
            return Err(RefusedReason::UnknownImport { import: name.to_string() });
        }
        // `config` is always granted, so importing it needs no declaration.
        if iface == "config" || covering.iter().any(|c| declared.contains(c)) || unused.contains(iface) {
            continue;
        }
        return Err(RefusedReason::UndeclaredCapability {
            interface: format!("{WIT_PACKAGE}/{iface}"),
            needs: covering.iter().map(|c| c.name()).collect::<Vec<_>>().join(" or "),
            declared: declared.iter().map(|c| c.name()).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(())
}

/// Check that the operator granted every requested capability (`config` is implicit).
pub fn check_granted(
    requested: &BTreeSet<Capability>,
    granted: &BTreeSet<Capability>,
) -> Result<(), RefusedReason> {
    let missing: Vec<&str> = requested
        .iter()
        .filter(|c| **c != Capability::Config && !granted.contains(c))
        .map(|c| c.name())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RefusedReason::NotGranted { missing: missing.join(", ") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Version {
        Version::new(0, 1, 0)
    }

    #[test]
    fn every_name_round_trips_and_maps_to_a_wit_interface() {
        let wit = include_str!("../../../wit/flow.wit");
        for c in Capability::ALL {
            assert_eq!(c.name().parse::<Capability>(), Ok(c));
            assert!(wit.contains(&format!("interface {} {{", c.interface())), "{c}");
        }
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = "billing".parse::<Capability>().unwrap_err().to_string();
        assert!(err.contains("'billing'") && err.contains("billing.read"), "{err}");
    }

    #[test]
    fn undeclared_import_is_named() {
        let declared: BTreeSet<_> = [Capability::Call, Capability::Log].into();
        let err = check_imports(
            &["wasi:cli/environment@0.2.6", "courtyard:flow/types@0.1.0", "courtyard:flow/call@0.1.0", "courtyard:flow/notify@0.1.0"],
            &declared,
            &BTreeSet::new(),
            &host(),
        )
        .unwrap_err();
        match &err {
            RefusedReason::UndeclaredCapability { interface, needs, .. } => {
                assert_eq!(interface, "courtyard:flow/notify");
                assert!(needs.contains("notify.sms"), "{needs}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // Declared unused instead of requested, the import is covered (the host links it as traps).
        let unused: BTreeSet<String> = ["notify".to_string()].into();
        check_imports(&["courtyard:flow/call@0.1.0", "courtyard:flow/notify@0.1.0"], &declared, &unused, &host()).unwrap();
    }

    #[test]
    fn foreign_imports_are_refused() {
        let declared: BTreeSet<_> = [Capability::Call].into();
        for bad in ["acme:evil/net@1.0.0", "courtyard:flow/sockets@0.1.0", "env"] {
            let err = check_imports(&[bad], &declared, &BTreeSet::new(), &host()).unwrap_err();
            assert!(matches!(err, RefusedReason::UnknownImport { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn grants_must_cover_requests() {
        let requested: BTreeSet<_> = [Capability::Call, Capability::NotifySms, Capability::Config].into();
        let granted = parse_grants(&["call"]).unwrap();
        let err = check_granted(&requested, &granted).unwrap_err().to_string();
        assert!(err.contains("notify.sms") && !err.contains("config"), "{err}");
        let granted = parse_grants(&["call", "notify.sms"]).unwrap();
        assert!(check_granted(&requested, &granted).is_ok());
        assert_eq!(interfaces(&granted), vec!["call", "notify", "config"]);
    }
}
