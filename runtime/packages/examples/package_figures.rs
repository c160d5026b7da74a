//! Measure pack / sign / verify on a real plugin component and print the figures.
//!
//! `cargo run --release -p courtyard-packages --example package_figures -- [COMPONENT.wasm] [plugin.toml]`
//! (default: plugins/target/wasm32-wasip2/release/ivr_main.wasm with a manifest declaring every
//! capability its imports need). With `REGISTRY=127.0.0.1:5000` it also times push and pull.

use std::path::PathBuf;
use std::time::Instant;

use courtyard_packages::capabilities::Capability;
use courtyard_packages::component;
use courtyard_packages::{PackageFiles, SecretKey, TrustStore, pack_bytes, sign_bytes, verify};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = std::env::args().skip(1);
    let wasm = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("plugins/target/wasm32-wasip2/release/ivr_main.wasm"));
    let component_bytes = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let world = component::inspect(&component_bytes)?;
    println!("component {} ({} bytes)", wasm.display(), component_bytes.len());
    println!("imports:");
    for i in &world.imports {
        println!("  {i}");
    }
    let manifest = match args.next() {
        Some(p) => std::fs::read_to_string(p)?,
        None => {
            // Declare the first capability covering each imported courtyard:flow interface.
            let mut caps: Vec<&str> = Vec::new();
            for i in &world.imports {
                if let Some(iface) = i.strip_prefix("courtyard:flow/").and_then(|r| r.split('@').next())
                    && let Some(c) = Capability::covering(iface).first()
                    && !caps.contains(&c.name())
                    && *c != Capability::Config
                {
                    caps.push(c.name());
                }
            }
            let caps: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
            format!(
                "name = \"figures\"\nversion = \"1.0.0\"\nvendor = \"acme\"\ndescription = \"figures\"\nwit = \"courtyard:flow@0.1.0\"\nworld = \"inbound-flow\"\ncapabilities = [{}]\n",
                caps.join(", ")
            )
        }
    };
    let key = SecretKey::generate("acme-1", "acme")?;
    let mut trust = TrustStore::new();
    trust.add(&key.public(), None);
    let files = PackageFiles { manifest: manifest.into_bytes(), component: component_bytes, signature: None };

    const N: u32 = 50;
    let t = Instant::now();
    let mut packed = Vec::new();
    for _ in 0..N {
        packed = pack_bytes(&files)?;
    }
    let pack_ms = t.elapsed().as_secs_f64() * 1e3 / f64::from(N);
    let t = Instant::now();
    let mut signed = Vec::new();
    for _ in 0..N {
        signed = sign_bytes(&packed, &key)?.0;
    }
    let sign_ms = t.elapsed().as_secs_f64() * 1e3 / f64::from(N);
    let t = Instant::now();
    for _ in 0..N {
        verify(&signed, &trust)?;
    }
    let verify_ms = t.elapsed().as_secs_f64() * 1e3 / f64::from(N);
    println!(
        "package {} bytes; pack {pack_ms:.2} ms, sign {sign_ms:.2} ms, verify {verify_ms:.2} ms (mean of {N})",
        signed.len()
    );
    if let Ok(registry) = std::env::var("REGISTRY") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            let auth = courtyard_packages::RegistryAuth::Anonymous;
            for round in 1..=3 {
                let reference = format!("{registry}/acme/figures:1.0.{round}");
                let t = Instant::now();
                let digest = courtyard_packages::push(&signed, &reference, &auth).await?;
                let push_ms = t.elapsed().as_secs_f64() * 1e3;
                let t = Instant::now();
                let pulled = courtyard_packages::pull(&format!("{registry}/acme/figures@{digest}"), &auth).await?;
                let pull_ms = t.elapsed().as_secs_f64() * 1e3;
                let t = Instant::now();
                verify(&pulled, &trust)?;
                let verify_ms = t.elapsed().as_secs_f64() * 1e3;
                println!("round {round}: push {push_ms:.1} ms, pull by digest {pull_ms:.1} ms, verify {verify_ms:.1} ms");
            }
            Ok::<(), Box<dyn std::error::Error>>(())
        })?;
    }
    Ok(())
}
