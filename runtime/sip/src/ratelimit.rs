//! Pike-style flood protection: per-source request counting with temporary bans, and bans
//! after repeated authentication failures (what stops svcrack/svwar). Banned sources are
//! dropped silently; bans expire by themselves.

use crate::policy::IpNet;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Limits; the defaults follow Kamailio's pike example: 16 requests per 2 s → 300 s ban.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// Turn the limiter off entirely.
    pub enabled: bool,
    /// Requests allowed per window from one IP.
    pub max_requests: u32,
    /// Counting window.
    pub window: Duration,
    /// How long a flooding source is banned.
    pub ban: Duration,
    /// Authentication failures allowed per `auth_window` before a ban.
    pub max_auth_failures: u32,
    /// Window for counting authentication failures.
    pub auth_window: Duration,
    /// Sources never limited. Defaults to loopback; add your trunks' networks here, or a busy
    /// trunk (hundreds of INVITEs per second from one IP) would be banned like a flood.
    pub exempt: Vec<IpNet>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            max_requests: 16,
            window: Duration::from_secs(2),
            ban: Duration::from_secs(300),
            max_auth_failures: 5,
            auth_window: Duration::from_secs(60),
            exempt: IpNet::loopback(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: Instant,
    count: u32,
    fail_start: Instant,
    fails: u32,
    banned_until: Option<Instant>,
}

/// The limiter state.
pub struct RateLimiter {
    cfg: RateLimitConfig,
    table: Mutex<HashMap<IpAddr, Entry>>,
}

/// Outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Process it.
    Allow,
    /// Drop it: the source is (now) banned.
    Banned,
}

impl RateLimiter {
    /// New limiter.
    pub fn new(cfg: RateLimitConfig) -> Self {
        RateLimiter { cfg, table: Mutex::new(HashMap::new()) }
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        !self.cfg.enabled || self.cfg.exempt.iter().any(|n| n.contains(ip))
    }

    fn entry(table: &mut HashMap<IpAddr, Entry>, ip: IpAddr, now: Instant) -> &mut Entry {
        if table.len() > 100_000 {
            table.retain(|_, e| e.banned_until.is_some_and(|b| b > now));
        }
        table.entry(ip).or_insert(Entry { window_start: now, count: 0, fail_start: now, fails: 0, banned_until: None })
    }

    /// Counts a new (out-of-dialog) request from `ip` at `now`.
    pub fn admit(&self, ip: IpAddr, now: Instant) -> Admission {
        if self.exempt(ip) {
            return Admission::Allow;
        }
        let mut t = self.table.lock();
        let e = Self::entry(&mut t, ip, now);
        if let Some(until) = e.banned_until {
            if now < until {
                return Admission::Banned;
            }
            e.banned_until = None;
            e.count = 0;
            e.fails = 0;
            e.window_start = now;
        }
        if now.duration_since(e.window_start) >= self.cfg.window {
            e.window_start = now;
            e.count = 0;
        }
        e.count += 1;
        if e.count > self.cfg.max_requests {
            e.banned_until = Some(now + self.cfg.ban);
            tracing::warn!(%ip, ban_s = self.cfg.ban.as_secs(), "flood: source banned");
            return Admission::Banned;
        }
        Admission::Allow
    }

    /// Records a failed authentication; bans the source after too many.
    pub fn auth_failed(&self, ip: IpAddr, now: Instant) {
        if self.exempt(ip) {
            return;
        }
        let mut t = self.table.lock();
        let e = Self::entry(&mut t, ip, now);
        if now.duration_since(e.fail_start) >= self.cfg.auth_window {
            e.fail_start = now;
            e.fails = 0;
        }
        e.fails += 1;
        if e.fails >= self.cfg.max_auth_failures {
            e.banned_until = Some(now + self.cfg.ban);
            tracing::warn!(%ip, "repeated authentication failures: source banned");
        }
    }

    /// Whether `ip` is banned at `now`.
    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.table.lock().get(&ip).and_then(|e| e.banned_until).is_some_and(|u| now < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floods_are_banned_and_bans_expire() {
        let rl = RateLimiter::new(RateLimitConfig::default());
        assert_eq!(rl.admit("127.0.0.1".parse().unwrap(), Instant::now()), Admission::Allow);
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..16 {
            assert_eq!(rl.admit(ip, t0 + Duration::from_millis(i * 10)), Admission::Allow);
        }
        assert_eq!(rl.admit(ip, t0 + Duration::from_millis(200)), Admission::Banned);
        assert_eq!(rl.admit(ip, t0 + Duration::from_secs(299)), Admission::Banned);
        assert_eq!(rl.admit(ip, t0 + Duration::from_secs(301)), Admission::Allow);
        // a different source is unaffected
        assert_eq!(rl.admit("198.51.100.8".parse().unwrap(), t0), Admission::Allow);
    }

    #[test]
    fn steady_rate_below_limit_is_never_banned() {
        let rl = RateLimiter::new(RateLimitConfig::default());
        let ip: IpAddr = "198.51.100.9".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..100 {
            assert_eq!(rl.admit(ip, t0 + Duration::from_millis(i * 200)), Admission::Allow);
        }
    }

    #[test]
    fn auth_failures_ban_and_exempt_sources_pass() {
        let rl = RateLimiter::new(RateLimitConfig::default());
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..5 {
            rl.auth_failed(ip, t0);
        }
        assert!(rl.is_banned(ip, t0));
        assert_eq!(rl.admit(ip, t0), Admission::Banned);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..1000 {
            assert_eq!(rl.admit(lo, t0), Admission::Allow);
        }
    }
}
