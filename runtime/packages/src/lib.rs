//! Courtyard plugin packages: a call flow travels from its vendor to an operator as one signed
//! file that names its vendor, the `courtyard:flow` version it targets and the capabilities it
//! needs; this crate builds (`pack`), signs, verifies, publishes to OCI registries and scaffolds
//! them. Running plugins is `courtyard-flows`' job: it receives a [`VerifiedPackage`] and links
//! only the interfaces the operator granted.
//!
//! The flow, as the CLI exposes it:
//!
//! 1. vendor: `plugin new` → write the flow → build → `plugin pack` ([`pack`]) → `plugin sign`
//!    ([`sign()`], with a key from [`keygen`]) → `plugin push` ([`push`]);
//! 2. operator: `plugin pull` ([`pull`]) → `plugin verify` ([`verify`] against a
//!    [`TrustStore`]) → grant ([`VerifiedPackage::check_granted`]) → install in the host.
//!
//! See `README.md` for the API summary and `docs/packages.md` for the file formats.

pub mod capabilities;
pub mod compat;
pub mod component;
pub mod error;
pub mod manifest;
pub mod oci;
pub mod package;
pub mod scaffold;
pub mod scaffold_lang;
pub mod sign;
pub mod trust;
pub mod verify;

pub use capabilities::{Capability, parse_grants};
pub use error::PackageError;
pub use manifest::{Manifest, ManifestError, World};
pub use oci::{OciOptions, PulledPackage, RegistryAuth, pull, pull_with, push, push_with};
pub use package::{PackageFiles, PackageInfo, SignatureInfo, inspect, pack, pack_bytes, sign, sign_bytes};
pub use scaffold::{ScaffoldOptions, new_plugin};
pub use scaffold_lang::{Lang, new_plugin_in};
pub use sign::{KeyPairPaths, PublicKey, SecretKey, keygen};
pub use trust::{TrustStore, TrustedKey};
pub use verify::{InstallPolicy, RefusedReason, Signer, VerifiedPackage, verify, verify_with};
