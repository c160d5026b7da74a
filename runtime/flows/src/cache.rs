//! Disk cache of compiled components, so a restart does not recompile every plugin.
//!
//! Loading precompiled machine code is only safe for code this host produced: wasmtime runs it
//! without validation. So artifacts are never accepted from outside (install takes component
//! bytes only), and every cache file carries an HMAC-SHA256 (RFC 2104 over sha2) under a secret key the host created
//! in the cache directory; a file that does not verify (copied in, truncated, tampered, built by
//! another engine configuration) is ignored and recompiled. Files are keyed by the SHA-256 of the
//! component bytes and the engine's precompile compatibility hash, and written atomically.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Magic prefix of a cache file (format version 1).
const MAGIC: &[u8; 8] = b"CYCWASM1";
/// Length of the HMAC tag following the magic.
const TAG_LEN: usize = 32;

/// How a component was obtained, for logs, tests and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a verified cache file.
    Hit,
    /// Compiled now (and stored when a cache directory is configured).
    Compiled,
}

/// Why the cache directory could not be used.
#[derive(Debug, thiserror::Error)]
#[error("component cache {path}: {source}")]
pub struct CacheError {
    /// The file or directory involved.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// The on-disk cache, or none (compile every time).
pub(crate) struct ComponentCache {
    dir: Option<PathBuf>,
    key: [u8; 32],
    engine_tag: String,
}

/// `Hasher` over SHA-256 so the engine compatibility hash is stable across Rust versions.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let d = self.0.clone().finalize();
        u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Hex SHA-256 of bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ComponentCache {
    /// Open (creating if needed) the cache directory and its secret key.
    pub(crate) fn open(engine: &Engine, dir: Option<&Path>) -> Result<Self, CacheError> {
        let mut h = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_tag = hex::encode(&h.0.finalize()[..8]);
        let Some(dir) = dir else {
            return Ok(ComponentCache { dir: None, key: [0; 32], engine_tag });
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source: std::io::Error| CacheError { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let key_path = dir.join("host.key");
        let key = match fs::read(&key_path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut k = [0u8; 32];
                k.copy_from_slice(&bytes);
                k
            }
            _ => {
                let k = random_key().map_err(io(Path::new("/dev/urandom")))?;
                write_private(&key_path, &k).map_err(io(&key_path))?;
                k
            }
        };
        Ok(ComponentCache { dir: Some(dir.to_path_buf()), key, engine_tag })
    }

    /// HMAC-SHA256 (RFC 2104) of the file name and the artifact under the host key.
    fn mac(&self, name: &str, artifact: &[u8]) -> [u8; TAG_LEN] {
        const BLOCK: usize = 64;
        let mut ipad = [0x36u8; BLOCK];
        let mut opad = [0x5cu8; BLOCK];
        for (i, k) in self.key.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let mut inner = Sha256::new();
        inner.update(ipad);
        inner.update((name.len() as u64).to_le_bytes());
        inner.update(name.as_bytes());
        inner.update(artifact);
        let mut outer = Sha256::new();
        outer.update(opad);
        outer.update(inner.finalize());
        outer.finalize().into()
    }

    /// Constant-time comparison of a tag with the expected one.
    fn verify(&self, name: &str, artifact: &[u8], tag: &[u8]) -> bool {
        let expected = self.mac(name, artifact);
        tag.len() == TAG_LEN && expected.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The component for these bytes: from a verified cache file, or compiled (and cached).
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, bytes)?, CacheOutcome::Compiled));
        };
        let name = format!("{sha256}-{}.cwasm", self.engine_tag);
        let path = dir.join(&name);
        if let Some(component) = self.load_verified(engine, &path, &name) {
            return Ok((component, CacheOutcome::Hit));
        }
        let artifact = engine.precompile_component(bytes)?;
        let tag = self.mac(&name, &artifact);
        // SAFETY of the later load rests on this file being ours: it is HMAC-tagged here.
        let mut file = Vec::with_capacity(MAGIC.len() + TAG_LEN + artifact.len());
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&tag);
        file.extend_from_slice(&artifact);
        if let Err(e) = write_atomic(&path, &file) {
            tracing::warn!(path = %path.display(), error = %e, "could not write the component cache");
        }
        let component = deserialize_own_artifact(engine, &artifact)?;
        Ok((component, CacheOutcome::Compiled))
    }

    fn load_verified(&self, engine: &Engine, path: &Path, name: &str) -> Option<Component> {
        let file = fs::read(path).ok()?;
        if file.len() < MAGIC.len() + TAG_LEN || &file[..MAGIC.len()] != MAGIC {
            tracing::warn!(path = %path.display(), "ignoring a cache file with a bad header");
            return None;
        }
        let (tag, artifact) = file[MAGIC.len()..].split_at(TAG_LEN);
        if !self.verify(name, artifact, tag) {
            tracing::warn!(path = %path.display(), "ignoring a cache file this host did not write (bad HMAC)");
            return None;
        }
        match deserialize_own_artifact(engine, artifact) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring an unloadable cache file");
                None
            }
        }
    }
}

/// Load machine code that this host compiled (verified by HMAC or produced in-process).
#[allow(unsafe_code)]
fn deserialize_own_artifact(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `artifact` is either the output of `Engine::precompile_component` in this process
    // or a cache file whose HMAC under this host's secret key verified, i.e. bytes this host
    // produced; wasmtime additionally checks the engine configuration recorded in it.
    unsafe { Component::deserialize(engine, artifact) }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{seq}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

/// 32 bytes from the kernel's CSPRNG.
fn random_key() -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut k = [0u8; 32];
    fs::File::open("/dev/urandom")?.read_exact(&mut k)?;
    Ok(k)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
