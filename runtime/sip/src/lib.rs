//! courtyard-sip: SIP signalling for Courtyard.
//!
//! Layers, bottom up (each module can be read alone):
//! - [`transport`] — UDP and TCP sockets; [`framing`] — one message per datagram, Content-Length
//!   on streams; [`message`] — the lexer (unfolding, compact names, lists); [`uri`], [`via`] —
//!   the fields we route on.
//! - [`validate`] — RFC 4475/5118 outcomes: accept, answer 4xx/5xx, or drop.
//! - [`transaction`] — RFC 3261 §17 client/server transactions and timers A–M.
//! - [`dialog`], [`call`], [`uac`] — UAS and UAC dialogs: answer, re-INVITE, BYE, CANCEL;
//!   [`refer`] — in-dialog REFER (a phone's transfer button) and its NOTIFYs.
//! - [`registrar`] + [`auth`] — REGISTER with digest (MD5, SHA-256), no user enumeration.
//! - [`ratelimit`], [`policy`] — pike-style bans; trunk allow-list and caller blacklist.
//! - [`sdp`] — G.711 + telephone-event offer/answer.
//! - [`endpoint`] — the façade the runtime uses: [`Endpoint::bind`] and the incoming-call queue.
//!
//! rsip 0.4 renders outgoing messages ([`builder`]); parsing of incoming bytes is done here
//! because rsip neither frames by Content-Length nor unfolds headers.

pub mod auth;
pub mod builder;
pub mod call;
mod core;
pub mod dialog;
pub mod endpoint;
pub mod error;
pub mod framing;
pub mod message;
pub mod policy;
pub mod probe;
pub mod ratelimit;
pub mod refer;
pub mod registrar;
pub mod sdp;
pub mod transaction;
pub mod transport;
pub mod uac;
pub mod uri;
pub mod validate;
pub mod via;

pub use auth::{Algorithm, CredentialStore, StaticCredentials};
pub use call::IncomingCall;
pub use dialog::{Dialog, DialogEvent};
pub use endpoint::{Endpoint, SipConfig};
pub use error::SipError;
pub use probe::ProbeReply;
pub use policy::{AllowList, CallerPolicy, CallerVerdict, IpNet};
pub use ratelimit::RateLimitConfig;
pub use registrar::{Binding, RegistrarConfig, RegistrarEvent};
pub use sdp::{Codec, Direction, LocalMedia, Negotiated};
pub use transaction::timers::TimerConfig;
pub use transport::{MessageObserver, Peer, Transport};
pub use uac::{CallProgress, OutboundCall, OutboundInvite};
