//! courtyard-flows (being written).
