//! Who may call in: allow-listed trunk networks, digest-authenticated users, and a caller
//! blacklist. The runtime can replace the default with its own [`CallerPolicy`].

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// An IP network in CIDR notation (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let p = self.prefix.min(32) as u32;
                let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let p = self.prefix.min(128) as u32;
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            _ => false,
        }
    }

    /// 127.0.0.0/8 and ::1.
    pub fn loopback() -> Vec<IpNet> {
        vec![IpNet { addr: IpAddr::from([127, 0, 0, 0]), prefix: 8 }, IpNet { addr: "::1".parse().unwrap_or(IpAddr::from([0u8; 16])), prefix: 128 }]
    }
}

/// Error for a bad CIDR string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an IP network (expected e.g. 10.0.0.0/8)")]
pub struct IpNetError(pub String);

impl FromStr for IpNet {
    type Err = IpNetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || IpNetError(s.to_string());
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().map_err(|_| err())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(err)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

/// What to do with a new inbound INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerVerdict {
    /// Hand it to the runtime.
    Allow,
    /// Require digest credentials from the registrar's store (407).
    Challenge,
    /// Answer with this final status.
    Reject(u16, String),
    /// Ignore silently.
    Drop,
}

/// Decides per inbound INVITE before the runtime sees it.
pub trait CallerPolicy: Send + Sync {
    /// `from_user` is the From URI user (the caller's number).
    fn classify(&self, source: SocketAddr, from_user: &str) -> CallerVerdict;
}

/// Default policy: blacklisted numbers rejected, trusted networks allowed, others challenged.
#[derive(Debug, Clone)]
pub struct AllowList {
    /// Trunk/PBX networks whose INVITEs need no authentication.
    pub trusted: Vec<IpNet>,
    /// Caller numbers to refuse.
    pub blacklist: Vec<String>,
    /// Status and reason for blacklisted callers.
    pub blacklist_response: (u16, String),
}

impl Default for AllowList {
    fn default() -> Self {
        AllowList { trusted: IpNet::loopback(), blacklist: Vec::new(), blacklist_response: (603, "Decline".into()) }
    }
}

impl CallerPolicy for AllowList {
    fn classify(&self, source: SocketAddr, from_user: &str) -> CallerVerdict {
        if self.blacklist.iter().any(|b| b == from_user) {
            return CallerVerdict::Reject(self.blacklist_response.0, self.blacklist_response.1.clone());
        }
        if self.trusted.iter().any(|n| n.contains(source.ip())) {
            CallerVerdict::Allow
        } else {
            CallerVerdict::Challenge
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_allowlist() {
        let n: IpNet = "10.1.0.0/16".parse().unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        let p = AllowList { blacklist: vec!["13800000000".into()], ..AllowList::default() };
        assert_eq!(p.classify("127.0.0.1:5060".parse().unwrap(), "8001"), CallerVerdict::Allow);
        assert_eq!(p.classify("192.0.2.1:5060".parse().unwrap(), "8001"), CallerVerdict::Challenge);
        assert!(matches!(p.classify("127.0.0.1:5060".parse().unwrap(), "13800000000"), CallerVerdict::Reject(603, _)));
    }
}
