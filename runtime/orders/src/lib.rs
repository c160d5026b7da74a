//! courtyard-orders (placeholder while building deps).
