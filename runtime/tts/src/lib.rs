//! courtyard-tts: what callers hear. Chinese/English reading of prompt parts ([`text`]), and
//! (being written) espeak-ng synthesis, resampling to 8 kHz, a prompt library and a cache.

pub mod text;

pub use text::{Lang, Piece, Speech, plan, render_text};
