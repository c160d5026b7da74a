//! `courtyard`: the call-center runtime binary (being written).
fn main() {}
