//! SIP URIs and name-addr values (From, To, Contact), parsed strictly enough for RFC 4475.

use crate::message::is_token_char;

/// Why a URI or name-addr was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The scheme is not sip, sips or tel (a request URI with one gets 416).
    #[error("unsupported URI scheme '{0}'")]
    UnsupportedScheme(String),
    /// Anything else malformed.
    #[error("malformed URI: {0}")]
    Malformed(&'static str),
}

/// A parsed sip:/sips:/tel: URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// Lower-cased scheme.
    pub scheme: String,
    /// User part with escapes kept as received (for tel: the number).
    pub user: Option<String>,
    /// Host (IPv6 references keep their brackets); empty for tel:.
    pub host: String,
    /// Explicit port.
    pub port: Option<u16>,
    /// URI parameters (`;name[=value]`).
    pub params: Vec<(String, Option<String>)>,
    /// Raw `?headers` part, if any.
    pub headers: Option<String>,
}

impl SipUri {
    /// Parses `sip:`, `sips:` or `tel:` URIs; other schemes give [`UriError::UnsupportedScheme`].
    pub fn parse(s: &str) -> Result<SipUri, UriError> {
        let colon = s.find(':').ok_or(UriError::Malformed("no scheme"))?;
        let scheme = s[..colon].to_ascii_lowercase();
        if scheme.is_empty()
            || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(UriError::Malformed("bad scheme"));
        }
        let rest = &s[colon + 1..];
        if rest.bytes().any(|b| b <= b' ' || b == b'<' || b == b'>' || b == b'"' || b >= 0x7f) {
            return Err(UriError::Malformed("whitespace or illegal character in URI"));
        }
        if scheme == "tel" {
            let (num, params) = split_params(rest);
            if num.is_empty() {
                return Err(UriError::Malformed("empty tel number"));
            }
            return Ok(SipUri {
                scheme,
                user: Some(num.to_string()),
                host: String::new(),
                port: None,
                params,
                headers: None,
            });
        }
        if scheme != "sip" && scheme != "sips" {
            return Err(UriError::UnsupportedScheme(scheme));
        }
        // userinfo ends at the last '@' (the user part may hold ';', '?' and escapes, RFC 4475
        // intmeth; '@' cannot appear unescaped after it); headers start at the next '?'
        let (user, after) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (hostpart, headers) = match after.find('?') {
            Some(q) => (&after[..q], Some(after[q + 1..].to_string())),
            None => (after, None),
        };
        if let Some(u) = user
            && u.is_empty() {
                return Err(UriError::Malformed("empty user part"));
            }
        let (hostport, params) = split_params(hostpart);
        let (host, port) = parse_hostport(hostport)?;
        Ok(SipUri {
            scheme,
            user: user.map(|u| u.split(':').next().unwrap_or(u).to_string()),
            host,
            port,
            params,
            headers,
        })
    }

    /// Value of URI parameter `name` (`Some(None)` for a flag parameter).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// User part with %-escapes decoded (invalid escapes kept literally).
    pub fn user_decoded(&self) -> Option<String> {
        self.user.as_deref().map(percent_decode)
    }
}

impl std::fmt::Display for SipUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if let Some(u) = &self.user {
            if self.scheme == "tel" {
                write!(f, "{u}")?;
            } else {
                write!(f, "{u}@")?;
            }
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for (n, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

/// Decodes %HH escapes; an invalid escape is kept as-is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn split_params(s: &str) -> (&str, Vec<(String, Option<String>)>) {
    let mut parts = s.split(';');
    let head = parts.next().unwrap_or_default();
    let params = parts
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (p.to_string(), None),
        })
        .collect();
    (head, params)
}

/// Parses `host[:port]` where host may be `[IPv6]`.
pub fn parse_hostport(s: &str) -> Result<(String, Option<u16>), UriError> {
    if s.is_empty() {
        return Err(UriError::Malformed("empty host"));
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']').ok_or(UriError::Malformed("unterminated IPv6 reference"))?;
        let addr = &rest[..end];
        // RFC 5118 §4.10: accept the RFC 2373-era "2001:db8:::192.0.2.1" form too
        if addr.parse::<std::net::Ipv6Addr>().is_err() && addr.replacen(":::", "::", 1).parse::<std::net::Ipv6Addr>().is_err() {
            return Err(UriError::Malformed("bad IPv6 address"));
        }
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(UriError::Malformed("junk after IPv6 reference")),
        };
        (format!("[{addr}]"), port)
    } else {
        if s.matches(':').count() > 1 {
            return Err(UriError::Malformed("IPv6 address without brackets"));
        }
        match s.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    if !host.starts_with('[')
        && (host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return Err(UriError::Malformed("bad host"));
    }
    let port = match port {
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UriError::Malformed("bad port"));
            }
            Some(p.parse::<u16>().map_err(|_| UriError::Malformed("port out of range"))?)
        }
        None => None,
    };
    Ok((host, port))
}

/// A From/To/Contact/Route value: optional display name, URI and header parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without quotes.
    pub display: Option<String>,
    /// URI text (without angle brackets).
    pub uri_text: String,
    /// Parsed URI when the scheme is sip/sips/tel; other schemes are legal in these headers.
    pub uri: Option<SipUri>,
    /// Header parameters (`;tag=...`, `;expires=...`).
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Parses `[display] <uri> *(;param)` or `addr-spec *(;param)`.
    pub fn parse(s: &str) -> Result<NameAddr, UriError> {
        let s = s.trim();
        let (display, uri_text, rest) = if let Some(lt) = find_unquoted(s, b'<')? {
            let disp = s[..lt].trim();
            let display = if disp.is_empty() {
                None
            } else if let Some(q) = disp.strip_prefix('"') {
                let inner = q.strip_suffix('"').ok_or(UriError::Malformed("junk after quoted display name"))?;
                check_quoted(inner)?;
                Some(inner.to_string())
            } else {
                // *(token LWS)
                if !disp.bytes().all(|b| is_token_char(b) || b == b' ' || b == b'\t') {
                    return Err(UriError::Malformed("display name has non-token characters"));
                }
                Some(disp.to_string())
            };
            let after = &s[lt + 1..];
            let gt = after.find('>').ok_or(UriError::Malformed("missing '>'"))?;
            let inner = &after[..gt];
            if inner.trim() != inner {
                return Err(UriError::Malformed("whitespace inside <> (RFC 4475 badaspec)"));
            }
            (display, inner.to_string(), &after[gt + 1..])
        } else {
            if s.starts_with('"') {
                return Err(UriError::Malformed("quoted display name without <uri>"));
            }
            // addr-spec: URI parameters belong to the header (RFC 3261 §20.10), and a URI
            // with headers or commas must be enclosed in <> (RFC 4475 regbadct)
            let end = s.find(';').unwrap_or(s.len());
            if s[..end].contains(['?', ',']) {
                return Err(UriError::Malformed("URI with '?' or ',' must be enclosed in <>"));
            }
            (None, s[..end].trim().to_string(), &s[end..])
        };
        if uri_text.is_empty() {
            return Err(UriError::Malformed("empty URI"));
        }
        if uri_text.contains([' ', '\t']) {
            return Err(UriError::Malformed("whitespace inside addr-spec"));
        }
        let uri = match SipUri::parse(&uri_text) {
            Ok(u) => Some(u),
            Err(UriError::UnsupportedScheme(_)) => None,
            Err(e) => return Err(e),
        };
        let rest = rest.trim();
        let mut params = Vec::new();
        if !rest.is_empty() {
            let body = rest.strip_prefix(';').ok_or(UriError::Malformed("junk after URI"))?;
            for p in body.split(';') {
                let p = p.trim();
                if p.is_empty() {
                    return Err(UriError::Malformed("empty header parameter"));
                }
                let (n, v) = match p.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
                    None => (p, None),
                };
                if n.is_empty() || !n.bytes().all(is_token_char) {
                    return Err(UriError::Malformed("bad header parameter name"));
                }
                params.push((n.to_ascii_lowercase(), v));
            }
        }
        Ok(NameAddr { display, uri_text, uri, params })
    }

    /// Value of header parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_deref())
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag")
    }

    /// Decoded user part of the URI, if any.
    pub fn user(&self) -> Option<String> {
        self.uri.as_ref().and_then(|u| u.user_decoded())
    }
}

fn find_unquoted(s: &str, needle: u8) -> Result<Option<usize>, UriError> {
    let b = s.as_bytes();
    let (mut in_q, mut esc) = (false, false);
    for (i, &c) in b.iter().enumerate() {
        if in_q {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_q = false;
            }
        } else if c == b'"' {
            in_q = true;
        } else if c == needle {
            return Ok(Some(i));
        }
    }
    if in_q {
        return Err(UriError::Malformed("unterminated quoted string"));
    }
    Ok(None)
}

fn check_quoted(inner: &str) -> Result<(), UriError> {
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if i + 1 >= b.len() {
                    return Err(UriError::Malformed("dangling escape in quoted string"));
                }
                i += 2;
            }
            b'"' => return Err(UriError::Malformed("unescaped quote in display name")),
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_uris() {
        let u = SipUri::parse("sip:4008123456@127.0.0.1:5060;transport=udp").unwrap();
        assert_eq!(u.user.as_deref(), Some("4008123456"));
        assert_eq!(u.port, Some(5060));
        assert_eq!(u.param("transport"), Some(Some("udp")));
        let v6 = SipUri::parse("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!(v6.host, "[2001:db8::10]");
        assert!(matches!(SipUri::parse("nobodyKnowsThisScheme:totallyopaquecontent"), Err(UriError::UnsupportedScheme(_))));
        assert!(SipUri::parse("sip:2001:db8::10").is_err());
        assert!(SipUri::parse("sip:user@host:99999").is_err());
    }

    #[test]
    fn parses_name_addr() {
        let n = NameAddr::parse("\"J Rosenberg \\\\\\\"\"  <sip:jdrosen@example.com>  ;  tag = 98asjd8").unwrap();
        assert_eq!(n.tag(), Some("98asjd8"));
        assert!(NameAddr::parse("\"Bob <sip:bob@b>").is_err());
        assert!(NameAddr::parse("Bell, Alexander <sip:a.g.bell@bell-tel.com>").is_err());
        let a = NameAddr::parse("sip:user@host;tag=abc").unwrap();
        assert_eq!(a.tag(), Some("abc"));
    }
}
