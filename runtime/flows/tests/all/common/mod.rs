//! Shared test helpers: guest components built from `tests/guests/` and a scriptable call.

#![allow(dead_code)]

pub mod call;
pub mod guests;

use std::sync::Arc;

use courtyard_flows::{FlowHost, HostConfig, PluginLimits};

// No tracing subscriber in tests: a `tracing-subscriber` dev-dependency turns on `log/std` and
// forces a second full build of wasmtime for the test profile. Failure messages are asserted on.

/// A host sized for tests: a small pool and quick limits so hostile guests end fast.
pub fn test_host(cache_dir: Option<std::path::PathBuf>) -> FlowHost {
    let config = HostConfig {
        max_concurrent_instances: 128,
        cache_dir,
        default_limits: PluginLimits {
            cpu_ticks: 20,
            guest_wall: std::time::Duration::from_secs(2),
            ..PluginLimits::default()
        },
        ..HostConfig::default()
    };
    FlowHost::new(config).expect("host")
}


/// Convenience: `Arc<T>` as `Arc<dyn CallControl>`.
pub fn dyn_call(c: &Arc<call::TestCall>) -> Arc<dyn courtyard_flows::CallControl> {
    c.clone()
}
