//! courtyard-store (being written).
