//! Writes a pcap whose RTP stream presses DTMF keys as RFC 4733 events (PCMU pt 0 +
//! telephone-event pt 101), for SIPp's `<exec play_pcap_audio="..."/>` in end-to-end tests.
//!
//! `cargo run -p courtyard-media --example dtmf-pcap -- OUT.pcap DIGITS [KEY_MS] [GAP_MS] [LEAD_MS]`

use std::time::Duration;

use courtyard_media::pcap::{DtmfPcapOptions, write_pcap_rtp_dtmf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(digits)) = (args.first(), args.get(1)) else {
        eprintln!("usage: dtmf-pcap OUT.pcap DIGITS [KEY_MS] [GAP_MS] [LEAD_MS]");
        std::process::exit(2);
    };
    let ms = |i: usize, d: u64| -> Result<Duration, std::num::ParseIntError> {
        Ok(Duration::from_millis(args.get(i).map(|s| s.parse()).transpose()?.unwrap_or(d)))
    };
    let opts = DtmfPcapOptions { digits: digits.clone(), key: ms(2, 120)?, gap: ms(3, 300)?, lead: ms(4, 500)?, ..Default::default() };
    let n = write_pcap_rtp_dtmf(out, &opts)?;
    println!("{out}: {n} RTP packets, digits {digits}");
    Ok(())
}
