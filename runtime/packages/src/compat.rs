//! WIT compatibility between a plugin and this host.
//!
//! Compatibility follows semantic versioning exactly as wasmtime's component linker applies it
//! when it resolves `courtyard:flow/*@x.y.z` imports, so a package accepted here also links:
//! - from 1.0 on, a **major** line is one contract: a plugin built against the same major and an
//!   **older or equal minor** finds everything it imports (minors only add);
//! - before 1.0 (today: `courtyard:flow@0.1.x`), the **minor** is the contract line and the patch
//!   is the additive step: a plugin built against the same `0.minor` and an older or equal patch
//!   is accepted.
//!
//! A plugin built against a newer additive step may import functions this host lacks, and another
//! line is another contract: both are refused with the versions named, before anything is
//! compiled.

use std::fmt;
use std::str::FromStr;

use semver::Version;

/// The WIT package every plugin targets.
pub const WIT_PACKAGE: &str = "courtyard:flow";

/// The `courtyard:flow` version this host implements.
pub fn host_version() -> Version {
    Version::new(0, 1, 0)
}

/// A WIT package reference from a manifest: `courtyard:flow@0.1.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitTarget {
    /// Package name, `namespace:name`.
    pub package: String,
    /// Package version.
    pub version: Version,
}

impl fmt::Display for WitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.package, self.version)
    }
}

impl FromStr for WitTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (package, version) = s
            .split_once('@')
            .ok_or_else(|| format!("'{s}' has no version; write it as '{WIT_PACKAGE}@{}'", host_version()))?;
        let valid_name = package.split_once(':').is_some_and(|(ns, name)| {
            let ok = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            ok(ns) && ok(name)
        });
        if !valid_name {
            return Err(format!("'{package}' is not a WIT package name like '{WIT_PACKAGE}'"));
        }
        let version = Version::parse(version)
            .map_err(|e| format!("'{version}' is not a semantic version ({e})"))?;
        Ok(WitTarget { package: package.to_string(), version })
    }
}

/// Why a WIT version is incompatible with the host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Incompatibility {
    /// The plugin targets another WIT package altogether.
    #[error("it targets WIT package '{plugin}', but this host implements '{WIT_PACKAGE}'")]
    OtherPackage {
        /// The package the plugin names.
        plugin: String,
    },
    /// Another contract line (another major; before 1.0, another minor).
    #[error("it targets {WIT_PACKAGE}@{plugin}, an incompatible version line with this host's {WIT_PACKAGE}@{host}; rebuild it against {host}")]
    DifferentMajor {
        /// Plugin's version.
        plugin: Version,
        /// Host's version.
        host: Version,
    },
    /// A newer additive step (minor; before 1.0, patch): it may use functions this host lacks.
    #[error("it targets {WIT_PACKAGE}@{plugin}, newer than this host's {WIT_PACKAGE}@{host}; upgrade Courtyard or rebuild the plugin against {host}")]
    NewerMinor {
        /// Plugin's version.
        plugin: Version,
        /// Host's version.
        host: Version,
    },
}

/// Check a plugin's targeted `courtyard:flow` version against the host's.
pub fn check(plugin: &Version, host: &Version) -> Result<(), Incompatibility> {
    // The contract line: the major from 1.0 on, `0.minor` before (as cargo and wasmtime read it).
    let line = |v: &Version| if v.major > 0 { (v.major, 0) } else { (0, v.minor) };
    // The additive step within a line.
    let step = |v: &Version| if v.major > 0 { v.minor } else { v.patch };
    if line(plugin) != line(host) {
        return Err(Incompatibility::DifferentMajor { plugin: plugin.clone(), host: host.clone() });
    }
    if step(plugin) > step(host) {
        return Err(Incompatibility::NewerMinor { plugin: plugin.clone(), host: host.clone() });
    }
    Ok(())
}

/// Check a manifest's `wit` target (package and version) against the host's version.
pub fn check_target(target: &WitTarget, host: &Version) -> Result<(), Incompatibility> {
    if target.package != WIT_PACKAGE {
        return Err(Incompatibility::OtherPackage { plugin: target.package.clone() });
    }
    check(&target.version, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn older_or_equal_additive_steps_are_accepted() {
        assert!(check(&v("0.1.0"), &v("0.1.0")).is_ok());
        assert!(check(&v("0.1.0"), &v("0.1.3")).is_ok());
        assert!(check(&v("1.2.0"), &v("1.4.1")).is_ok());
        assert!(check(&v("1.4.9"), &v("1.4.1")).is_ok(), "after 1.0 the patch never changes the interface");
    }

    #[test]
    fn newer_steps_and_other_lines_are_refused_with_versions() {
        let e = check(&v("0.1.4"), &v("0.1.0")).unwrap_err();
        assert!(matches!(e, Incompatibility::NewerMinor { .. }), "{e}");
        assert!(e.to_string().contains("0.1.4") && e.to_string().contains("0.1.0"), "{e}");
        let e = check(&v("1.5.0"), &v("1.4.1")).unwrap_err();
        assert!(matches!(e, Incompatibility::NewerMinor { .. }), "{e}");
        // Before 1.0 a minor is a contract line of its own (wasmtime would not link 0.0.x to 0.1.x).
        for (plugin, host) in [("0.2.0", "0.1.0"), ("0.0.3", "0.1.0"), ("1.0.0", "0.1.0"), ("1.0.0", "2.0.0")] {
            let e = check(&v(plugin), &v(host)).unwrap_err();
            assert!(matches!(e, Incompatibility::DifferentMajor { .. }), "{plugin} on {host}: {e}");
            assert!(e.to_string().contains(plugin) && e.to_string().contains(host), "{e}");
        }
    }

    #[test]
    fn targets_parse_strictly() {
        let t: WitTarget = "courtyard:flow@0.1.0".parse().unwrap();
        assert_eq!(t.to_string(), "courtyard:flow@0.1.0");
        assert!("courtyard:flow".parse::<WitTarget>().unwrap_err().contains("no version"));
        assert!("flow@0.1.0".parse::<WitTarget>().is_err());
        assert!("courtyard:flow@0.1".parse::<WitTarget>().unwrap_err().contains("semantic version"));
        let other: WitTarget = "acme:flow@0.1.0".parse().unwrap();
        assert!(matches!(check_target(&other, &host_version()), Err(Incompatibility::OtherPackage { .. })));
    }
}
