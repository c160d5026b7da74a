//! Writes RTP streams into classic pcap files, so test tools can replay audio and key presses we
//! generated with our own encoder — above all SIPp's `play_pcap_audio`, which end-to-end tests
//! use to press digits in an IVR (`<exec play_pcap_audio="digits.pcap"/>`).
//!
//! Format: libpcap 2.4, link type Ethernet (SIPp reads Ethernet and Linux-cooked captures),
//! IPv4/UDP with correct header checksums, microsecond timestamps that pace the packets 20 ms
//! apart (SIPp replays with the capture's timing). SIPp rewrites addresses and ports when it
//! replays, so the addresses in the file only need to be consistent.

use std::io::Write;
use std::net::SocketAddrV4;
use std::path::Path;
use std::time::Duration;

use crate::Codec;
use crate::dtmf::event_code;
use crate::dtmf::rfc4733::EventSender;
use crate::rtp;

/// What to put into a DTMF pcap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtmfPcapOptions {
    /// Keys to press, in order ('0'-'9', '*', '#', 'A'-'D'); other characters are refused.
    pub digits: String,
    /// Audio codec of the surrounding stream (PCMU, payload type 0, for SIPp's usual SDP).
    pub codec: Codec,
    /// Payload type of telephone-events (101 is what most SDPs use).
    pub event_pt: u8,
    /// Silence before the first key (lets the IVR start its prompt).
    pub lead: Duration,
    /// How long each key is held.
    pub key: Duration,
    /// Silence between keys.
    pub gap: Duration,
    /// Silence after the last key.
    pub tail: Duration,
    /// Addresses written in the IP/UDP headers.
    pub src: SocketAddrV4,
    /// Addresses written in the IP/UDP headers.
    pub dst: SocketAddrV4,
}

impl Default for DtmfPcapOptions {
    fn default() -> Self {
        Self {
            digits: String::new(),
            codec: Codec::Pcmu,
            event_pt: 101,
            lead: Duration::from_millis(500),
            key: Duration::from_millis(120),
            gap: Duration::from_millis(300),
            tail: Duration::from_millis(200),
            src: SocketAddrV4::new([10, 0, 0, 1].into(), 6000),
            dst: SocketAddrV4::new([10, 0, 0, 2].into(), 6000),
        }
    }
}

/// One RTP packet and when it is sent, relative to the stream start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedPacket {
    /// Send time from the start of the stream.
    pub at: Duration,
    /// The RTP datagram.
    pub rtp: Vec<u8>,
}

/// Accumulates a paced RTP stream, one packet per 20 ms tick.
struct Stream {
    ssrc: u32,
    seq: u16,
    ts: u32,
    tick: u32,
    buf: Vec<u8>,
    out: Vec<TimedPacket>,
}

impl Stream {
    fn push(&mut self, pt: u8, ts: u32, marker: bool, payload: &[u8]) {
        rtp::build(&mut self.buf, pt, self.seq, ts, self.ssrc, marker, payload);
        self.out.push(TimedPacket { at: Duration::from_millis(self.tick as u64 * 20), rtp: self.buf.clone() });
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(crate::FRAME as u32);
        self.tick += 1;
    }

    fn silence(&mut self, codec: Codec, d: Duration) {
        let frame = vec![codec.silence_byte(); crate::FRAME];
        for i in 0..(d.as_millis() as u32).div_ceil(20).max(1) {
            self.push(codec.payload_type(), self.ts, i == 0, &frame);
        }
    }
}

/// Builds the RTP stream: silence frames every 20 ms, and for each key RFC 4733 events (audio
/// suppressed meanwhile) ending with three end packets.
pub fn rtp_dtmf_stream(opts: &DtmfPcapOptions) -> Result<Vec<TimedPacket>, crate::MediaError> {
    let codes: Vec<u8> =
        opts.digits.chars().map(|c| event_code(c).ok_or(crate::MediaError::InvalidDigit(c))).collect::<Result<_, _>>()?;
    let mut s = Stream { ssrc: 0x0C0A_7E11, seq: 1, ts: 0, tick: 0, buf: Vec::new(), out: Vec::new() };
    s.silence(opts.codec, opts.lead);
    for (i, code) in codes.iter().enumerate() {
        let mut ev = EventSender::new(*code, opts.key.as_millis() as u32, 10, s.ts);
        while let Some((marker, payload)) = ev.next_packet() {
            s.push(opts.event_pt, ev.timestamp, marker, &payload);
        }
        s.silence(opts.codec, if i + 1 == codes.len() { opts.tail } else { opts.gap });
    }
    Ok(s.out)
}

fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for c in chunks {
        for &b in *c {
            match odd.take() {
                Some(hi) => sum += u16::from_be_bytes([hi, b]) as u32,
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u16::from_be_bytes([hi, 0]) as u32;
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// Wraps one UDP payload in Ethernet + IPv4 + UDP headers.
fn frame(src: SocketAddrV4, dst: SocketAddrV4, id: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = (8 + payload.len()) as u16;
    let ip_len = 20 + udp_len;
    let mut f = Vec::with_capacity(14 + ip_len as usize);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 17; // UDP
    ip[12..16].copy_from_slice(&src.ip().octets());
    ip[16..20].copy_from_slice(&dst.ip().octets());
    let c = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    let mut udp = [0u8; 8];
    udp[0..2].copy_from_slice(&src.port().to_be_bytes());
    udp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    udp[4..6].copy_from_slice(&udp_len.to_be_bytes());
    let mut pseudo = [0u8; 12];
    pseudo[0..4].copy_from_slice(&src.ip().octets());
    pseudo[4..8].copy_from_slice(&dst.ip().octets());
    pseudo[9] = 17;
    pseudo[10..12].copy_from_slice(&udp_len.to_be_bytes());
    let mut c = checksum(&[&pseudo, &udp, payload]);
    if c == 0 {
        c = 0xFFFF;
    }
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&udp);
    f.extend_from_slice(payload);
    f
}

/// Writes timed UDP payloads as a pcap (Ethernet/IPv4/UDP) to any writer.
pub fn write_pcap<W: Write>(mut w: W, src: SocketAddrV4, dst: SocketAddrV4, packets: &[TimedPacket]) -> std::io::Result<()> {
    // Global header: magic, v2.4, tz 0, sigfigs 0, snaplen, LINKTYPE_ETHERNET.
    w.write_all(&0xA1B2_C3D4u32.to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&4u16.to_le_bytes())?;
    w.write_all(&0i32.to_le_bytes())?;
    w.write_all(&0u32.to_le_bytes())?;
    w.write_all(&65535u32.to_le_bytes())?;
    w.write_all(&1u32.to_le_bytes())?;
    // An arbitrary fixed epoch keeps files reproducible.
    let base = Duration::from_secs(1_700_000_000);
    for (i, p) in packets.iter().enumerate() {
        let f = frame(src, dst, i as u16, &p.rtp);
        let t = base + p.at;
        w.write_all(&(t.as_secs() as u32).to_le_bytes())?;
        w.write_all(&t.subsec_micros().to_le_bytes())?;
        w.write_all(&(f.len() as u32).to_le_bytes())?;
        w.write_all(&(f.len() as u32).to_le_bytes())?;
        w.write_all(&f)?;
    }
    w.flush()
}

/// Writes a pcap with an RTP stream that presses `opts.digits` as RFC 4733 events (for SIPp's
/// `play_pcap_audio`); returns the number of packets.
pub fn write_pcap_rtp_dtmf(path: impl AsRef<Path>, opts: &DtmfPcapOptions) -> Result<usize, crate::MediaError> {
    let packets = rtp_dtmf_stream(opts)?;
    let file = std::fs::File::create(path.as_ref())
        .map_err(|e| crate::MediaError::Record(format!("cannot create {}: {e}", path.as_ref().display())))?;
    write_pcap(std::io::BufWriter::new(file), opts.src, opts.dst, &packets)
        .map_err(|e| crate::MediaError::Record(format!("cannot write {}: {e}", path.as_ref().display())))?;
    Ok(packets.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf::rfc4733::{EventPayload, Rfc4733Receiver};

    /// Reads our own pcap back (headers checked byte by byte) and feeds the RTP to the receiver.
    #[test]
    fn pcap_round_trips_through_a_reader_and_decodes_to_the_digits() {
        let opts = DtmfPcapOptions { digits: "1#9".into(), ..Default::default() };
        let mut bytes = Vec::new();
        let pk = rtp_dtmf_stream(&opts).unwrap();
        write_pcap(&mut bytes, opts.src, opts.dst, &pk).unwrap();
        assert_eq!(&bytes[..4], &[0xD4, 0xC3, 0xB2, 0xA1]);
        assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1, "Ethernet link type");
        let mut off = 24;
        let mut rx = Rfc4733Receiver::new();
        let mut digits = Vec::new();
        let mut last_t = 0u64;
        let mut n = 0;
        while off < bytes.len() {
            let sec = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as u64;
            let usec = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as u64;
            let t = sec * 1_000_000 + usec;
            assert!(t >= last_t, "timestamps ascend");
            last_t = t;
            let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
            let orig = u32::from_le_bytes(bytes[off + 12..off + 16].try_into().unwrap()) as usize;
            assert_eq!(incl, orig, "SIPp refuses truncated packets");
            let f = &bytes[off + 16..off + 16 + incl];
            assert_eq!(&f[12..14], &[0x08, 0x00]);
            let ip = &f[14..34];
            assert_eq!(checksum(&[ip]), 0, "IPv4 header checksum");
            let udp = &f[34..];
            assert_eq!(u16::from_be_bytes([udp[4], udp[5]]) as usize, udp.len());
            let mut pseudo = Vec::from(&ip[12..20]);
            pseudo.extend_from_slice(&[0, 17]);
            pseudo.extend_from_slice(&(udp.len() as u16).to_be_bytes());
            assert_eq!(checksum(&[&pseudo, udp]), 0, "UDP checksum");
            let h = rtp::parse(&udp[8..]).unwrap();
            if h.payload_type == 101 {
                assert!(EventPayload::decode(h.payload).is_some());
                rx.on_packet(h.ssrc, h.timestamp, h.payload, std::time::Instant::now(), &mut digits);
            } else {
                assert_eq!(h.payload_type, 0);
                assert_eq!(h.payload.len(), 160);
            }
            off += 16 + incl;
            n += 1;
        }
        assert_eq!(n, pk.len());
        assert_eq!(digits.iter().map(|d| d.digit).collect::<String>(), "1#9");
        assert!(digits.iter().all(|d| d.duration_ms == 120));
        assert!(rtp_dtmf_stream(&DtmfPcapOptions { digits: "1x".into(), ..Default::default() }).is_err());
    }
}
