//! Publishing packages to, and fetching them from, any OCI distribution registry.
//!
//! Firms already run registries (Harbor, GitLab, a cloud registry, Debian's `docker-registry`),
//! so plugins travel through them instead of a Courtyard-specific store. The image follows the
//! CNCF TAG Runtime **Wasm OCI artifact layout**, so standard tools (`wkg oci pull`, `oras`,
//! `crane`) see a normal Wasm component:
//!
//! * manifest media type `application/vnd.oci.image.manifest.v1+json`;
//! * config media type `application/vnd.wasm.config.v0+json`, content
//!   `{created, author, architecture: "wasm", os: "wasip2", layerDigests, component: {imports,
//!   exports, target}}`;
//! * exactly **one layer**, `application/wasm`: the component bytes.
//!
//! The Courtyard parts ride as **manifest annotations**, not extra layers, because the layout
//! wants a single `application/wasm` layer (wasm pullers reject unknown layer types):
//! `dev.courtyard.plugin.manifest` (plugin.toml bytes, base64), `dev.courtyard.plugin.signature`
//! (signature.toml bytes, base64; absent when unsigned), `dev.courtyard.plugin.digest` (the
//! canonical digest)
//! and the standard `org.opencontainers.image.{title,version,vendor,description,created}`.
//! `pull` rebuilds the package file from these; since the package writer is deterministic the
//! bytes equal the pushed ones, and `verify` re-checks everything (the registry is not trusted).
//!
//! Registries on a loopback address (`127.0.0.1:5000`, `localhost:5000`, `[::1]:5000`) are
//! spoken to over plain HTTP; everything else over HTTPS (rustls with the system's roots)
//! unless listed in [`OciOptions::plain_http`].

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::str::FromStr;
use std::time::Instant;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use oci_client::{Client, Reference};
use serde::{Deserialize, Serialize};

use crate::error::PackageError;
use crate::manifest::World;
use crate::package::{self, PackageFiles};
use crate::sign::SignatureRecord;

/// OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Wasm config media type (CNCF Wasm OCI artifact layout).
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// Wasm layer media type.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// Annotation carrying plugin.toml (base64: oci-client writes manifests as OLPC canonical JSON,
/// which leaves newlines in strings raw, and registries then reject the manifest as invalid JSON).
pub const ANNOTATION_MANIFEST: &str = "dev.courtyard.plugin.manifest";
/// Annotation carrying signature.toml (base64).
pub const ANNOTATION_SIGNATURE: &str = "dev.courtyard.plugin.signature";
/// Annotation carrying the canonical digest.
pub const ANNOTATION_DIGEST: &str = "dev.courtyard.plugin.digest";

/// Credentials for a registry.
#[derive(Clone, Default)]
pub enum RegistryAuth {
    /// No credentials.
    #[default]
    Anonymous,
    /// HTTP basic (also what token-based registries accept for the token exchange).
    Basic {
        /// User name.
        username: String,
        /// Password or access token.
        password: String,
    },
    /// A ready bearer token.
    Bearer(String),
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryAuth::Anonymous => f.write_str("Anonymous"),
            RegistryAuth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            RegistryAuth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl RegistryAuth {
    fn to_oci(&self) -> oci_client::secrets::RegistryAuth {
        match self {
            RegistryAuth::Anonymous => oci_client::secrets::RegistryAuth::Anonymous,
            RegistryAuth::Basic { username, password } => {
                oci_client::secrets::RegistryAuth::Basic(username.clone(), password.clone())
            }
            RegistryAuth::Bearer(t) => oci_client::secrets::RegistryAuth::Bearer(t.clone()),
        }
    }
}

/// Connection options beyond credentials.
#[derive(Debug, Clone, Default)]
pub struct OciOptions {
    /// Credentials.
    pub auth: RegistryAuth,
    /// Registries (`host:port`) to reach over plain HTTP although not on loopback.
    pub plain_http: Vec<String>,
}

/// The Wasm OCI config document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// Creation time (the signing time, so re-pushing a package gives the same digest).
    pub created: String,
    /// The vendor.
    pub author: String,
    /// Always `wasm`.
    pub architecture: String,
    /// Always `wasip2` for components.
    pub os: String,
    /// Digests of the layers, in order.
    pub layer_digests: Vec<String>,
    /// The component's world.
    pub component: WasmComponentInfo,
}

/// The `component` part of [`WasmConfig`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WasmComponentInfo {
    /// Top-level export names.
    pub exports: Vec<String>,
    /// Top-level import names.
    pub imports: Vec<String>,
    /// The world it targets, `courtyard:flow/inbound-flow@0.1.0`.
    pub target: Option<String>,
}

/// A pulled package.
#[derive(Debug, Clone)]
pub struct PulledPackage {
    /// The package file bytes (verify them before use).
    pub bytes: Vec<u8>,
    /// Digest of the OCI manifest pulled, `sha256:…` (pin it with `repo@digest`).
    pub manifest_digest: String,
}

fn registry_err(reference: &str, problem: impl std::fmt::Display) -> PackageError {
    PackageError::Registry { reference: reference.to_string(), problem: problem.to_string() }
}

/// Whether `registry` (`host[:port]`) is a loopback address.
fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, _)| h)
    };
    host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn client_for(reference: &Reference, options: &OciOptions, text: &str) -> Result<Client, PackageError> {
    // reqwest's rustls needs a process-wide crypto provider; install ring once (an error means
    // one is already installed, which is just as good).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let registry = reference.resolve_registry().to_string();
    let mut plain: Vec<String> = options.plain_http.clone();
    if is_loopback(&registry) {
        plain.push(registry);
    }
    // Monolithic blob uploads: one POST+PUT per blob instead of POST/PATCH/PUT; plugins are small.
    let config = ClientConfig { protocol: ClientProtocol::HttpsExcept(plain), use_monolithic_push: true, ..Default::default() };
    Client::try_from(config).map_err(|e| registry_err(text, format!("cannot build HTTP client: {e}")))
}

fn parse_reference(text: &str) -> Result<Reference, PackageError> {
    Reference::from_str(text).map_err(|e| {
        registry_err(text, format!("not an image reference like 127.0.0.1:5000/acme/bill-lookup:1.2.0 ({e})"))
    })
}

/// Push package bytes to `reference` (`registry/repo:tag`); returns the manifest digest.
pub async fn push(package: &[u8], reference: &str, auth: &RegistryAuth) -> Result<String, PackageError> {
    push_with(package, reference, &OciOptions { auth: auth.clone(), ..Default::default() }).await
}

/// [`push`] with connection options.
pub async fn push_with(package: &[u8], reference: &str, options: &OciOptions) -> Result<String, PackageError> {
    let started = Instant::now();
    let image = parse_reference(reference)?;
    let info = package::inspect(package)?;
    let files = PackageFiles::from_bytes(package).map_err(PackageError::Malformed)?;
    let manifest_text = BASE64.encode(&files.manifest);
    let (signature_text, created) = match &files.signature {
        Some(s) => {
            let rec = SignatureRecord::parse(s).map_err(PackageError::Malformed)?;
            (Some(BASE64.encode(s)), rec.signed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        None => {
            tracing::warn!(reference, "pushing an unsigned package; operators will refuse it until it is signed");
            (None, "1970-01-01T00:00:00Z".to_string())
        }
    };
    let m = &info.manifest;

    let layer = ImageLayer::new(files.component.clone(), WASM_LAYER_MEDIA_TYPE.to_string(), None);
    let world = match m.world {
        World::Inbound => "inbound-flow",
        World::Outbound => "outbound-flow",
    };
    let wasm_config = WasmConfig {
        created: created.clone(),
        author: m.vendor.clone(),
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer.sha256_digest()],
        component: WasmComponentInfo {
            exports: info.exports.clone(),
            imports: info.imports.clone(),
            target: Some(format!("{}/{}@{}", m.wit.package, world, m.wit.version)),
        },
    };
    let config_bytes = serde_json::to_vec(&wasm_config).map_err(|e| registry_err(reference, e))?;
    let config = Config::new(config_bytes, WASM_CONFIG_MEDIA_TYPE.to_string(), None);

    let mut annotations = BTreeMap::new();
    annotations.insert("org.opencontainers.image.title".to_string(), m.name.clone());
    annotations.insert("org.opencontainers.image.version".to_string(), m.version.to_string());
    annotations.insert("org.opencontainers.image.vendor".to_string(), m.vendor.clone());
    annotations.insert("org.opencontainers.image.description".to_string(), m.description.clone());
    annotations.insert("org.opencontainers.image.created".to_string(), created);
    annotations.insert(ANNOTATION_MANIFEST.to_string(), manifest_text);
    annotations.insert(ANNOTATION_DIGEST.to_string(), info.digest.clone());
    if let Some(sig) = signature_text {
        annotations.insert(ANNOTATION_SIGNATURE.to_string(), sig);
    }
    let layers = [layer];
    let mut oci_manifest = OciImageManifest::build(&layers, &config, Some(annotations));
    oci_manifest.media_type = Some(MANIFEST_MEDIA_TYPE.to_string());

    let client = client_for(&image, options, reference)?;
    let auth = options.auth.to_oci();
    client
        .push(&image, &layers, config, &auth, Some(oci_manifest))
        .await
        .map_err(|e| registry_err(reference, format!("push failed: {e}")))?;
    let digest = client
        .fetch_manifest_digest(&image, &auth)
        .await
        .map_err(|e| registry_err(reference, format!("pushed, but reading back the manifest digest failed: {e}")))?;
    tracing::info!(
        reference, %digest, bytes = package.len(), ms = started.elapsed().as_secs_f64() * 1e3,
        "pushed plugin package"
    );
    Ok(digest)
}

/// Pull a package by tag (`repo:tag`) or digest (`repo@sha256:…`); returns the package bytes.
pub async fn pull(reference: &str, auth: &RegistryAuth) -> Result<Vec<u8>, PackageError> {
    Ok(pull_with(reference, &OciOptions { auth: auth.clone(), ..Default::default() }).await?.bytes)
}

/// [`pull`] with connection options, also returning the manifest digest.
pub async fn pull_with(reference: &str, options: &OciOptions) -> Result<PulledPackage, PackageError> {
    let started = Instant::now();
    let image = parse_reference(reference)?;
    let client = client_for(&image, options, reference)?;
    let auth = options.auth.to_oci();
    let data = client
        .pull(&image, &auth, vec![WASM_LAYER_MEDIA_TYPE])
        .await
        .map_err(|e| registry_err(reference, format!("pull failed: {e}")))?;
    if data.config.media_type != WASM_CONFIG_MEDIA_TYPE {
        return Err(registry_err(reference, format!("config media type is '{}', not a Wasm artifact", data.config.media_type)));
    }
    let [layer] = data.layers.as_slice() else {
        return Err(registry_err(reference, format!("{} layers; a Courtyard plugin has exactly one application/wasm layer", data.layers.len())));
    };
    let annotations = data.manifest.as_ref().and_then(|m| m.annotations.clone()).unwrap_or_default();
    let manifest = annotations.get(ANNOTATION_MANIFEST).ok_or_else(|| {
        registry_err(reference, format!("no '{ANNOTATION_MANIFEST}' annotation: a Wasm component, but not a Courtyard plugin package"))
    })?;
    let decode = |what: &str, text: &str| {
        BASE64.decode(text).map_err(|e| registry_err(reference, format!("annotation '{what}' is not base64: {e}")))
    };
    let files = PackageFiles {
        manifest: decode(ANNOTATION_MANIFEST, manifest)?,
        component: layer.data.to_vec(),
        signature: annotations.get(ANNOTATION_SIGNATURE).map(|s| decode(ANNOTATION_SIGNATURE, s)).transpose()?,
    };
    let bytes = files.to_bytes();
    let manifest_digest = data.digest.unwrap_or_default();
    tracing::info!(
        reference, digest = %manifest_digest, bytes = bytes.len(), ms = started.elapsed().as_secs_f64() * 1e3,
        "pulled plugin package"
    );
    Ok(PulledPackage { bytes, manifest_digest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        for r in ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "127.0.0.2", "localhost"] {
            assert!(is_loopback(r), "{r}");
        }
        for r in ["registry.example.com", "10.0.0.1:5000", "ghcr.io", "[2001:db8::1]:443"] {
            assert!(!is_loopback(r), "{r}");
        }
    }

    #[test]
    fn https_client_builds_with_the_ring_provider() {
        // reqwest's rustls without a bundled provider panics at build time unless one is
        // installed; make sure ours is, for a non-loopback (HTTPS) registry.
        let text = "registry.example.com/acme/bill-lookup:1.2.0";
        assert!(client_for(&parse_reference(text).unwrap(), &OciOptions::default(), text).is_ok());
    }

    #[test]
    fn bad_reference_is_explained() {
        let err = parse_reference("UPPER CASE!!").unwrap_err().to_string();
        assert!(err.contains("image reference"), "{err}");
    }
}
