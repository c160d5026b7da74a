//! OPTIONS keep-alive towards a peer (a trunk's SIP server): one out-of-dialog OPTIONS, the
//! status of the first final response and the round-trip time. Any response counts as "the peer
//! is reachable" for the caller to decide; only silence is a failed probe.

use crate::builder;
use crate::core::{Core, token};
use crate::dialog::uri_target;
use crate::error::SipError;
use crate::transaction::client::{ClientEvent, ClientKey};
use crate::transport::{Peer, Transport};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A probe's answer: the final status and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeReply {
    /// Final status code (200, 404, 405 ... all mean "reachable").
    pub status: u16,
    /// Request sent → final response received.
    pub rtt: Duration,
}

/// Sends OPTIONS to `target` (`sip:host:port`) and waits up to `within` for a final response;
/// `Ok(None)` when none came in time.
pub(crate) async fn options(core: Arc<Core>, target: &str, within: Duration) -> Result<Option<ProbeReply>, SipError> {
    let addr = match uri_target(target) {
        Some(a) => a,
        None => crate::uac::resolve(target).await.ok_or_else(|| SipError::BadTarget(target.to_string()))?,
    };
    let peer = Peer { transport: Transport::Udp, addr };
    let branch = format!("{}{}", crate::via::MAGIC_COOKIE, token());
    let host = crate::uri::SipUri::parse(target).map(|u| u.host).unwrap_or_default();
    let headers: Vec<(&str, String)> = vec![
        ("Via", core.via(Transport::Udp, &branch)),
        ("Max-Forwards", "70".into()),
        ("From", format!("<sip:keepalive@{}>;tag={}", core.host, token())),
        ("To", format!("<sip:{host}>")),
        ("Call-ID", format!("{}@{}", token(), core.host)),
        ("CSeq", "1 OPTIONS".into()),
        ("User-Agent", core.cfg.user_agent.clone()),
        ("Accept", "application/sdp".into()),
    ];
    let bytes = builder::request("OPTIONS", target, &headers, b"");
    let started = Instant::now();
    let mut rx = core.send_request(ClientKey { branch, method: "OPTIONS".into() }, peer, bytes, None);
    let reply = tokio::time::timeout(within, async {
        while let Some(ev) = rx.recv().await {
            match ev {
                ClientEvent::Response(r) => match r.status() {
                    Some(s) if s >= 200 => return Some(ProbeReply { status: s, rtt: started.elapsed() }),
                    _ => continue,
                },
                ClientEvent::Timeout => return None,
            }
        }
        None
    })
    .await;
    Ok(reply.ok().flatten())
}
