//! `plugin new` writes a crate whose manifest packs and whose template builds.

use std::path::{Path, PathBuf};
use std::process::Command;

use courtyard_packages::{Manifest, ScaffoldOptions, World, new_plugin, pack};

use crate::fixture;

fn sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugin-sdk").canonicalize().unwrap()
}

fn options(dir: &Path, name: &str, world: World) -> ScaffoldOptions {
    ScaffoldOptions { name: name.into(), vendor: "acme".into(), dir: dir.to_path_buf(), world, sdk_path: sdk_path() }
}

#[test]
fn writes_a_crate_with_a_valid_manifest_for_each_world() {
    let (_guard, dir) = fixture::tempdir();
    for (name, world, export) in [("front-desk", World::Inbound, "export_inbound!"), ("pay-reminder", World::Outbound, "export_outbound!")] {
        let root = new_plugin(&options(&dir, name, world)).unwrap();
        assert_eq!(root, dir.join(name));
        let m = Manifest::parse(&std::fs::read(root.join("plugin.toml")).unwrap()).unwrap();
        assert_eq!((m.name.as_str(), m.vendor.as_str(), m.world), (name, "acme", world));
        assert_eq!(m.wit.to_string(), "courtyard:flow@0.1.0");
        assert!(m.config_schema["properties"]["queue"].is_object());

        let cargo: toml::Value = toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
        assert_eq!(cargo["package"]["name"].as_str(), Some(name));
        assert_eq!(
            cargo["dependencies"]["courtyard-plugin-sdk"]["path"].as_str().map(PathBuf::from),
            Some(sdk_path())
        );
        assert_eq!(cargo["lib"]["crate-type"][0].as_str(), Some("cdylib"));
        assert!(cargo.get("workspace").is_some(), "standalone workspace");
        let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
        assert!(lib.contains(export) && lib.contains(name), "{lib}");
        let config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
        assert!(config.contains("wasm32-wasip2"));
    }
}

#[test]
fn refuses_existing_dirs_and_bad_names() {
    let (_guard, dir) = fixture::tempdir();
    new_plugin(&options(&dir, "front-desk", World::Inbound)).unwrap();
    let err = new_plugin(&options(&dir, "front-desk", World::Inbound)).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    let err = new_plugin(&options(&dir, "Front Desk", World::Inbound)).unwrap_err().to_string();
    assert!(err.contains("`name`"), "{err}");
    assert!(!dir.join("Front Desk").exists());
}

/// Builds the scaffolded crate for wasm32-wasip2 (needs `rustup target add wasm32-wasip2`, the
/// network for crates.io and ~1 min of CPU), then packs it: proves the template compiles against
/// the current SDK and that its manifest declares what the built component imports.
/// Run with `cargo test -p courtyard-packages -- --ignored`.
#[test]
#[ignore = "builds a wasm32-wasip2 crate (~1 min); run with --ignored"]
fn scaffolded_plugin_builds_and_packs() {
    let (_guard, dir) = fixture::tempdir();
    let root = new_plugin(&options(&dir, "front-desk", World::Inbound)).unwrap();
    let target_dir = std::env::var_os("SCAFFOLD_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| dir.join("target"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(status.success(), "cargo build of the scaffolded plugin failed");
    let wasm = target_dir.join("wasm32-wasip2/release/front_desk.wasm");
    let info = pack(&root, &wasm, &dir.join("front-desk.cyp")).unwrap();
    assert!(info.imports.iter().any(|i| i.starts_with("courtyard:flow/call@")), "{:?}", info.imports);
    eprintln!("scaffolded component: {} bytes, imports {:?}", info.component_bytes, info.imports);
}
