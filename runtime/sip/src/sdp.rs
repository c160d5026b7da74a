//! SDP offer/answer (RFC 4566 / RFC 3264) for what Courtyard's media engine speaks: G.711
//! µ-law (PCMU, PT 0) and A-law (PCMA, PT 8), RFC 4733 telephone-event, ptime, and the
//! direction attributes used for hold. A small strict parser rather than a general SDP crate:
//! the few fields we need are checked carefully, anything else is carried through untouched.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// Why a body is not usable SDP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad SDP: {0}")]
pub struct SdpError(pub String);

/// Why an offer cannot be answered; the message goes into the 488 reason and Warning header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    /// No audio stream in the offer.
    #[error("no audio stream offered")]
    NoAudio,
    /// Audio offered, but neither PCMU nor PCMA.
    #[error("no common codec (we support PCMU, PCMA)")]
    NoCommonCodec,
    /// Offer uses a transport profile other than RTP/AVP.
    #[error("unsupported media transport {0}")]
    UnsupportedTransport(String),
    /// Malformed body.
    #[error("{0}")]
    Malformed(#[from] SdpError),
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// a=sendrecv (default).
    SendRecv,
    /// a=sendonly.
    SendOnly,
    /// a=recvonly.
    RecvOnly,
    /// a=inactive.
    Inactive,
}

impl Direction {
    fn attr(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attr(a: &str) -> Option<Direction> {
        Some(match a {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// The direction an answerer uses for an offered direction, limited by what it wants.
    pub fn answer_to(self, ours: Direction) -> Direction {
        let (offer_sends, offer_recvs) = self.flags();
        let (we_send, we_recv) = ours.flags();
        Direction::from_flags(we_send && offer_recvs, we_recv && offer_sends)
    }

    /// (sends, receives)
    pub fn flags(self) -> (bool, bool) {
        match self {
            Direction::SendRecv => (true, true),
            Direction::SendOnly => (true, false),
            Direction::RecvOnly => (false, true),
            Direction::Inactive => (false, false),
        }
    }

    fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }
}

/// The audio codecs we can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// G.711 µ-law, static PT 0.
    Pcmu,
    /// G.711 A-law, static PT 8.
    Pcma,
}

impl Codec {
    /// Static payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// rtpmap encoding name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}

/// One m= section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Media type (audio, video ...).
    pub kind: String,
    /// Port (0 = stream rejected/disabled).
    pub port: u16,
    /// Transport profile, e.g. RTP/AVP.
    pub proto: String,
    /// Format list (payload types for RTP).
    pub formats: Vec<String>,
    /// Media-level c= address.
    pub connection: Option<IpAddr>,
    /// a=rtpmap entries: (pt, encoding, clock rate).
    pub rtpmap: Vec<(u8, String, u32)>,
    /// a=fmtp entries: (pt, parameters).
    pub fmtp: Vec<(u8, String)>,
    /// a=ptime.
    pub ptime: Option<u32>,
    /// Media-level direction.
    pub direction: Option<Direction>,
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// o= username.
    pub origin_user: String,
    /// o= session id.
    pub session_id: u64,
    /// o= session version (incremented on every change we make).
    pub session_version: u64,
    /// o= address.
    pub origin_addr: IpAddr,
    /// s= line.
    pub session_name: String,
    /// Session-level c= address.
    pub connection: Option<IpAddr>,
    /// Session-level direction.
    pub direction: Option<Direction>,
    /// m= sections.
    pub media: Vec<Media>,
}

fn parse_conn(v: &str) -> Result<IpAddr, SdpError> {
    // c=IN IP4 192.0.2.1[/ttl]
    let mut it = v.split_whitespace();
    let (nt, at, addr) = (it.next(), it.next(), it.next());
    if nt != Some("IN") || !matches!(at, Some("IP4" | "IP6")) {
        return Err(SdpError(format!("bad c= line '{v}'")));
    }
    let addr = addr.ok_or_else(|| SdpError("c= without address".into()))?;
    let addr = addr.split('/').next().unwrap_or(addr);
    addr.parse().map_err(|_| SdpError(format!("c= address '{addr}' is not an IP address")))
}

/// Parses an SDP body.
pub fn parse(body: &[u8]) -> Result<SessionDescription, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError("not UTF-8".into()))?;
    let mut sd = SessionDescription {
        origin_user: "-".into(),
        session_id: 0,
        session_version: 0,
        origin_addr: IpAddr::from([0, 0, 0, 0]),
        session_name: "-".into(),
        connection: None,
        direction: None,
        media: Vec::new(),
    };
    let mut saw_v = false;
    let mut saw_o = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let (t, v) = line.split_once('=').ok_or_else(|| SdpError(format!("line without '=': {line}")))?;
        if t.len() != 1 {
            return Err(SdpError(format!("bad line type '{t}'")));
        }
        match t {
            "v" => {
                if v != "0" {
                    return Err(SdpError("v= must be 0".into()));
                }
                saw_v = true;
            }
            "o" => {
                let f: Vec<&str> = v.split_whitespace().collect();
                if f.len() != 6 {
                    return Err(SdpError("o= needs 6 fields".into()));
                }
                sd.origin_user = f[0].into();
                sd.session_id = f[1].parse().unwrap_or(0);
                sd.session_version = f[2].parse().unwrap_or(0);
                sd.origin_addr = f[5].parse().unwrap_or(sd.origin_addr);
                saw_o = true;
            }
            "s" => sd.session_name = v.into(),
            "c" => {
                let ip = parse_conn(v)?;
                match sd.media.last_mut() {
                    Some(m) => m.connection = Some(ip),
                    None => sd.connection = Some(ip),
                }
            }
            "m" => {
                let f: Vec<&str> = v.split_whitespace().collect();
                if f.len() < 4 {
                    return Err(SdpError("m= needs media, port, proto and formats".into()));
                }
                let port_s = f[1].split('/').next().unwrap_or(f[1]);
                let port: u16 = port_s.parse().map_err(|_| SdpError(format!("bad m= port '{}'", f[1])))?;
                sd.media.push(Media {
                    kind: f[0].into(),
                    port,
                    proto: f[2].into(),
                    formats: f[3..].iter().map(|s| s.to_string()).collect(),
                    connection: None,
                    rtpmap: Vec::new(),
                    fmtp: Vec::new(),
                    ptime: None,
                    direction: None,
                });
            }
            "a" => {
                let (name, value) = match v.split_once(':') {
                    Some((n, val)) => (n, Some(val)),
                    None => (v, None),
                };
                if let Some(d) = Direction::from_attr(name) {
                    match sd.media.last_mut() {
                        Some(m) => m.direction = Some(d),
                        None => sd.direction = Some(d),
                    }
                    continue;
                }
                let Some(m) = sd.media.last_mut() else { continue };
                match (name, value) {
                    ("rtpmap", Some(val)) => {
                        let (pt, enc) = val.split_once(' ').ok_or_else(|| SdpError("bad rtpmap".into()))?;
                        let pt: u8 = pt.trim().parse().map_err(|_| SdpError("bad rtpmap payload type".into()))?;
                        let mut parts = enc.trim().split('/');
                        let name = parts.next().unwrap_or_default().to_string();
                        let rate: u32 = parts.next().and_then(|r| r.parse().ok()).unwrap_or(8000);
                        m.rtpmap.push((pt, name, rate));
                    }
                    ("fmtp", Some(val)) => {
                        if let Some((pt, p)) = val.split_once(' ')
                            && let Ok(pt) = pt.parse() {
                                m.fmtp.push((pt, p.trim().to_string()));
                            }
                    }
                    ("ptime", Some(val)) => m.ptime = val.trim().parse().ok(),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !saw_v || !saw_o {
        return Err(SdpError("missing v= or o= line".into()));
    }
    Ok(sd)
}

impl std::fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ipv = |ip: &IpAddr| if ip.is_ipv4() { "IP4" } else { "IP6" };
        write!(f, "v=0\r\no={} {} {} IN {} {}\r\ns={}\r\n", self.origin_user, self.session_id,
            self.session_version, ipv(&self.origin_addr), self.origin_addr, self.session_name)?;
        if let Some(c) = &self.connection {
            write!(f, "c=IN {} {}\r\n", ipv(c), c)?;
        }
        write!(f, "t=0 0\r\n")?;
        if let Some(d) = self.direction {
            write!(f, "a={}\r\n", d.attr())?;
        }
        for m in &self.media {
            write!(f, "m={} {} {} {}\r\n", m.kind, m.port, m.proto, m.formats.join(" "))?;
            if let Some(c) = &m.connection {
                write!(f, "c=IN {} {}\r\n", ipv(c), c)?;
            }
            for (pt, name, rate) in &m.rtpmap {
                write!(f, "a=rtpmap:{pt} {name}/{rate}\r\n")?;
            }
            for (pt, p) in &m.fmtp {
                write!(f, "a=fmtp:{pt} {p}\r\n")?;
            }
            if let Some(p) = m.ptime {
                write!(f, "a=ptime:{p}\r\n")?;
            }
            if let Some(d) = m.direction {
                write!(f, "a={}\r\n", d.attr())?;
            }
        }
        Ok(())
    }
}

/// What we offer/accept: our RTP address and port, codec preference, DTMF payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// Address written into c= (must be reachable by the peer).
    pub addr: IpAddr,
    /// Our RTP port.
    pub port: u16,
    /// Codecs in preference order (used when we offer; when answering, the offerer's order wins).
    pub codecs: Vec<Codec>,
    /// telephone-event payload type we offer (RFC 4733), `None` to not use it.
    pub telephone_event: Option<u8>,
    /// Packetization time in ms.
    pub ptime: u32,
    /// Direction we want (SendRecv normally; SendOnly to put the peer on hold).
    pub direction: Direction,
    /// o= session id.
    pub session_id: u64,
}

/// The outcome of an offer/answer exchange, for the media engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Chosen codec.
    pub codec: Codec,
    /// Its payload type.
    pub payload_type: u8,
    /// Peer's telephone-event payload type (send DTMF with it), if both sides support it.
    pub telephone_event: Option<u8>,
    /// Where to send RTP; `None` when the peer is on hold with c=0.0.0.0 or port 0.
    pub remote_rtp: Option<SocketAddr>,
    /// Our direction after negotiation.
    pub direction: Direction,
    /// Packetization time in ms.
    pub ptime: u32,
    /// The SDP we sent (answer) or received (when we offered).
    pub local_sdp: SessionDescription,
}

impl LocalMedia {
    /// PCMU, PCMA and telephone-event 101 at 20 ms, sendrecv.
    pub fn new(addr: IpAddr, port: u16) -> LocalMedia {
        LocalMedia {
            addr,
            port,
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            telephone_event: Some(101),
            ptime: 20,
            direction: Direction::SendRecv,
            session_id: rand::random::<u32>() as u64,
        }
    }

    fn base(&self, version: u64) -> SessionDescription {
        SessionDescription {
            origin_user: "courtyard".into(),
            session_id: self.session_id,
            session_version: version,
            origin_addr: self.addr,
            session_name: "courtyard".into(),
            connection: Some(self.addr),
            direction: None,
            media: Vec::new(),
        }
    }

    /// Our offer (UAC INVITE, or a re-INVITE without SDP).
    pub fn offer(&self, version: u64) -> SessionDescription {
        let mut sd = self.base(version);
        let mut m = Media {
            kind: "audio".into(),
            port: self.port,
            proto: "RTP/AVP".into(),
            formats: self.codecs.iter().map(|c| c.payload_type().to_string()).collect(),
            connection: None,
            rtpmap: self.codecs.iter().map(|c| (c.payload_type(), c.name().to_string(), 8000)).collect(),
            fmtp: Vec::new(),
            ptime: Some(self.ptime),
            direction: Some(self.direction),
        };
        if let Some(te) = self.telephone_event {
            m.formats.push(te.to_string());
            m.rtpmap.push((te, "telephone-event".into(), 8000));
            m.fmtp.push((te, "0-16".into()));
        }
        sd.media.push(m);
        sd
    }

    /// Answers `offer` (RFC 3264 §6): first offered codec we support, telephone-event if offered,
    /// direction mirrored, other streams rejected with port 0.
    pub fn answer(&self, offer: &SessionDescription, version: u64) -> Result<Negotiated, NegotiationError> {
        let mut sd = self.base(version);
        let mut chosen: Option<(Codec, Option<u8>, Option<SocketAddr>, Direction, u32)> = None;
        let mut saw_audio = false;
        let mut bad_proto = None;
        for m in &offer.media {
            let mut ans = Media {
                kind: m.kind.clone(),
                port: 0,
                proto: m.proto.clone(),
                formats: m.formats.iter().take(1).cloned().collect(),
                connection: None,
                rtpmap: Vec::new(),
                fmtp: Vec::new(),
                ptime: None,
                direction: None,
            };
            if m.kind == "audio" && m.port != 0 && chosen.is_none() {
                saw_audio = true;
                if m.proto != "RTP/AVP" {
                    bad_proto = Some(m.proto.clone());
                } else if let Some(codec) = pick_codec(m, &self.codecs) {
                    let te = m
                        .rtpmap
                        .iter()
                        .find(|(_, n, r)| n.eq_ignore_ascii_case("telephone-event") && *r == 8000)
                        .map(|(pt, _, _)| *pt)
                        .filter(|_| self.telephone_event.is_some());
                    let dir = m.direction.or(offer.direction).unwrap_or(Direction::SendRecv);
                    let conn = m.connection.or(offer.connection);
                    let remote = conn.filter(|ip| !ip.is_unspecified()).map(|ip| SocketAddr::new(ip, m.port));
                    let dir = if remote.is_none() { Direction::Inactive.answer_to(self.direction) } else { dir.answer_to(self.direction) };
                    let ptime = m.ptime.unwrap_or(self.ptime);
                    ans.port = self.port;
                    ans.formats = vec![codec.payload_type().to_string()];
                    ans.rtpmap.push((codec.payload_type(), codec.name().into(), 8000));
                    if let Some(te) = te {
                        ans.formats.push(te.to_string());
                        ans.rtpmap.push((te, "telephone-event".into(), 8000));
                        ans.fmtp.push((te, "0-16".into()));
                    }
                    ans.ptime = Some(ptime);
                    ans.direction = Some(dir);
                    chosen = Some((codec, te, remote, dir, ptime));
                }
            }
            sd.media.push(ans);
        }
        let Some((codec, te, remote, direction, ptime)) = chosen else {
            if let Some(p) = bad_proto {
                return Err(NegotiationError::UnsupportedTransport(p));
            }
            return Err(if saw_audio { NegotiationError::NoCommonCodec } else { NegotiationError::NoAudio });
        };
        Ok(Negotiated { codec, payload_type: codec.payload_type(), telephone_event: te, remote_rtp: remote, direction, ptime, local_sdp: sd })
    }

    /// Reads the answer to our offer.
    pub fn accept_answer(&self, answer: &SessionDescription) -> Result<Negotiated, NegotiationError> {
        let m = answer
            .media
            .iter()
            .find(|m| m.kind == "audio" && m.port != 0)
            .ok_or(NegotiationError::NoAudio)?;
        let codec = pick_codec(m, &self.codecs).ok_or(NegotiationError::NoCommonCodec)?;
        let te = m
            .rtpmap
            .iter()
            .find(|(_, n, _)| n.eq_ignore_ascii_case("telephone-event"))
            .map(|(pt, _, _)| *pt);
        let conn = m.connection.or(answer.connection);
        let remote = conn.filter(|ip| !ip.is_unspecified()).map(|ip| SocketAddr::new(ip, m.port));
        let their = m.direction.or(answer.direction).unwrap_or(Direction::SendRecv);
        let (ts, tr) = their.flags();
        Ok(Negotiated {
            codec,
            payload_type: codec.payload_type(),
            telephone_event: te,
            remote_rtp: remote,
            direction: Direction::from_flags(tr, ts),
            ptime: m.ptime.unwrap_or(self.ptime),
            local_sdp: answer.clone(),
        })
    }
}

fn pick_codec(m: &Media, ours: &[Codec]) -> Option<Codec> {
    for f in &m.formats {
        let Ok(pt) = f.parse::<u8>() else { continue };
        let named = m.rtpmap.iter().find(|(p, _, _)| *p == pt).map(|(_, n, r)| (n.to_ascii_uppercase(), *r));
        let codec = match (pt, named) {
            (_, Some((n, 8000))) if n == "PCMU" => Some(Codec::Pcmu),
            (_, Some((n, 8000))) if n == "PCMA" => Some(Codec::Pcma),
            (0, None) => Some(Codec::Pcmu),
            (8, None) => Some(Codec::Pcma),
            _ => None,
        };
        if let Some(c) = codec.filter(|c| ours.contains(c)) {
            return Some(c);
        }
    }
    None
}

/// Extracts the SDP from a body of type `content_type` (plain or multipart/mixed, RFC 4475 mpart01).
pub fn sdp_from_body(content_type: Option<&str>, body: &[u8]) -> Option<Vec<u8>> {
    let ct = content_type?.trim();
    let lower = ct.to_ascii_lowercase();
    if lower.starts_with("application/sdp") {
        return Some(body.to_vec());
    }
    if lower.starts_with("multipart/") {
        let boundary = ct.split(';').find_map(|p| {
            let (n, v) = p.trim().split_once('=')?;
            n.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
        })?;
        let text = String::from_utf8_lossy(body);
        let delim = format!("--{boundary}");
        for part in text.split(delim.as_str()).skip(1) {
            let (head, content) = part.split_once("\r\n\r\n")?;
            if head.to_ascii_lowercase().contains("content-type: application/sdp") {
                return Some(content.trim_end_matches("\r\n").as_bytes().to_vec());
            }
        }
    }
    None
}

/// Renders an SDP to bytes.
pub fn to_bytes(sd: &SessionDescription) -> Vec<u8> {
    let mut s = String::new();
    let _ = write!(s, "{sd}");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 18 8 0 96\r\na=rtpmap:18 G729/8000\r\na=rtpmap:96 telephone-event/8000\r\na=ptime:30\r\na=sendonly\r\n\
m=video 5000 RTP/AVP 31\r\n";

    #[test]
    fn answers_first_common_codec_mirrors_direction_and_rejects_video() {
        let offer = parse(OFFER.as_bytes()).unwrap();
        let local = LocalMedia::new("10.0.0.1".parse().unwrap(), 30000);
        let n = local.answer(&offer, 1).unwrap();
        assert_eq!(n.codec, Codec::Pcma);
        assert_eq!(n.telephone_event, Some(96));
        assert_eq!(n.direction, Direction::RecvOnly);
        assert_eq!(n.ptime, 30);
        assert_eq!(n.remote_rtp, Some("192.0.2.5:4000".parse().unwrap()));
        let text = n.local_sdp.to_string();
        assert!(text.contains("m=audio 30000 RTP/AVP 8 96\r\n"), "{text}");
        assert!(text.contains("m=video 0 RTP/AVP 31\r\n"), "{text}");
        assert!(text.contains("a=recvonly"));
        let again = parse(text.as_bytes()).unwrap();
        assert_eq!(again.media.len(), 2);
    }

    #[test]
    fn no_common_codec_and_hold() {
        let g729 = OFFER.replace("18 8 0 96", "18");
        let local = LocalMedia::new("10.0.0.1".parse().unwrap(), 30000);
        assert_eq!(local.answer(&parse(g729.as_bytes()).unwrap(), 1).unwrap_err(), NegotiationError::NoCommonCodec);
        let hold = OFFER.replace("c=IN IP4 192.0.2.5", "c=IN IP4 0.0.0.0").replace("a=sendonly\r\n", "");
        let n = local.answer(&parse(hold.as_bytes()).unwrap(), 2).unwrap();
        assert_eq!(n.remote_rtp, None);
        assert_eq!(n.direction, Direction::Inactive);
        assert!(parse(b"v=0\r\nm=audio x RTP/AVP 0\r\n").is_err());
    }
}
