//! Via header values: sent-protocol, sent-by and parameters, plus the RFC 3581 rport handling.

use crate::uri::parse_hostport;
use std::net::SocketAddr;

/// The RFC 3261 magic cookie that marks a globally unique branch.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// One parsed Via entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Protocol name and version, e.g. `SIP/2.0`.
    pub protocol: String,
    /// Transport token as received, upper-cased (UDP, TCP, TLS, SCTP or unknown ones).
    pub transport: String,
    /// sent-by host (IPv6 with brackets).
    pub host: String,
    /// sent-by port.
    pub port: Option<u16>,
    /// Parameters in order (names lower-cased).
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Parses `SIP / 2.0 / UDP host:port ;params` (LWS around '/' allowed, RFC 4475 wsinv).
    pub fn parse(s: &str) -> Option<Via> {
        Self::parse_with(s, false)
    }

    /// Like [`Via::parse`] but skips empty parameters (`;;`): only used to address a 400 to
    /// the sender of a malformed request (RFC 4475 badinv01).
    pub fn parse_lenient(s: &str) -> Option<Via> {
        Self::parse_with(s, true)
    }

    fn parse_with(s: &str, lenient: bool) -> Option<Via> {
        let mut rest = s.trim();
        let mut proto = Vec::new();
        for i in 0..3 {
            rest = rest.trim_start();
            let end = if i < 2 {
                rest.find('/')?
            } else {
                rest.find([' ', '\t'])?
            };
            let tok = rest[..end].trim();
            if tok.is_empty() || !tok.bytes().all(crate::message::is_token_char) {
                return None;
            }
            proto.push(tok.to_string());
            rest = &rest[if i < 2 { end + 1 } else { end }..];
        }
        let rest = rest.trim_start();
        let (sent_by, params_s) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest.trim(), ""),
        };
        let sent_by: String = sent_by.split_whitespace().collect::<Vec<_>>().join("");
        let (host, port) = parse_hostport(&sent_by).ok()?;
        let mut params = Vec::new();
        for p in params_s.split(';').skip(1) {
            let p = p.trim();
            if p.is_empty() {
                if lenient {
                    continue;
                }
                return None;
            }
            match p.split_once('=') {
                Some((n, v)) => params.push((n.trim().to_ascii_lowercase(), Some(v.trim().to_string()))),
                None => params.push((p.to_ascii_lowercase(), None)),
            }
        }
        if !proto[0].eq_ignore_ascii_case("SIP") {
            return None;
        }
        Some(Via {
            protocol: format!("{}/{}", proto[0], proto[1]),
            transport: proto[2].to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    /// Value of parameter `name` (`Some(None)` for a flag such as an empty `rport`).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_deref())
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// `host[:port]` as written.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// Adds `received` (when the source IP differs from sent-by) and fills an empty `rport`
    /// with the source port (RFC 3581 §4), so responses find their way back through NAT.
    pub fn stamp_source(&mut self, source: SocketAddr) {
        let ip = source.ip().to_string();
        let host_plain = self.host.trim_start_matches('[').trim_end_matches(']');
        let host_is_source = host_plain.parse::<std::net::IpAddr>().ok() == Some(source.ip());
        let wants_rport = self.params.iter().any(|(n, _)| n == "rport");
        if !host_is_source || wants_rport {
            self.params.retain(|(n, _)| n != "received");
            self.params.push(("received".into(), Some(ip)));
        }
        if let Some(entry) = self.params.iter_mut().find(|(n, _)| n == "rport") {
            entry.1 = Some(source.port().to_string());
        }
    }
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} {}", self.protocol, self.transport, self.sent_by())?;
        for (n, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tortuous_via_and_stamps_rport() {
        let mut v = Via::parse("SIP  /   2.0 /UDP    192.0.2.2;rport;branch=390skdjuw").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.branch(), Some("390skdjuw"));
        v.stamp_source("203.0.113.9:40000".parse().unwrap());
        assert_eq!(v.param("received"), Some(Some("203.0.113.9")));
        assert_eq!(v.param("rport"), Some(Some("40000")));
        assert_eq!(v.to_string(), "SIP/2.0/UDP 192.0.2.2;rport=40000;branch=390skdjuw;received=203.0.113.9");
        assert!(Via::parse("SIP/2.0/UDP").is_none());
    }
}
