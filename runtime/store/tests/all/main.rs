//! Integration tests of courtyard-store against real sled directories (one binary, a module per
//! feature, so the suite links once).

mod calls_index;
mod crash;
mod directory;
mod import;
mod kb;
mod orders;

use courtyard_store::{FixedClock, Store, StoreOptions};
use std::sync::Arc;

/// A store in a fresh temp dir with a fixed clock at 2026-11-27 10:00 +08:00.
pub fn temp_store() -> (tempfile::TempDir, Store, Arc<FixedClock>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00+08:00").unwrap()));
    let store = Store::open_with(dir.path(), StoreOptions { clock: clock.clone(), ..StoreOptions::default() }).unwrap();
    (dir, store, clock)
}

/// Path of a file in the committed demo data.
pub fn demo_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-data").join(name)
}
