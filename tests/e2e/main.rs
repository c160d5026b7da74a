//! End-to-end tests: the `courtyard` binary against real SIP peers (SIPp, baresip), real RTP,
//! real espeak-ng audio and a real sled store on disk. Everything binds 127.0.0.1 on ports the OS
//! hands out, so the tests run in parallel.

mod support;

mod acd_agent;
mod crash_recovery;
mod baresip_caller;
mod campaign;
mod demo_service;
mod deployments;
mod hot_swap;
mod ivr_call;
mod limits_trace;
mod media_abuse;
mod orders_api;
mod phone_transfer;
mod plugins;
mod polyglot;
mod trunks;
