//! Integration tests of courtyard-flows with real guest components and real wasmtime, in one
//! binary (a module per feature) so the test suite links once.

mod common;

mod cache;
mod containment;
mod hot_swap;
mod install;
mod polyglot;
mod simulator;
