//! `courtyard plugin …`: the plugin vendor's and operator's tools for signed packages
//! (scaffold, pack, sign, verify, inspect, trust, push/pull through an OCI registry).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use courtyard_packages as pkg;

/// `courtyard plugin …`
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a new flow plugin crate.
    New {
        /// Plugin name (lowercase, dashes).
        name: String,
        /// Vendor name written into plugin.toml.
        #[arg(long, default_value = "my-company")]
        vendor: String,
        /// Parent directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// World: inbound-flow or outbound-flow.
        #[arg(long, default_value = "inbound-flow")]
        world: String,
        /// Path of the Courtyard plugin SDK the new crate depends on.
        #[arg(long, default_value = "plugin-sdk")]
        sdk: PathBuf,
        /// Language of the flow: rust, python (componentize-py) or js (componentize-js).
        #[arg(long, default_value = "rust")]
        lang: String,
    },
    /// Generate a vendor signing key pair (`<key-id>.key`, `<key-id>.pub`).
    Keygen {
        /// Key id, e.g. acme-2026.
        #[arg(long)]
        key_id: String,
        /// Vendor the key signs for.
        #[arg(long)]
        vendor: String,
        /// Output directory.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Pack plugin.toml and a component into one package file.
    Pack {
        /// plugin.toml, or the directory holding it.
        manifest: PathBuf,
        /// The component (.wasm).
        component: PathBuf,
        /// Output package file.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Sign a package with a vendor key.
    Sign {
        /// The package.
        package: PathBuf,
        /// Secret key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Verify a package against the operator's trusted keys (exit 0 when it may be installed).
    Verify {
        /// The package.
        package: PathBuf,
        /// Trust store (TOML).
        #[arg(long)]
        trust: PathBuf,
    },
    /// Show a package's manifest, digests, signer and imports (no trust needed).
    Inspect {
        /// The package.
        package: PathBuf,
    },
    /// Manage the operator's trusted vendor keys.
    Trust {
        /// Trust store (TOML), created when missing.
        #[arg(long)]
        trust: PathBuf,
        /// What to do.
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Push a package to an OCI registry (e.g. 127.0.0.1:5000/acme/ivr-main:1.2.0).
    Push {
        /// The package.
        package: PathBuf,
        /// Registry reference.
        reference: String,
    },
    /// Pull a package from an OCI registry by tag or digest.
    Pull {
        /// Registry reference (…:tag or …@sha256:…).
        reference: String,
        /// Output package file.
        #[arg(short, long)]
        out: PathBuf,
    },
}

/// `courtyard plugin trust …`
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust a vendor public key, optionally until a date (YYYY-MM-DD).
    Add {
        /// Public key file.
        key: PathBuf,
        /// Expiry date.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Stop trusting a key id.
    Remove {
        /// Key id.
        key_id: String,
    },
    /// List trusted keys.
    List,
}

/// Runs one `courtyard plugin …` command.
pub async fn run(cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginCommand::New { name, vendor, dir, world, sdk, lang } => {
            let lang: pkg::Lang = lang.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let world = match world.as_str() {
                "inbound-flow" | "inbound" => pkg::World::Inbound,
                "outbound-flow" | "outbound" => pkg::World::Outbound,
                other => anyhow::bail!("unknown world '{other}' (inbound-flow or outbound-flow)"),
            };
            let path = pkg::new_plugin_in(&pkg::ScaffoldOptions { name, vendor, dir, world, sdk_path: sdk }, lang)?;
            println!("created {}", path.display());
        }
        PluginCommand::Keygen { key_id, vendor, out } => {
            let k = pkg::keygen(&key_id, &vendor, &out)?;
            println!("secret key {} (keep private)\npublic key {}\nfingerprint {}", k.secret.display(), k.public.display(), k.fingerprint);
        }
        PluginCommand::Pack { manifest, component, out } => {
            let info = pkg::pack(&manifest, &component, &out)?;
            println!(
                "packed {} {} ({} bytes, component sha256 {}) into {}",
                info.manifest.name,
                info.manifest.version,
                info.size_bytes,
                info.component_sha256,
                out.display()
            );
        }
        PluginCommand::Sign { package, key } => {
            let s = pkg::sign(&package, &key)?;
            println!("signed {} with key {} (vendor {}, fingerprint {})", package.display(), s.key_id, s.vendor, s.fingerprint);
        }
        PluginCommand::Verify { package, trust } => {
            let store = pkg::TrustStore::load(&trust)?;
            let bytes = std::fs::read(&package).with_context(|| format!("cannot read {}", package.display()))?;
            match pkg::verify(&bytes, &store) {
                Ok(v) => {
                    println!(
                        "OK: {} {} by {} (key {}), digest {}",
                        v.manifest.name, v.manifest.version, v.signer.vendor, v.signer.key_id, v.digest
                    );
                    println!("requests:");
                    for c in v.requested() {
                        println!("  {:<20} {}", c.name(), c.description());
                    }
                    let unused = v.unused_interfaces();
                    if !unused.is_empty() {
                        println!("imports without using (linked as traps, nothing to grant): {}", unused.join(", "));
                    }
                }
                Err(reason) => {
                    println!("REFUSED: {reason}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        PluginCommand::Inspect { package } => {
            let bytes = std::fs::read(&package).with_context(|| format!("cannot read {}", package.display()))?;
            let info = pkg::inspect(&bytes)?;
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({
                "name": info.manifest.name,
                "version": info.manifest.version.to_string(),
                "vendor": info.manifest.vendor,
                "description": info.manifest.description,
                "capabilities": info.manifest.capabilities.iter().map(|c| c.name()).collect::<Vec<_>>(),
                "unused_imports": info.manifest.unused_imports,
                "memory_mib": info.manifest.memory_mib,
                "size_bytes": info.size_bytes,
                "component_sha256": info.component_sha256,
                "digest": info.digest,
                "signed_by": info.signed_by,
                "imports": info.imports,
                "exports": info.exports,
            }))?);
        }
        PluginCommand::Trust { trust, command } => {
            let mut store = if trust.exists() { pkg::TrustStore::load(&trust)? } else { pkg::TrustStore::default() };
            match command {
                TrustCommand::Add { key, expires } => {
                    let k = pkg::PublicKey::load(&key)?;
                    let exp = expires.as_deref().map(pkg::trust::parse_expiry).transpose().map_err(anyhow::Error::msg)?;
                    store.add(&k, exp);
                    store.save(&trust)?;
                    println!("trusted {}", key.display());
                }
                TrustCommand::Remove { key_id } => {
                    let removed = store.remove(&key_id);
                    store.save(&trust)?;
                    println!("{}", if removed { format!("removed {key_id}") } else { format!("{key_id} was not trusted") });
                }
                TrustCommand::List => {
                    for k in store.keys() {
                        println!("{}\t{}\texpires {:?}", k.key_id, k.vendor, k.expires);
                    }
                }
            }
        }
        PluginCommand::Push { package, reference } => {
            let bytes = std::fs::read(&package).with_context(|| format!("cannot read {}", package.display()))?;
            let digest = pkg::push(&bytes, &reference, &registry_auth()).await?;
            println!("pushed {reference} ({digest})");
        }
        PluginCommand::Pull { reference, out } => {
            let bytes = pkg::pull(&reference, &registry_auth()).await?;
            std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
            println!("pulled {reference} into {} ({} bytes); verify it before installing", out.display(), bytes.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Registry credentials from COURTYARD_REGISTRY_USER / COURTYARD_REGISTRY_PASSWORD (anonymous
/// when unset), so passwords stay out of shell history.
fn registry_auth() -> pkg::RegistryAuth {
    match (std::env::var("COURTYARD_REGISTRY_USER"), std::env::var("COURTYARD_REGISTRY_PASSWORD")) {
        (Ok(username), Ok(password)) => pkg::RegistryAuth::Basic { username, password },
        _ => pkg::RegistryAuth::Anonymous,
    }
}
