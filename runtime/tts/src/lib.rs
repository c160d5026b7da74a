//! courtyard-tts: what callers hear.
//!
//! - [`text`]: Mandarin/English reading of prompt parts (money in fen, numbers, digit strings,
//!   dates) — pure Rust, shared with the flow simulator.
//! - [`Espeak`]: espeak-ng through its C library on one dedicated thread (`cmn-latn-pinyin`
//!   for Mandarin, `en` for English), behind the [`TtsEngine`] trait.
//! - [`Tts`]: the service — prompt library recordings, synthesis, 8 kHz resampling, pauses,
//!   and a memory + disk cache by (engine, voice, text).
//! - [`load_wav_8k`]: operator WAV files (any rate/channels) as 8 kHz mono.
//! - [`sounds`]: beep and hold tones at 8 kHz.

pub mod cache;
pub mod engine;
pub mod espeak;
pub mod library;
pub mod resample;
pub mod service;
pub mod sounds;
pub mod text;
pub mod wav;

use std::path::PathBuf;

pub use engine::{Audio, EngineFuture, TtsEngine};
pub use espeak::{Espeak, EspeakConfig};
pub use library::PromptLibrary;
pub use resample::TELEPHONE_RATE;
pub use service::{Tts, TtsConfig, TtsStats};
pub use text::{Lang, Piece, Speech, plan, render_text};
pub use wav::{load_wav_8k, save_wav_8k};

/// Everything that can go wrong producing audio.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TtsError {
    /// The synthesis engine failed or is not available.
    #[error("TTS engine: {0}")]
    Engine(String),
    /// The configured voice does not exist.
    #[error("unknown TTS voice '{0}' (list voices with `espeak-ng --voices`)")]
    UnknownVoice(String),
    /// A text piece is longer than [`service::MAX_TEXT_CHARS`].
    #[error("text of {chars} characters is too long to synthesize (max {max}); split the prompt")]
    TextTooLong {
        /// Characters in the text.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// Audio could not be converted.
    #[error("audio conversion: {0}")]
    Audio(String),
    /// A WAV file could not be read or written.
    #[error("{}: {message}", path.display())]
    Wav {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
}
