//! From the WIT prompt segments a plugin passes to the audio the caller hears.

use std::sync::Arc;

use courtyard_tts::Lang;

/// Maps the plugin's WIT segments to the TTS crate's speech parts — the same mapping the
/// simulator uses, so what a script expects is what a caller hears.
pub use courtyard_flows::simulator::render::to_speech;

/// The call's prompt language from its language tag ("zh" default).
pub fn lang_of(tag: &str) -> Lang {
    Lang::from_code(tag).unwrap_or(Lang::Zh)
}

/// The beep played before recording the caller.
pub fn beep() -> Arc<[i16]> {
    courtyard_tts::sounds::beep().into()
}

/// Hold music for callers waiting in a queue (operators replace it with a recording later).
pub fn hold_music() -> Arc<[i16]> {
    courtyard_tts::sounds::hold_melody().into()
}
