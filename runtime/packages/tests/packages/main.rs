//! Integration tests of courtyard-packages against real components, real key files, real
//! package files and a real OCI registry (Debian's `docker-registry`).

mod fixture;
mod refusals;
mod registry;
mod roundtrip;
mod scaffold;
