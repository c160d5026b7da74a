//! Per-plugin resource limits and the store's memory limiter.
//!
//! Three independent guards keep one bad plugin from hurting other calls: a memory cap
//! (`StoreLimits`-style limiter, enforced on every `memory.grow`), a CPU budget counted in epoch
//! ticks *between host calls* (guests of IVR flows spend nearly all their time waiting on the
//! host, so a guest computing for many ticks without calling the host is looping), and a
//! wall-clock limit on one stretch of guest work plus a total limit for the whole call.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::ResourceLimiter;

/// Default memory cap of one plugin instance.
pub const DEFAULT_MEMORY_BYTES: usize = 32 << 20;

/// Limits applied to every instance of one plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginLimits {
    /// Linear memory cap per instance, bytes (default 32 MiB; at most the host's ceiling).
    pub memory_bytes: usize,
    /// Epoch ticks (~10 ms each) a guest may run without calling the host before it is killed.
    pub cpu_ticks: u32,
    /// Wall-clock limit for one stretch of guest work between host calls.
    #[serde(with = "millis")]
    pub guest_wall: Duration,
    /// Wall-clock limit for the whole call, host waits included.
    #[serde(with = "millis")]
    pub call_timeout: Duration,
    /// Host calls allowed after the caller hung up before the guest is stopped (a flow that
    /// ignores `call-error::hangup` would otherwise spin).
    pub calls_after_hangup: u32,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            memory_bytes: DEFAULT_MEMORY_BYTES,
            cpu_ticks: 50,
            guest_wall: Duration::from_secs(2),
            call_timeout: Duration::from_secs(2 * 3600),
            calls_after_hangup: 200,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// The store's resource limiter: caps memory and table growth and remembers that the cap was
/// hit, so a resulting trap is reported as "memory" rather than a generic trap.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    max_memory: usize,
    max_table_elements: usize,
    /// Set when a growth request was refused.
    pub(crate) hit: Option<usize>,
}

impl MemoryLimiter {
    pub(crate) fn new(max_memory: usize) -> Self {
        MemoryLimiter { max_memory, max_table_elements: 100_000, hit: None }
    }

    pub(crate) fn max_memory(&self) -> usize {
        self.max_memory
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.hit = Some(desired);
            // Trapping (instead of returning -1 from memory.grow) gives a clear, immediate end:
            // Rust guests abort on allocation failure anyway.
            return Err(wasmtime::Error::msg(format!(
                "memory limit exceeded: the plugin asked for {} MiB, the limit is {} MiB",
                desired >> 20,
                self.max_memory >> 20
            )));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table_elements)
    }
}
