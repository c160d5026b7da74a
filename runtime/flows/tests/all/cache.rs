//! The compiled-component cache: a new host reuses what an earlier one compiled, and a file the
//! host did not write (tampered) is never loaded.

use courtyard_flows::{CacheOutcome, FlowRegistry, InstallSpec};

use crate::common::{guests, test_host};

#[tokio::test]
async fn a_new_host_reuses_the_cache_and_ignores_tampered_files() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = guests::bytes("normal");

    let first = FlowRegistry::new(test_host(Some(dir.path().to_path_buf())));
    let v = first.install(InstallSpec::new("desk", "guest-normal", wasm.clone())).await.unwrap();
    assert_eq!(v.cache, CacheOutcome::Compiled);
    drop(first);

    let second = FlowRegistry::new(test_host(Some(dir.path().to_path_buf())));
    let v = second.install(InstallSpec::new("desk", "guest-normal", wasm.clone())).await.unwrap();
    assert_eq!(v.cache, CacheOutcome::Hit, "a restart must not recompile");
    drop(second);

    // Tamper with the artifact: the HMAC no longer verifies, so it is recompiled (and rewritten).
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("a cache file");
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let third = FlowRegistry::new(test_host(Some(dir.path().to_path_buf())));
    let v = third.install(InstallSpec::new("desk", "guest-normal", wasm.clone())).await.unwrap();
    assert_eq!(v.cache, CacheOutcome::Compiled, "a tampered cache file must not be loaded");

    // A different host key (another host's cache) is not trusted either.
    std::fs::write(dir.path().join("host.key"), [9u8; 32]).unwrap();
    let fourth = FlowRegistry::new(test_host(Some(dir.path().to_path_buf())));
    let v = fourth.install(InstallSpec::new("desk", "guest-normal", wasm)).await.unwrap();
    assert_eq!(v.cache, CacheOutcome::Compiled);
}
