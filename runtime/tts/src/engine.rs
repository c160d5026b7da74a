//! The TTS engine abstraction, so a cloud engine can replace espeak-ng without touching callers.

use std::future::Future;
use std::pin::Pin;

use crate::TtsError;
use crate::text::Lang;

/// Audio as an engine produced it: mono s16 at the engine's own rate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audio {
    /// Samples per second.
    pub sample_rate: u32,
    /// Mono signed 16-bit samples.
    pub samples: Vec<i16>,
}

/// Future returned by [`TtsEngine::synthesize`] (boxed so the trait stays object-safe).
pub type EngineFuture<'a> = Pin<Box<dyn Future<Output = Result<Audio, TtsError>> + Send + 'a>>;

/// A speech synthesizer. Implementations: [`crate::Espeak`]; a cloud engine can be added later.
///
/// The service caches by (`id`, `voice`, text), so `voice` must change whenever the audio for
/// the same text would (voice name, speed, …).
pub trait TtsEngine: Send + Sync + 'static {
    /// Stable engine name, part of the cache key ("espeak-ng").
    fn id(&self) -> &str;
    /// The voice (and settings) used for `lang`, part of the cache key.
    fn voice(&self, lang: Lang) -> String;
    /// Synthesizes already-rendered text (see [`crate::text::plan`]) in `lang`.
    fn synthesize<'a>(&'a self, lang: Lang, text: &'a str) -> EngineFuture<'a>;
}
