//! Integration tests of courtyard-orders against a real sled store in a tempdir, real HTTP
//! servers on 127.0.0.1:0 (SMS gateway, webhook receiver) and a real SMTP sink.

mod common;

mod callback;
mod delivery;
mod dispatch;
mod escalation;
mod figures;
mod lifecycle;
