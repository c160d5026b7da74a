//! The DTMF pcap we generate, replayed by real SIPp (`play_pcap_audio`) into a MediaSession: the
//! session must report exactly the digits written. The test plays a minimal SIP UAS itself
//! (INVITE → 200 with SDP → ACK … BYE → 200) so SIPp learns where to send the media.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::pcap::{DtmfPcapOptions, write_pcap_rtp_dtmf};
use tokio::net::UdpSocket;

use crate::peer::session;

fn header<'a>(msg: &'a str, name: &str) -> Vec<&'a str> {
    msg.split("\r\n")
        .take_while(|l| !l.is_empty())
        .filter(|l| l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name) && l[name.len()..].starts_with(':'))
        .collect()
}

fn response(req: &str, body: Option<&str>) -> String {
    let mut r = String::from("SIP/2.0 200 OK\r\n");
    for h in ["Via", "From", "Call-ID", "CSeq"] {
        for l in header(req, h) {
            r.push_str(l);
            r.push_str("\r\n");
        }
    }
    for l in header(req, "To") {
        r.push_str(l);
        if !l.contains(";tag=") {
            r.push_str(";tag=media-test");
        }
        r.push_str("\r\n");
    }
    r.push_str("Contact: <sip:ivr@127.0.0.1>\r\n");
    match body {
        Some(b) => r.push_str(&format!("Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}", b.len())),
        None => r.push_str("Content-Length: 0\r\n\r\n"),
    }
    r
}

fn sdp_media(msg: &str) -> Option<SocketAddr> {
    let body = msg.split("\r\n\r\n").nth(1)?;
    let ip = body.lines().find_map(|l| l.strip_prefix("c=IN IP4 "))?.trim();
    let port = body.lines().find_map(|l| l.strip_prefix("m=audio "))?.split(' ').next()?;
    format!("{ip}:{port}").parse().ok()
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

const SCENARIO: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="press digits from a pcap">
  <send retrans="500"><![CDATA[
INVITE sip:ivr@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:ivr@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15

  ]]></send>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:ivr@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <nop><action><exec play_pcap_audio="PCAP_FILE"/></action></nop>
  <pause milliseconds="PAUSE_MS"/>
  <send retrans="500"><![CDATA[
BYE sip:ivr@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <recv response="200"/>
</scenario>
"#;

#[tokio::test]
async fn sipp_replays_our_dtmf_pcap_and_the_session_hears_the_digits() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("digits.pcap");
    let opts = DtmfPcapOptions { digits: "2#07".into(), ..Default::default() };
    write_pcap_rtp_dtmf(&pcap, &opts).unwrap();
    let scen = dir.path().join("uac.xml");
    let scenario = SCENARIO.replace("PCAP_FILE", &pcap.display().to_string()).replace("PAUSE_MS", "3500");
    std::fs::write(&scen, scenario).unwrap();

    let sip = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let media = session().await;
    let mut digits = media.digits();
    let sipp = tokio::process::Command::new("sipp")
        .arg("-sf")
        .arg(&scen)
        .args(["-m", "1", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin", "-timeout", "30", "-timeout_error"])
        .args(["-p", &free_udp_port().to_string(), "-mp", &free_udp_port().to_string()])
        .arg(sip.local_addr().unwrap().to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sipp (Debian package sip-tester) must be installed for this test");

    let mut buf = vec![0u8; 4096];
    let mut got = String::new();
    let mut answered = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        tokio::select! {
            r = sip.recv_from(&mut buf) => {
                let (n, from) = r.unwrap();
                let msg = String::from_utf8_lossy(&buf[..n]).to_string();
                if msg.starts_with("INVITE ") {
                    let remote = sdp_media(&msg).expect("SDP in SIPp's INVITE");
                    media.set_remote(remote, Codec::Pcmu, Some(101));
                    let l = media.local_addr();
                    let sdp = format!(
                        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
                        ip = l.ip(), port = l.port());
                    sip.send_to(response(&msg, Some(&sdp)).as_bytes(), from).await.unwrap();
                    answered = true;
                } else if msg.starts_with("BYE ") {
                    sip.send_to(response(&msg, None).as_bytes(), from).await.unwrap();
                    break;
                }
            }
            Some(d) = digits.recv() => got.push(d.digit),
            _ = tokio::time::sleep_until(deadline) => panic!("SIPp call did not finish; digits so far {got:?}"),
        }
    }
    assert!(answered);
    let out = sipp.wait_with_output().await.unwrap();
    assert!(out.status.success(), "sipp failed: {}", String::from_utf8_lossy(&out.stderr));
    while let Some(d) = digits.try_recv() {
        got.push(d.digit);
    }
    assert_eq!(got, "2#07");
    assert_eq!(media.stats().dropped_foreign, 0);
    media.close().await;
}
