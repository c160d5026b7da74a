//! The prompt library: an operator's recorded WAV for a prompt key overrides TTS.
//!
//! Real hotlines record their fixed prompts ("欢迎致电…") and synthesize only the dynamic parts.
//! Layout under the library directory (by default `<data>/prompts`):
//!
//! ```text
//! prompts/zh/welcome.wav        # Mandarin recording for key "welcome"
//! prompts/en/welcome.wav        # English recording
//! prompts/welcome.wav           # any language (used when no language-specific file exists)
//! prompts/zh/billing/arrears.wav  # keys may be namespaced with '/'
//! ```
//!
//! Files may have any sample rate, channel count and PCM/float format; they are converted to
//! 8 kHz mono when first used and kept in memory until the file changes (size or mtime), so an
//! operator can replace a recording without a restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::Mutex;

use crate::TtsError;
use crate::text::Lang;
use crate::wav::load_wav_8k;

/// Operator recordings by prompt key and language.
#[derive(Debug)]
pub struct PromptLibrary {
    dir: Option<PathBuf>,
    loaded: Mutex<HashMap<PathBuf, Loaded>>,
}

#[derive(Debug, Clone)]
struct Loaded {
    modified: Option<SystemTime>,
    len: u64,
    samples: Arc<[i16]>,
}

impl PromptLibrary {
    /// A library rooted at `dir` (None: no recordings, every prompt is synthesized).
    pub fn new(dir: Option<PathBuf>) -> PromptLibrary {
        PromptLibrary {
            dir,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The library directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// True for keys that are safe as file names: `[A-Za-z0-9_.-]` segments joined by '/',
    /// none empty or starting with '.', at most 128 bytes. Keys come from plugins, so this is
    /// what stops "../../etc/passwd".
    pub fn valid_key(key: &str) -> bool {
        !key.is_empty()
            && key.len() <= 128
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && !seg.starts_with('.')
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            })
    }

    /// The recording file for `key` in `lang`, if one exists.
    pub fn path_for(&self, lang: Lang, key: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        if !Self::valid_key(key) {
            return None;
        }
        [
            dir.join(lang.code()).join(format!("{key}.wav")),
            dir.join(format!("{key}.wav")),
        ]
        .into_iter()
        .find(|p| p.is_file())
    }

    /// Any WAV file as 8 kHz mono, decoded once and reused until its size or mtime changes
    /// (plugins' pre-recorded WAVs go through here too); blocking I/O.
    pub fn load_file(&self, path: &Path) -> Result<Arc<[i16]>, TtsError> {
        let meta = std::fs::metadata(path).ok();
        let modified = meta.as_ref().and_then(|m| m.modified().ok());
        let len = meta.as_ref().map_or(0, |m| m.len());
        if let Some(hit) = self.loaded.lock().get(path)
            && hit.modified == modified
            && hit.len == len
        {
            return Ok(hit.samples.clone());
        }
        let samples = load_wav_8k(path)?;
        let entry = Loaded {
            modified,
            len,
            samples: samples.clone(),
        };
        let mut loaded = self.loaded.lock();
        // Bounded: plugins may play many distinct files; recordings are small and re-decoding
        // is cheap, so simply start over when the table grows past a few hundred files.
        if loaded.len() >= 512 {
            loaded.clear();
        }
        loaded.insert(path.to_path_buf(), entry);
        Ok(samples)
    }

    /// The recording for `key` as 8 kHz mono, `Ok(None)` when there is none; blocking I/O.
    pub fn load(&self, lang: Lang, key: &str) -> Result<Option<Arc<[i16]>>, TtsError> {
        if !Self::valid_key(key) {
            tracing::warn!(
                key,
                "invalid prompt key (use letters, digits, '_', '-', '.', '/'); synthesizing instead"
            );
            return Ok(None);
        }
        let Some(path) = self.path_for(lang, key) else {
            return Ok(None);
        };
        self.load_file(&path).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::PromptLibrary;

    #[test]
    fn keys_cannot_escape_the_library() {
        for ok in ["welcome", "billing/arrears", "menu-1", "v2.greeting", "A_b"] {
            assert!(PromptLibrary::valid_key(ok), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "a/../b",
            "/etc/passwd",
            ".hidden",
            "a//b",
            "a\\b",
            "欢迎",
            "a b",
            &"x".repeat(129),
        ] {
            assert!(!PromptLibrary::valid_key(bad), "{bad}");
        }
    }
}
