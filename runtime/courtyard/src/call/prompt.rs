//! From the WIT prompt segments a plugin passes to the audio the caller hears.

use std::sync::Arc;

use courtyard_flows::wit::Segment;
use courtyard_tts::{Lang, Speech};

/// Maps the plugin's WIT segments to the TTS crate's speech parts (one-to-one).
pub fn to_speech(prompt: &[Segment]) -> Vec<Speech> {
    prompt
        .iter()
        .map(|s| match s {
            Segment::Text(t) => Speech::Text(t.clone()),
            Segment::Prompt(p) => Speech::Prompt { key: p.key.clone(), fallback: p.fallback_text.clone() },
            Segment::Money(f) => Speech::Money(*f),
            Segment::Number(n) => Speech::Number(*n),
            Segment::Digits(d) => Speech::Digits(d.clone()),
            Segment::Date(d) => Speech::Date(d.clone()),
            Segment::Pause(ms) => Speech::Pause(*ms),
        })
        .collect()
}

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
