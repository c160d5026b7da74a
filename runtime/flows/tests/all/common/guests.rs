//! Builds the guest components in `tests/guests/` once per test binary, for real: cargo with
//! `--target wasm32-wasip2` into a target dir under `CARGO_TARGET_TMPDIR` (kept between runs, so
//! later runs only check freshness).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();

fn build() -> Result<PathBuf, String> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guests = manifest_dir.join("tests/guests/Cargo.toml");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(&guests)
        .env("CARGO_TARGET_DIR", &target)
        // The outer `cargo test` sets these for the host build; they must not leak into the guest build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(|e| format!("cannot run cargo to build the test guests: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building test guests failed (is `rustup target add wasm32-wasip2` done?):\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(target.join("wasm32-wasip2/release"))
}

/// Path of the built guest `name` (e.g. "normal", "spin").
pub fn path(name: &str) -> PathBuf {
    let dir = BUILT.get_or_init(build).as_ref().unwrap_or_else(|e| panic!("{e}"));
    dir.join(format!("guest_{}.wasm", name.replace('-', "_")))
}

/// Bytes of the built guest `name`.
pub fn bytes(name: &str) -> Vec<u8> {
    let p = path(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
