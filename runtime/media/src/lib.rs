//! courtyard-media: the audio side of a Courtyard call.
//!
//! Each call leg is a [`MediaSession`]: one UDP socket from the [`PortAllocator`]'s range, driven
//! either by a tokio task of its own or, as the runtime runs calls, by a [`MediaThread`] that
//! serves hundreds of legs from one timing wheel. Each leg has a 20 ms clock with absolute
//! deadlines (so it does not drift), and on every tick it takes one frame from the receive jitter
//! buffer (for recording, in-band DTMF detection and bridged legs) and sends one frame (prompt
//! audio, bridged audio, a telephone-event, or comfort silence). Public methods are messages the
//! leg takes at its next tick, so a session handle is cheap to clone and safe to use from any
//! task. See README.md for the wiring API.

pub mod bridge;
pub mod capture;
pub mod codec;
pub mod collect;
pub mod dtmf;
mod engine;
pub mod jitter;
pub mod latch;
pub mod pacer;
pub mod pcap;
pub mod playout;
pub mod ports;
pub mod record;
pub mod rtp;
pub mod session;
pub mod socket;
pub mod stats;
pub mod thread;
pub mod tone;
pub mod vad;

pub use bridge::{AudioLink, BridgeHandle, Supervision, bridge, link_audio};
pub use codec::Codec;
pub use dtmf::{DtmfDigit, DtmfSource};
pub use playout::{PlayOptions, PlayOutcome};
pub use ports::PortAllocator;
pub use record::{CallerRecording, RecordCallerOptions, RecordEnd, RecordMode, RecordingInfo};
pub use session::{DigitReceiver, IdleAudio, InbandDtmf, MediaConfig, MediaSession};
pub use stats::{MediaStats, SendJitter};
pub use thread::MediaThread;

/// Samples per 20 ms frame at 8 kHz: the unit of pacing, mixing and recording.
pub const FRAME: usize = 160;

/// Why a media operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The RTP socket could not be bound.
    #[error("cannot bind RTP socket: {0}")]
    Bind(#[source] std::io::Error),
    /// Every even port of the configured range is in use: widen `rtp_ports` or lower call limits.
    #[error("no free RTP port in {lo}..={hi}: every even port is in use")]
    PortsExhausted {
        /// Lowest port of the range.
        lo: u16,
        /// Highest port of the range.
        hi: u16,
    },
    /// The session was closed (the call ended).
    #[error("media session closed")]
    Closed,
    /// A recording could not be created or written.
    #[error("recording failed: {0}")]
    Record(String),
    /// Not a DTMF key.
    #[error("'{0}' is not a DTMF key (use 0-9, *, #, A-D)")]
    InvalidDigit(char),
}
