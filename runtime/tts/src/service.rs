//! The TTS service the media layer calls: prompt parts in, 8 kHz mono PCM out.
//!
//! For each prompt it applies the reading rules ([`crate::text::plan`]), plays library
//! recordings where the operator has them, synthesizes the rest through the engine (cached by
//! engine, voice and text in memory and on disk), inserts pauses and concatenates. Concurrent
//! requests for the same uncached text share one synthesis, so a burst of calls hitting a cold
//! greeting costs one synthesis, not one per call. The synthesis runs as a task of its own: it
//! finishes and fills the cache even when every call that asked for it has hung up meanwhile
//! (under load the work was otherwise thrown away and redone by the next call — at 1,000
//! concurrent calls 3,637 syntheses for ~400 distinct texts).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parking_lot::Mutex;

use crate::TtsError;
use crate::cache::{AudioCache, CacheKey};
use crate::engine::TtsEngine;
use crate::library::PromptLibrary;
use crate::resample::{TELEPHONE_RATE, TTS_GAIN, to_8k};
use crate::text::{Lang, Piece, Speech, plan};

/// Longest text synthesized in one piece (about four minutes of Mandarin speech).
pub const MAX_TEXT_CHARS: usize = 1_000;

/// Where the service keeps its files and how much memory the cache may use.
#[derive(Clone, Debug)]
pub struct TtsConfig {
    /// Prompt library root (operator recordings); see [`PromptLibrary`].
    pub prompts_dir: Option<PathBuf>,
    /// Disk cache directory (`<data>/tts-cache`); None keeps the cache in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Memory cache budget in bytes of 8 kHz samples.
    pub memory_cache_bytes: usize,
}

impl TtsConfig {
    /// The standard layout under a data directory: `<data>/prompts` and `<data>/tts-cache`,
    /// with a 64 MiB memory cache (about 70 minutes of 8 kHz audio).
    pub fn under(data_dir: &Path) -> TtsConfig {
        TtsConfig {
            prompts_dir: Some(data_dir.join("prompts")),
            cache_dir: Some(data_dir.join("tts-cache")),
            memory_cache_bytes: 64 << 20,
        }
    }
}

/// Counters that show whether the cache works (exposed for metrics and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TtsStats {
    /// Engine synthesis calls (cache misses).
    pub synthesized: u64,
    /// Texts served from the memory cache.
    pub memory_hits: u64,
    /// Texts served from the disk cache.
    pub disk_hits: u64,
    /// Prompts served from the operator's library.
    pub recordings: u64,
}

/// One synthesis in progress, awaited by every request for its text.
type Flight = Shared<BoxFuture<'static, Result<Arc<[i16]>, TtsError>>>;

/// What a synthesis task needs from the service (owned, so the task outlives any request).
#[derive(Clone)]
struct Filler {
    engine: Arc<dyn TtsEngine>,
    cache: Arc<AudioCache>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    synthesized: AtomicU64,
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    recordings: AtomicU64,
}

/// Text-to-speech for calls: prompt parts to 8 kHz mono PCM.
pub struct Tts {
    engine: Arc<dyn TtsEngine>,
    library: Arc<PromptLibrary>,
    cache: Arc<AudioCache>,
    in_flight: Arc<Mutex<HashMap<CacheKey, Flight>>>,
    counters: Arc<Counters>,
}

impl Tts {
    /// A service over any engine.
    pub fn new(engine: Arc<dyn TtsEngine>, config: TtsConfig) -> Tts {
        Tts {
            engine,
            library: Arc::new(PromptLibrary::new(config.prompts_dir)),
            cache: Arc::new(AudioCache::new(config.cache_dir, config.memory_cache_bytes)),
            in_flight: Arc::default(),
            counters: Arc::default(),
        }
    }

    /// The usual set-up: espeak-ng with default voices and the standard layout under `data_dir`.
    pub fn espeak(data_dir: &Path) -> Result<Tts, TtsError> {
        let engine = crate::Espeak::new(crate::EspeakConfig::default())?;
        Ok(Tts::new(Arc::new(engine), TtsConfig::under(data_dir)))
    }

    /// Renders and synthesizes a prompt to 8 kHz mono PCM.
    pub async fn speak(&self, lang: Lang, parts: &[Speech]) -> Result<Arc<[i16]>, TtsError> {
        let mut chunks: Vec<Arc<[i16]>> = Vec::new();
        for piece in plan(lang, parts) {
            chunks.push(match piece {
                Piece::Say(text) => self.say_text(lang, &text).await?,
                Piece::Recording { key, fallback } => match self.recording(lang, &key).await {
                    Some(rec) => rec,
                    None => self.say_text(lang, &fallback).await?,
                },
                Piece::Silence(ms) => {
                    vec![0; (ms as usize).saturating_mul(TELEPHONE_RATE as usize) / 1000].into()
                }
            });
        }
        if chunks.len() == 1
            && let Some(only) = chunks.pop()
        {
            return Ok(only); // the common cached case: no copy
        }
        Ok(chunks.concat().into())
    }

    /// Synthesizes already-rendered text (cached); what [`Tts::speak`] does for each text piece.
    pub async fn say_text(&self, lang: Lang, text: &str) -> Result<Arc<[i16]>, TtsError> {
        // One engine thread serves every call: a plugin must not stall it with a novel.
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(TtsError::TextTooLong {
                chars,
                max: MAX_TEXT_CHARS,
            });
        }
        let key = CacheKey::new(self.engine.id(), &self.engine.voice(lang), text);
        if let Some(hit) = self.cache.get_memory(&key) {
            self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        let flight = self
            .in_flight
            .lock()
            .entry(key.clone())
            .or_insert_with(|| {
                let filler = Filler { engine: self.engine.clone(), cache: self.cache.clone(), counters: self.counters.clone() };
                let (in_flight, text, key) = (self.in_flight.clone(), text.to_string(), key.clone());
                let task = tokio::spawn(async move {
                    let result = filler.fill(lang, &text, &key).await;
                    // Cached (or failed) by now: later requests look in the cache first.
                    in_flight.lock().remove(&key);
                    result
                });
                async move { task.await.unwrap_or_else(|e| Err(TtsError::Engine(format!("synthesis task failed: {e}")))) }.boxed().shared()
            })
            .clone();
        flight.await
    }
}

impl Filler {
    /// Disk cache, then engine; runs once per key even under concurrent requests.
    async fn fill(&self, lang: Lang, text: &str, key: &CacheKey) -> Result<Arc<[i16]>, TtsError> {
        if let Some(hit) = self.cache.get_memory(key) {
            self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        let (cache, k) = (self.cache.clone(), key.clone());
        if let Some(hit) = blocking(move || cache.get_disk(&k)).await? {
            self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        self.counters.synthesized.fetch_add(1, Ordering::Relaxed);
        let audio = self.engine.synthesize(lang, text).await?;
        let samples: Arc<[i16]> = to_8k(&audio.samples, audio.sample_rate, TTS_GAIN)?.into();
        tracing::debug!(
            engine = self.engine.id(),
            chars = text.chars().count(),
            samples = samples.len(),
            "synthesized"
        );
        let (cache, k, s) = (self.cache.clone(), key.clone(), samples.clone());
        blocking(move || cache.put(&k, s)).await?;
        Ok(samples)
    }
}

impl Tts {

    /// The operator's recording for `key`, if usable; a broken file is logged and skipped so
    /// the caller still hears the synthesized fallback.
    async fn recording(&self, lang: Lang, key: &str) -> Option<Arc<[i16]>> {
        let (library, k) = (self.library.clone(), key.to_string());
        match blocking(move || library.load(lang, &k))
            .await
            .and_then(|r| r)
        {
            Ok(Some(rec)) => {
                self.counters.recordings.fetch_add(1, Ordering::Relaxed);
                Some(rec)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(key, error = %e, "prompt recording unusable; synthesizing the fallback text");
                None
            }
        }
    }

    /// Loads a pre-recorded WAV a plugin asked to play, as 8 kHz mono (decoded once, reused
    /// until the file changes). The caller decides which paths a plugin may play.
    pub async fn play_wav(&self, path: &Path) -> Result<Arc<[i16]>, TtsError> {
        let (library, path) = (self.library.clone(), path.to_path_buf());
        blocking(move || library.load_file(&path)).await?
    }

    /// The prompt library (to list or check recordings).
    pub fn library(&self) -> &PromptLibrary {
        &self.library
    }

    /// Cache and synthesis counters.
    pub fn stats(&self) -> TtsStats {
        TtsStats {
            synthesized: self.counters.synthesized.load(Ordering::Relaxed),
            memory_hits: self.counters.memory_hits.load(Ordering::Relaxed),
            disk_hits: self.counters.disk_hits.load(Ordering::Relaxed),
            recordings: self.counters.recordings.load(Ordering::Relaxed),
        }
    }
}

/// Runs file I/O off the async worker threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TtsError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TtsError::Engine(format!("file I/O task failed: {e}")))
}
