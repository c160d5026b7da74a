//! Tones (being written).
