//! Courtyard plugin SDK (being written).
