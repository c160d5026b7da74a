//! courtyard-tts (being written).
