//! Injected time, so order numbers, due dates and purges can be tested.

use chrono::{DateTime, FixedOffset, Offset, Utc};
use std::sync::Mutex;

/// Source of "now" in the call center's time zone.
pub trait Clock: Send + Sync {
    /// Current time.
    fn now(&self) -> DateTime<FixedOffset>;
}

/// Wall clock in a fixed offset (China: +08:00, no DST).
#[derive(Debug, Clone, Copy)]
pub struct SystemClock(pub FixedOffset);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(china_offset())
    }
}

/// UTC+8, the offset used when none is configured.
pub(crate) fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Utc::now().with_timezone(&self.0)
    }
}

/// A settable clock for tests.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<FixedOffset>>);

impl FixedClock {
    /// Start at `t`.
    pub fn new(t: DateTime<FixedOffset>) -> Self {
        FixedClock(Mutex::new(t))
    }
    /// Move to `t`.
    pub fn set(&self, t: DateTime<FixedOffset>) {
        match self.0.lock() {
            Ok(mut g) => *g = t,
            Err(p) => *p.into_inner() = t,
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<FixedOffset> {
        match self.0.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}
