//! HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617 qop=auth, RFC 8760 SHA-256).
//!
//! Nonces are stateless: `timestamp.hmac` where the MAC binds the timestamp to a per-process
//! secret, so a registrar needs no nonce table and answers every user name identically.

use md5::Md5;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Digest hash algorithms we offer and accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (RFC 2617), what most phones and SIPp speak.
    Md5,
    /// SHA-256 (RFC 8760).
    Sha256,
}

impl Algorithm {
    /// Token used in the `algorithm=` parameter.
    pub fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// Parses an `algorithm=` value (absent means MD5).
    pub fn from_token(t: Option<&str>) -> Option<Algorithm> {
        match t {
            None => Some(Algorithm::Md5),
            Some(t) if t.eq_ignore_ascii_case("MD5") => Some(Algorithm::Md5),
            Some(t) if t.eq_ignore_ascii_case("SHA-256") => Some(Algorithm::Sha256),
            _ => None,
        }
    }

    /// Hex digest of `data`.
    pub fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex::encode(Sha256::digest(data.as_bytes())),
        }
    }
}

/// Where the registrar (and inbound-call challenge) looks up passwords.
pub trait CredentialStore: Send + Sync {
    /// Password of `user`, `None` when the user does not exist.
    fn password(&self, user: &str) -> Option<String>;
}

/// A fixed in-memory credential table (demo accounts, tests).
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials(HashMap<String, String>);

impl StaticCredentials {
    /// Builds the table from (user, password) pairs.
    pub fn from_pairs<I, U, P>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (U, P)>,
        U: Into<String>,
        P: Into<String>,
    {
        StaticCredentials(pairs.into_iter().map(|(u, p)| (u.into(), p.into())).collect())
    }
}

impl CredentialStore for StaticCredentials {
    fn password(&self, user: &str) -> Option<String> {
        self.0.get(user).cloned()
    }
}

/// Splits `Digest k=v, k="v"` into its scheme and parameters (quotes removed, escapes resolved).
pub fn parse_params(value: &str) -> Option<(String, Vec<(String, String)>)> {
    let value = value.trim();
    let sp = value.find([' ', '\t'])?;
    let scheme = value[..sp].to_string();
    let mut params = Vec::new();
    let b = value[sp..].trim().as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',' || b[i] == b'\t') {
            i += 1;
        }
        let ns = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let name = String::from_utf8_lossy(&b[ns..i]).trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            if !name.is_empty() {
                params.push((name, String::new()));
            }
            continue;
        }
        i += 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let mut v = Vec::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                v.push(b[i]);
                i += 1;
            }
            if i >= b.len() {
                return None; // unterminated quote
            }
            i += 1;
        } else {
            while i < b.len() && b[i] != b',' {
                v.push(b[i]);
                i += 1;
            }
        }
        params.push((name, String::from_utf8_lossy(&v).trim().to_string()));
    }
    Some((scheme, params))
}

fn get<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// Computes the digest `response` value (RFC 2617 §3.2.2.1, qop=auth or none).
#[allow(clippy::too_many_arguments)]
pub fn compute_response(
    alg: Algorithm,
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str)>,
) -> String {
    let ha1 = alg.hash(&format!("{user}:{realm}:{password}"));
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    match qop {
        Some((nc, cnonce)) => alg.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        None => alg.hash(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// Issues and checks stateless nonces.
pub struct NonceSource {
    secret: [u8; 16],
    /// How long a nonce stays valid.
    pub lifetime: Duration,
}

impl NonceSource {
    /// New source with a random secret.
    pub fn new(lifetime: Duration) -> Self {
        NonceSource { secret: rand::random(), lifetime }
    }

    fn mac(&self, ts: u64) -> String {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(ts.to_be_bytes());
        hex::encode(&h.finalize()[..12])
    }

    /// A fresh nonce.
    pub fn issue(&self) -> String {
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        format!("{ts:x}.{}", self.mac(ts))
    }

    /// `Some(true)` = valid, `Some(false)` = ours but expired (stale), `None` = forged.
    pub fn check(&self, nonce: &str) -> Option<bool> {
        let (ts, mac) = nonce.split_once('.')?;
        let ts = u64::from_str_radix(ts, 16).ok()?;
        if self.mac(ts) != mac {
            return None;
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Some(now.saturating_sub(ts) <= self.lifetime.as_secs())
    }

    /// The WWW-Authenticate/Proxy-Authenticate value for `alg`.
    pub fn challenge(&self, realm: &str, alg: Algorithm, stale: bool) -> String {
        let stale = if stale { ", stale=true" } else { "" };
        format!("Digest realm=\"{realm}\", nonce=\"{}\", algorithm={}, qop=\"auth\"{stale}", self.issue(), alg.token())
    }
}

/// Result of checking an Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Credentials are right; the authenticated user name.
    Ok(String),
    /// Right password but an expired nonce: challenge again with stale=true.
    Stale,
    /// No usable credentials for our realm: challenge.
    Missing,
    /// Wrong password, unknown user, forged nonce: 403 (the same for all three).
    Failed,
}

/// Checks `authorization` (an Authorization/Proxy-Authorization value) for `method`.
/// Unknown users are verified against a dummy password so timing and answers match known users.
pub fn verify(
    authorization: Option<&str>,
    method: &str,
    realm: &str,
    allowed: &[Algorithm],
    nonces: &NonceSource,
    store: &dyn CredentialStore,
) -> Verdict {
    let Some((scheme, p)) = authorization.and_then(parse_params) else { return Verdict::Missing };
    if !scheme.eq_ignore_ascii_case("Digest") || get(&p, "realm") != Some(realm) {
        return Verdict::Missing;
    }
    let (Some(user), Some(nonce), Some(uri), Some(resp)) =
        (get(&p, "username"), get(&p, "nonce"), get(&p, "uri"), get(&p, "response"))
    else {
        return Verdict::Failed;
    };
    let Some(alg) = Algorithm::from_token(get(&p, "algorithm")).filter(|a| allowed.contains(a)) else {
        return Verdict::Missing;
    };
    let qop = match get(&p, "qop") {
        Some(q) if q.eq_ignore_ascii_case("auth") => match (get(&p, "nc"), get(&p, "cnonce")) {
            (Some(nc), Some(cn)) => Some((nc, cn)),
            _ => return Verdict::Failed,
        },
        Some(_) => return Verdict::Failed,
        None => None,
    };
    let known = store.password(user);
    let password = known.as_deref().unwrap_or("\u{0}no-such-user\u{0}");
    let expected = compute_response(alg, user, realm, password, method, uri, nonce, qop);
    let good = known.is_some() && constant_eq(expected.as_bytes(), resp.to_ascii_lowercase().as_bytes());
    match nonces.check(nonce) {
        None => Verdict::Failed,
        Some(false) if good => Verdict::Stale,
        Some(_) if good => Verdict::Ok(user.to_string()),
        Some(_) => Verdict::Failed,
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Client side: whether a WWW-/Proxy-Authenticate value says `stale=true` (our password was
/// right, only the nonce expired), the one case where answering a repeated challenge makes sense.
pub fn is_stale(challenge: &str) -> bool {
    parse_params(challenge).is_some_and(|(_, p)| get(&p, "stale").is_some_and(|v| v.eq_ignore_ascii_case("true")))
}

/// Client side: the realm of a WWW-/Proxy-Authenticate value (a proxy and the server behind it
/// challenge in realms of their own, each answered once).
pub fn challenge_realm(challenge: &str) -> Option<String> {
    parse_params(challenge).and_then(|(_, p)| get(&p, "realm").map(str::to_string))
}

/// A digest challenge we can answer: the scheme is Digest, realm and nonce are present, and the
/// algorithm is one we compute (MD5 or SHA-256).
struct DigestChallenge {
    params: Vec<(String, String)>,
    alg: Algorithm,
}

impl DigestChallenge {
    fn parse(challenge: &str) -> Option<Self> {
        let (scheme, params) = parse_params(challenge)?;
        if !scheme.eq_ignore_ascii_case("Digest") || get(&params, "realm").is_none() || get(&params, "nonce").is_none() {
            return None;
        }
        let alg = Algorithm::from_token(get(&params, "algorithm"))?;
        Some(DigestChallenge { params, alg })
    }

    fn param(&self, name: &str) -> &str {
        get(&self.params, name).unwrap_or_default()
    }
}

/// Client side: whether `challenge` (a WWW-/Proxy-Authenticate value) is a digest challenge we
/// can answer — [`authorize`] returns `Some` exactly then — without computing the answer (a 401
/// may offer several; the first answerable one is picked before any hashing).
pub fn can_answer(challenge: &str) -> bool {
    DigestChallenge::parse(challenge).is_some()
}

/// Client side: builds an Authorization value answering `challenge` (a WWW-/Proxy-Authenticate
/// value). `None` when the challenge is not a digest challenge we can answer.
pub fn authorize(challenge: &str, method: &str, uri: &str, user: &str, password: &str) -> Option<String> {
    authorize_nc(challenge, method, uri, user, password, 1)
}

/// [`authorize`] for the `nc`-th use of the challenge's nonce (qop=auth counts its uses, and a
/// server may refuse a nonce count it has seen).
pub fn authorize_nc(challenge: &str, method: &str, uri: &str, user: &str, password: &str, nc: u32) -> Option<String> {
    let c = DigestChallenge::parse(challenge)?;
    let (realm, nonce, alg) = (c.param("realm"), c.param("nonce"), c.alg);
    let qop_auth = get(&c.params, "qop").map(|q| q.split(',').any(|x| x.trim().eq_ignore_ascii_case("auth"))).unwrap_or(false);
    let cnonce = hex::encode(rand::random::<[u8; 8]>());
    let nc = format!("{nc:08x}");
    let qop = qop_auth.then_some((nc.as_str(), cnonce.as_str()));
    let resp = compute_response(alg, user, realm, password, method, uri, nonce, qop);
    let mut v = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{resp}\", algorithm={}",
        alg.token()
    );
    if let Some(op) = get(&c.params, "opaque") {
        v.push_str(&format!(", opaque=\"{op}\""));
    }
    if let Some((nc, cn)) = qop {
        v.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cn}\""));
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn can_answer_says_yes_exactly_when_authorize_would() {
        for c in [
            "Digest realm=\"r\", nonce=\"n\"",
            "Digest realm=\"r\", nonce=\"n\", algorithm=MD5, qop=\"auth\"",
            "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256",
            "digest realm=\"r\", nonce=\"n\"",
            "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
            "Digest realm=\"r\"",
            "Digest nonce=\"n\"",
            "Basic realm=\"r\"",
            "",
        ] {
            let can = can_answer(c);
            assert_eq!(can, authorize(c, "INVITE", "sip:1@h", "u", "p").is_some(), "{c}");
        }
        assert!(can_answer("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256"));
        assert!(!can_answer("Basic realm=\"r\""));
    }

    #[test]
    fn only_stale_true_marks_a_repeated_challenge_worth_answering() {
        assert!(is_stale("Digest realm=\"r\", nonce=\"n\", stale=TRUE"));
        assert!(!is_stale("Digest realm=\"r\", nonce=\"n\", stale=false"));
        assert!(!is_stale("Digest realm=\"r\", nonce=\"n\""));
    }

    #[test]
    fn rfc2617_md5_vector() {
        // RFC 2617 §3.5 example, computed with qop=auth
        let r = compute_response(
            Algorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093", Some(("00000001", "0a4f113b")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn round_trip_both_algorithms_and_identical_failures() {
        let store = StaticCredentials::from_pairs([("8001", "pw")]);
        let nonces = NonceSource::new(Duration::from_secs(60));
        let all = [Algorithm::Sha256, Algorithm::Md5];
        for alg in all {
            let ch = nonces.challenge("courtyard", alg, false);
            let good = authorize(&ch, "REGISTER", "sip:x", "8001", "pw").unwrap();
            assert_eq!(verify(Some(&good), "REGISTER", "courtyard", &all, &nonces, &store), Verdict::Ok("8001".into()));
            let bad = authorize(&ch, "REGISTER", "sip:x", "8001", "nope").unwrap();
            assert_eq!(verify(Some(&bad), "REGISTER", "courtyard", &all, &nonces, &store), Verdict::Failed);
            let unknown = authorize(&ch, "REGISTER", "sip:x", "9999", "pw").unwrap();
            assert_eq!(verify(Some(&unknown), "REGISTER", "courtyard", &all, &nonces, &store), Verdict::Failed);
        }
        let forged = "Digest username=\"8001\", realm=\"courtyard\", nonce=\"1.abc\", uri=\"sip:x\", response=\"00\"";
        assert_eq!(verify(Some(forged), "REGISTER", "courtyard", &all, &nonces, &store), Verdict::Failed);
        assert_eq!(verify(None, "REGISTER", "courtyard", &all, &nonces, &store), Verdict::Missing);
    }
}
