//! Integration tests of courtyard-media over real UDP sockets on 127.0.0.1 (one binary, a module
//! per feature). Each test binds its own port-0 sockets, so tests run in parallel.

mod bridge;
mod collect;
mod dtmf;
mod lifecycle;
mod pacing;
mod pcap;
mod peer;
mod playout;
mod record;
mod robustness;
mod speech;
