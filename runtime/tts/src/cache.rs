//! Cache of synthesized 8 kHz audio by (engine, voice, text): bounded in memory, unbounded on
//! disk, so a repeated prompt costs a hash-map lookup and survives restarts.
//!
//! Disk layout: `<dir>/<sha256 hex>.pcm`, raw signed 16-bit little-endian 8 kHz mono samples,
//! where the hash is over `engine \0 voice \0 text`. Files are written to a temporary name and
//! renamed, so a crash never leaves a truncated entry under a real name. Deleting the directory
//! is always safe (entries are re-synthesized).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

/// Key of one cache entry (hex SHA-256 of engine, voice and text).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// Builds the key for `text` spoken by `engine` with `voice`.
    pub fn new(engine: &str, voice: &str, text: &str) -> CacheKey {
        let mut h = Sha256::new();
        for part in [engine, voice, text] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        CacheKey(hex::encode(h.finalize()))
    }

    /// The hex digest (also the file stem on disk).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Memory + disk cache of 8 kHz mono audio.
#[derive(Debug)]
pub struct AudioCache {
    dir: Option<PathBuf>,
    budget_bytes: usize,
    mem: Mutex<Lru>,
}

#[derive(Debug, Default)]
struct Lru {
    entries: HashMap<CacheKey, (Arc<[i16]>, u64)>,
    tick: u64,
    bytes: usize,
}

impl AudioCache {
    /// A cache holding up to `budget_bytes` of samples in memory, persisted under `dir`.
    pub fn new(dir: Option<PathBuf>, budget_bytes: usize) -> AudioCache {
        if let Some(d) = &dir
            && let Err(e) = std::fs::create_dir_all(d)
        {
            tracing::warn!(dir = %d.display(), error = %e, "cannot create the TTS cache directory; disk cache disabled");
        }
        AudioCache {
            dir,
            budget_bytes,
            mem: Mutex::new(Lru::default()),
        }
    }

    /// Looks up memory only (no I/O; what the hot path costs).
    pub fn get_memory(&self, key: &CacheKey) -> Option<Arc<[i16]>> {
        let mut lru = self.mem.lock();
        lru.tick += 1;
        let tick = lru.tick;
        lru.entries.get_mut(key).map(|(samples, used)| {
            *used = tick;
            samples.clone()
        })
    }

    /// Looks up the disk entry and promotes it to memory; blocking I/O.
    pub fn get_disk(&self, key: &CacheKey) -> Option<Arc<[i16]>> {
        let path = self.path(key)?;
        let bytes = std::fs::read(&path).ok()?;
        if bytes.len() % 2 != 0 {
            tracing::warn!(path = %path.display(), "corrupt TTS cache entry (odd length); removing it");
            let _ = std::fs::remove_file(&path);
            return None;
        }
        let samples: Arc<[i16]> = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        self.put_memory(key, samples.clone());
        Some(samples)
    }

    /// Stores an entry in memory and on disk (disk errors are logged: the cache is optional).
    pub fn put(&self, key: &CacheKey, samples: Arc<[i16]>) {
        self.put_memory(key, samples.clone());
        if let Some(path) = self.path(key)
            && let Err(e) = write_atomically(&path, &samples)
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot write TTS cache entry");
        }
    }

    /// Number of entries and bytes held in memory.
    pub fn memory_usage(&self) -> (usize, usize) {
        let lru = self.mem.lock();
        (lru.entries.len(), lru.bytes)
    }

    fn put_memory(&self, key: &CacheKey, samples: Arc<[i16]>) {
        let size = samples.len() * 2;
        if size > self.budget_bytes {
            return;
        }
        let mut lru = self.mem.lock();
        lru.tick += 1;
        let tick = lru.tick;
        if let Some((old, _)) = lru.entries.insert(key.clone(), (samples, tick)) {
            lru.bytes -= old.len() * 2;
        }
        lru.bytes += size;
        while lru.bytes > self.budget_bytes {
            // Evict the least recently used entry; a linear scan is fine for the few thousand
            // prompts a hotline has, and eviction is rare.
            let Some(victim) = lru
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((old, _)) = lru.entries.remove(&victim) {
                lru.bytes -= old.len() * 2;
            }
        }
    }

    fn path(&self, key: &CacheKey) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{}.pcm", key.as_str())))
    }
}

fn write_atomically(path: &Path, samples: &[i16]) -> std::io::Result<()> {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(n: usize, v: i16) -> Arc<[i16]> {
        vec![v; n].into()
    }

    #[test]
    fn keys_separate_engine_voice_and_text() {
        let a = CacheKey::new("espeak-ng", "cmn-latn-pinyin", "您好");
        assert_eq!(a, CacheKey::new("espeak-ng", "cmn-latn-pinyin", "您好"));
        assert_ne!(a, CacheKey::new("espeak-ng", "en", "您好"));
        assert_ne!(a, CacheKey::new("cloud", "cmn-latn-pinyin", "您好"));
        // The separator stops ("ab","c") and ("a","bc") from colliding.
        assert_ne!(CacheKey::new("e", "ab", "c"), CacheKey::new("e", "a", "bc"));
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn memory_is_bounded_and_evicts_least_recently_used() {
        let cache = AudioCache::new(None, 3_000);
        let (k1, k2, k3) = (
            CacheKey::new("e", "v", "1"),
            CacheKey::new("e", "v", "2"),
            CacheKey::new("e", "v", "3"),
        );
        cache.put(&k1, audio(500, 1));
        cache.put(&k2, audio(500, 2));
        assert!(cache.get_memory(&k1).is_some()); // k1 is now more recent than k2
        cache.put(&k3, audio(500, 3)); // 3,000 bytes would exceed nothing yet
        cache.put(&CacheKey::new("e", "v", "4"), audio(500, 4)); // 4 × 1,000 > 3,000: evict k2
        assert!(cache.get_memory(&k2).is_none());
        assert!(cache.get_memory(&k1).is_some());
        assert!(cache.memory_usage().1 <= 3_000);
        // Entries larger than the whole budget are not kept in memory.
        cache.put(&CacheKey::new("e", "v", "big"), audio(2_000, 0));
        assert!(cache.get_memory(&CacheKey::new("e", "v", "big")).is_none());
    }

    #[test]
    fn disk_entries_survive_a_new_cache_and_corrupt_ones_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let key = CacheKey::new("e", "v", "text");
        let samples: Arc<[i16]> = vec![1, -2, 3, i16::MIN, i16::MAX].into();
        AudioCache::new(Some(dir.path().into()), 1 << 20).put(&key, samples.clone());
        let reopened = AudioCache::new(Some(dir.path().into()), 1 << 20);
        assert!(reopened.get_memory(&key).is_none());
        assert_eq!(reopened.get_disk(&key).as_deref(), Some(&samples[..]));
        assert_eq!(reopened.get_memory(&key).as_deref(), Some(&samples[..]));

        let bad = CacheKey::new("e", "v", "bad");
        std::fs::write(
            dir.path().join(format!("{}.pcm", bad.as_str())),
            [1u8, 2, 3],
        )
        .unwrap();
        assert!(reopened.get_disk(&bad).is_none());
        assert!(!dir.path().join(format!("{}.pcm", bad.as_str())).exists());
    }
}
