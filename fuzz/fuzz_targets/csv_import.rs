//! CSV import (UTF-8/GBK detection, header mapping, row validation, storage) on a fresh
//! in-memory store per input. The first byte picks the import kind.
#![no_main]
use courtyard_store::import::{ImportKind, import_bytes};
use libfuzzer_sys::fuzz_target;

const KINDS: [ImportKind; 7] = [
    ImportKind::Estates,
    ImportKind::Units,
    ImportKind::Owners,
    ImportKind::Bills,
    ImportKind::Warranty,
    ImportKind::Kb,
    ImportKind::Announcements,
];

fuzz_target!(|data: &[u8]| {
    let Some((&k, csv)) = data.split_first() else { return };
    let kind = KINDS[usize::from(k) % KINDS.len()];
    let (store, kv) = courtyard_fuzz::memory_store();
    if courtyard_fuzz::block_on(import_bytes(&store, kind, csv)).is_err() {
        return;
    }
    // Re-importing is idempotent: after the file has been imported (twice, so rows that refer
    // to rows later in the same file have settled), importing it again changes nothing.
    if courtyard_fuzz::block_on(import_bytes(&store, kind, csv)).is_err() {
        return;
    }
    let before = courtyard_fuzz::snapshot(&kv);
    let again = courtyard_fuzz::block_on(import_bytes(&store, kind, csv));
    assert!(again.is_ok(), "third import failed after two succeeded: {again:?}");
    let after = courtyard_fuzz::snapshot(&kv);
    if before != after {
        let changed: Vec<String> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .take(5)
            .collect();
        panic!("re-import changed the store ({} -> {} keys), e.g. {changed:?}", before.len(), after.len());
    }
});
