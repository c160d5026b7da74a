//! Integration tests of the ACD through its public handle, on a manual clock, without SIP.

mod common;
mod kpis;
mod offers;
mod queueing;
mod routing;
mod config_doc;
