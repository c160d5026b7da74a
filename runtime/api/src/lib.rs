//! courtyard-api (being written).
