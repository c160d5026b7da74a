//! RFC 3261 §17 transactions: [`server`] absorbs retransmitted requests and retransmits our
//! responses; [`client`] retransmits our requests, times out, and ACKs non-2xx finals.

pub mod client;
pub mod server;
pub mod timers;

use crate::transport::Transports;
use timers::{TimerConfig, TimerQueue};

/// What transactions need to act: the transports to send on and the timer queue.
pub struct Ctx {
    /// Transports.
    pub transports: Transports,
    /// Timer queue.
    pub timers: TimerQueue,
    /// Timer values.
    pub t: TimerConfig,
}
