//! Reading packet captures (classic pcap and pcapng, as tcpdump/tshark/dumpcap write them), so
//! end-to-end tests can check the RTP the runtime really sent: capture on `lo`, read the UDP
//! datagrams, parse RTP, decode, and measure the speech with [`crate::vad`].

use std::net::SocketAddrV4;
use std::time::Duration;

/// One UDP datagram read from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedUdp {
    /// Capture time since the first packet of the file.
    pub at: Duration,
    /// Source address.
    pub src: SocketAddrV4,
    /// Destination address.
    pub dst: SocketAddrV4,
    /// UDP payload (RTP, for our purposes).
    pub payload: Vec<u8>,
}

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Neither classic pcap nor pcapng.
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    Magic(u32),
    /// A link type we do not unwrap.
    #[error("unsupported link type {0} (supported: Ethernet 1, raw IP 101, Linux cooked 113, BSD loopback 0)")]
    LinkType(u32),
    /// The file ends inside a record or block.
    #[error("capture truncated at byte {0}")]
    Truncated(usize),
}

/// Bytes of link-layer header before the IP header.
fn link_header(link: u32) -> Result<usize, CaptureError> {
    match link {
        1 => Ok(14),
        101 => Ok(0),
        113 => Ok(16),
        0 => Ok(4),
        l => Err(CaptureError::LinkType(l)),
    }
}

/// Extracts an IPv4/UDP datagram from a link-layer frame (`None` for anything else).
fn udp_of(frame: &[u8], l2: usize) -> Option<(SocketAddrV4, SocketAddrV4, Vec<u8>)> {
    let ip = frame.get(l2..)?;
    if ip.len() < 20 || ip[0] >> 4 != 4 || ip[9] != 17 {
        return None;
    }
    let ihl = (ip[0] & 0x0F) as usize * 4;
    let udp = ip.get(ihl..)?;
    if udp.len() < 8 {
        return None;
    }
    let ulen = (u16::from_be_bytes([udp[4], udp[5]]) as usize).clamp(8, udp.len());
    Some((
        SocketAddrV4::new([ip[12], ip[13], ip[14], ip[15]].into(), u16::from_be_bytes([udp[0], udp[1]])),
        SocketAddrV4::new([ip[16], ip[17], ip[18], ip[19]].into(), u16::from_be_bytes([udp[2], udp[3]])),
        udp[8..ulen].to_vec(),
    ))
}

struct Reader<'a> {
    b: &'a [u8],
    be: bool,
}

impl Reader<'_> {
    fn u16(&self, o: usize) -> Option<u16> {
        let b: [u8; 2] = self.b.get(o..o + 2)?.try_into().ok()?;
        Some(if self.be { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }
    fn u32(&self, o: usize) -> Option<u32> {
        let b: [u8; 4] = self.b.get(o..o + 4)?.try_into().ok()?;
        Some(if self.be { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }
}

/// Reads the IPv4/UDP datagrams of a capture file's bytes (classic pcap or pcapng). Non-UDP and
/// IPv6 packets are skipped.
pub fn read_udp_capture(bytes: &[u8]) -> Result<Vec<CapturedUdp>, CaptureError> {
    let magic = u32::from_le_bytes(bytes.get(..4).ok_or(CaptureError::Truncated(0))?.try_into().map_err(|_| CaptureError::Truncated(0))?);
    let mut raw: Vec<(Duration, SocketAddrV4, SocketAddrV4, Vec<u8>)> = Vec::new();
    match magic {
        0xA1B2_C3D4 | 0xA1B2_3C4D | 0xD4C3_B2A1 | 0x4D3C_B2A1 => read_classic(bytes, magic, &mut raw)?,
        0x0A0D_0D0A => read_ng(bytes, &mut raw)?,
        m => return Err(CaptureError::Magic(m)),
    }
    let first = raw.first().map(|r| r.0).unwrap_or_default();
    Ok(raw.into_iter().map(|(t, src, dst, payload)| CapturedUdp { at: t.saturating_sub(first), src, dst, payload }).collect())
}

type Raw = Vec<(Duration, SocketAddrV4, SocketAddrV4, Vec<u8>)>;

fn read_classic(bytes: &[u8], magic: u32, out: &mut Raw) -> Result<(), CaptureError> {
    let be = matches!(magic, 0xD4C3_B2A1 | 0x4D3C_B2A1);
    let nanos = matches!(magic, 0xA1B2_3C4D | 0x4D3C_B2A1);
    let r = Reader { b: bytes, be };
    let l2 = link_header(r.u32(20).ok_or(CaptureError::Truncated(20))?)?;
    let mut off = 24;
    while off < bytes.len() {
        let (Some(sec), Some(frac), Some(incl)) = (r.u32(off), r.u32(off + 4), r.u32(off + 8)) else {
            return Err(CaptureError::Truncated(off));
        };
        let start = off + 16;
        let frame = bytes.get(start..start + incl as usize).ok_or(CaptureError::Truncated(off))?;
        off = start + incl as usize;
        let t = Duration::new(sec as u64, if nanos { frac } else { frac.saturating_mul(1000) }.min(999_999_999));
        if let Some((s, d, p)) = udp_of(frame, l2) {
            out.push((t, s, d, p));
        }
    }
    Ok(())
}

fn read_ng(bytes: &[u8], out: &mut Raw) -> Result<(), CaptureError> {
    // Per interface: link header size and timestamp units per second.
    let mut ifaces: Vec<(Option<usize>, u64)> = Vec::new();
    let mut r = Reader { b: bytes, be: false };
    let mut off = 0;
    while off < bytes.len() {
        let kind = u32::from_le_bytes(bytes.get(off..off + 4).ok_or(CaptureError::Truncated(off))?.try_into().map_err(|_| CaptureError::Truncated(off))?);
        if kind == 0x0A0D_0D0A {
            // Section header: its byte-order magic decides the endianness of the section.
            let bom = bytes.get(off + 8..off + 12).ok_or(CaptureError::Truncated(off))?;
            r.be = bom == [0x1A, 0x2B, 0x3C, 0x4D];
            ifaces.clear();
        }
        let len = r.u32(off + 4).ok_or(CaptureError::Truncated(off))? as usize;
        if len < 12 || off + len > bytes.len() {
            return Err(CaptureError::Truncated(off));
        }
        let body = off + 8;
        match r.u32(off).unwrap_or(0) {
            1 => {
                let link = r.u16(body).ok_or(CaptureError::Truncated(off))? as u32;
                let mut per_sec = 1_000_000u64;
                // Options: if_tsresol (code 9) changes the timestamp unit.
                let mut o = body + 8;
                while o + 4 <= off + len - 4 {
                    let (code, olen) = (r.u16(o).unwrap_or(0), r.u16(o + 2).unwrap_or(0) as usize);
                    if code == 0 {
                        break;
                    }
                    if code == 9
                        && let Some(&v) = bytes.get(o + 4)
                    {
                        let exp = (v & 0x7F) as u32;
                        per_sec = if v & 0x80 == 0 { 10u64.saturating_pow(exp) } else { 1u64 << exp.min(63) };
                    }
                    o += 4 + olen.div_ceil(4) * 4;
                }
                ifaces.push((link_header(link).ok(), per_sec.max(1)));
            }
            6 => {
                let (Some(ifid), Some(hi), Some(lo), Some(cap)) = (r.u32(body), r.u32(body + 4), r.u32(body + 8), r.u32(body + 12))
                else {
                    return Err(CaptureError::Truncated(off));
                };
                let Some(&(Some(l2), per_sec)) = ifaces.get(ifid as usize) else {
                    off += len;
                    continue;
                };
                let ts = ((hi as u64) << 32) | lo as u64;
                let t = Duration::from_secs(ts / per_sec) + Duration::from_nanos((ts % per_sec) * 1_000_000_000 / per_sec);
                let frame = bytes.get(body + 20..body + 20 + cap as usize).ok_or(CaptureError::Truncated(off))?;
                if let Some((s, d, p)) = udp_of(frame, l2) {
                    out.push((t, s, d, p));
                }
            }
            _ => {}
        }
        off += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::{DtmfPcapOptions, rtp_dtmf_stream, write_pcap};

    #[test]
    fn reads_back_what_we_write() {
        let opts = DtmfPcapOptions { digits: "5".into(), ..Default::default() };
        let pk = rtp_dtmf_stream(&opts).unwrap();
        let mut bytes = Vec::new();
        write_pcap(&mut bytes, opts.src, opts.dst, &pk).unwrap();
        let got = read_udp_capture(&bytes).unwrap();
        assert_eq!(got.len(), pk.len());
        assert_eq!(got[0].at, Duration::ZERO);
        assert_eq!(got[3].at, Duration::from_millis(60));
        assert_eq!((got[1].src, got[1].dst), (opts.src, opts.dst));
        assert!(got.iter().zip(&pk).all(|(g, p)| g.payload == p.rtp));
        assert!(matches!(read_udp_capture(&bytes[..bytes.len() - 3]), Err(CaptureError::Truncated(_))));
        assert!(matches!(read_udp_capture(b"GIF89a.."), Err(CaptureError::Magic(_))));
    }

    /// A real capture: tshark (Debian) converts our classic pcap to pcapng (with its own section,
    /// interface and enhanced packet blocks); the pcapng reader must see the same datagrams.
    #[test]
    fn reads_pcapng_written_by_tshark() {
        let opts = DtmfPcapOptions { digits: "12".into(), ..Default::default() };
        let pk = rtp_dtmf_stream(&opts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let classic = dir.path().join("c.pcap");
        let ng = dir.path().join("c.pcapng");
        write_pcap(std::fs::File::create(&classic).unwrap(), opts.src, opts.dst, &pk).unwrap();
        let st = std::process::Command::new("editcap")
            .args(["-F", "pcapng"])
            .arg(&classic)
            .arg(&ng)
            .status()
            .expect("editcap (Debian package tshark/wireshark-common) must be installed for this test");
        assert!(st.success());
        let bytes = std::fs::read(&ng).unwrap();
        assert_eq!(&bytes[..4], &[0x0A, 0x0D, 0x0D, 0x0A]);
        let got = read_udp_capture(&bytes).unwrap();
        let want = read_udp_capture(&std::fs::read(&classic).unwrap()).unwrap();
        assert_eq!(got, want);
    }
}
