//! courtyard-media (being written).
