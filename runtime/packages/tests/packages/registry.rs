//! push → pull through a real OCI registry: Debian's `docker-registry` (distribution 2.8) on
//! 127.0.0.1, a free port and a temporary storage directory.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use courtyard_packages::oci::{OciOptions, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE, pull_with};
use courtyard_packages::{RegistryAuth, pull, push, verify};

use crate::fixture;

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A running registry, killed on drop.
struct Registry {
    child: Child,
    addr: String,
    _storage: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Plain HTTP GET on loopback, returning status line + headers + body (no HTTP client needed).
fn http_get(addr: &str, path: &str, accept: &str) -> std::io::Result<String> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn start_registry() -> Registry {
    assert!(
        Path::new(REGISTRY_BIN).exists(),
        "{REGISTRY_BIN} is missing: install Debian's registry with `apt-get install -y docker-registry` (CI: scripts/install-deps.sh)"
    );
    let storage = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = storage.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            storage.path().join("data").display()
        ),
    )
    .unwrap();
    let child = Command::new(REGISTRY_BIN)
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(storage.path().join("registry.log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .expect("start docker-registry");
    let registry = Registry { child, addr, _storage: storage };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if http_get(&registry.addr, "/v2/", "*/*").is_ok_and(|resp| resp.starts_with("HTTP/1.1 200")) {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(registry._storage.path().join("registry.log")).unwrap_or_default();
            panic!("docker-registry did not answer on {} within 20 s; its log:\n{log}", registry.addr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    registry
}

#[tokio::test(flavor = "current_thread")]
async fn push_then_pull_by_tag_and_digest_through_a_real_registry() {
    let registry = start_registry();
    let keys = fixture::keys();
    let package = fixture::signed_package(&keys.acme);
    let reference = format!("{}/acme/bill-lookup:1.2.0", registry.addr);

    let t = Instant::now();
    let digest = push(&package, &reference, &RegistryAuth::Anonymous).await.unwrap();
    let push_ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{digest}");

    // By tag: byte-identical and verifiable.
    let t = Instant::now();
    let by_tag = pull(&reference, &RegistryAuth::Anonymous).await.unwrap();
    let pull_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(by_tag, package, "pulled package differs from the pushed one");
    let v = verify(&by_tag, &keys.trust).unwrap();
    assert_eq!(v.manifest.version.to_string(), "1.2.0");

    // By digest.
    let by_digest_ref = format!("{}/acme/bill-lookup@{digest}", registry.addr);
    let t = Instant::now();
    let pulled = pull_with(&by_digest_ref, &OciOptions::default()).await.unwrap();
    let pull_digest_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(pulled.manifest_digest, digest);
    assert_eq!(pulled.bytes, package);
    verify(&pulled.bytes, &keys.trust).unwrap();

    // What a standard tool sees: an OCI manifest with the Wasm config and one application/wasm
    // layer (read straight from the registry's HTTP API, not through our client).
    let raw = http_get(
        &registry.addr,
        &format!("/v2/acme/bill-lookup/manifests/{digest}"),
        "application/vnd.oci.image.manifest.v1+json",
    )
    .unwrap();
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
    let m: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert_eq!(m["config"]["mediaType"], WASM_CONFIG_MEDIA_TYPE);
    assert_eq!(m["layers"].as_array().map(Vec::len), Some(1));
    assert_eq!(m["layers"][0]["mediaType"], WASM_LAYER_MEDIA_TYPE);
    assert_eq!(m["annotations"]["org.opencontainers.image.version"], "1.2.0");

    // Pushing the same package again is idempotent (same digest), a new version gets its own.
    let t = Instant::now();
    assert_eq!(push(&package, &reference, &RegistryAuth::Anonymous).await.unwrap(), digest);
    let repush_ms = t.elapsed().as_secs_f64() * 1e3;

    // A tampered blob is not accepted silently: a package modified and re-pushed under the
    // same tag pulls fine but no longer verifies.
    let mut files = courtyard_packages::PackageFiles::from_bytes(&package).unwrap();
    files.manifest = String::from_utf8(files.manifest).unwrap().replace("memory-mib = 32", "memory-mib = 64").into_bytes();
    push(&files.to_bytes(), &reference, &RegistryAuth::Anonymous).await.unwrap();
    let evil = pull(&reference, &RegistryAuth::Anonymous).await.unwrap();
    let err = verify(&evil, &keys.trust).unwrap_err();
    assert!(matches!(err, courtyard_packages::RefusedReason::ManifestTampered { .. }), "{err}");

    eprintln!(
        "figures: package {} bytes; first push {push_ms:.1} ms, re-push {repush_ms:.1} ms, pull by tag {pull_ms:.1} ms, by digest {pull_digest_ms:.1} ms (loopback docker-registry)",
        package.len()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn pulling_what_is_not_there_says_so() {
    let registry = start_registry();
    let err = pull(&format!("{}/acme/nothing:1.0.0", registry.addr), &RegistryAuth::Anonymous).await.unwrap_err();
    assert!(err.to_string().contains("pull failed"), "{err}");
    assert!(err.to_string().contains("acme/nothing"), "{err}");
}
