//! Benchmark UAS: answers every INVITE with 200 + SDP and waits for the BYE; registrar with
//! users bench0..bench9999 (password "pw"). Used by tests/bench/sip-rate.sh with SIPp.
//!
//! `cargo run --release -p courtyard-sip --example bench-uas -- 127.0.0.1:5090`

use courtyard_sip::{CredentialStore, DialogEvent, Endpoint, IpNet, LocalMedia, SipConfig};
use std::sync::Arc;

struct BenchUsers;

impl CredentialStore for BenchUsers {
    fn password(&self, user: &str) -> Option<String> {
        user.strip_prefix("bench").filter(|n| n.parse::<u32>().is_ok()).map(|_| "pw".to_string())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:5090".into()).parse()?;
    let mut cfg = SipConfig::default();
    cfg.udp = addr;
    cfg.tcp = Some(addr);
    cfg.rate_limit.exempt = IpNet::loopback();
    let (ep, mut incoming) = Endpoint::bind(cfg, Arc::new(BenchUsers)).await?;
    eprintln!("bench-uas listening on {}", ep.local_addr());
    let local = LocalMedia::new("127.0.0.1".parse()?, 40000);
    while let Some(call) = incoming.recv().await {
        let local = local.clone();
        tokio::spawn(async move {
            if let Ok((mut dialog, _)) = call.answer(&local).await {
                while let Some(ev) = dialog.next_event().await {
                    if matches!(ev, DialogEvent::Bye | DialogEvent::Terminated(_)) {
                        break;
                    }
                }
            }
        });
    }
    Ok(())
}
