//! courtyard-sip (being written).
