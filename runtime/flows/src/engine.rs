//! The process-wide plugin engine: one wasmtime `Engine`, its instance pool, the epoch ticker,
//! the instantiation semaphore, the component cache and the failure counters.
//!
//! Why pooling: a call center instantiates one plugin per call, thousands of times a minute; the
//! pooling allocator pre-reserves instance slots and, with copy-on-write memory images and
//! keep-resident pages, makes instantiation a few tens of microseconds. A Rust component uses
//! three core instances and a componentize-py one fourteen, so the pool holds sixteen core
//! instances per allowed concurrent call (see `CORE_INSTANCES_PER_SLOT`).
//! The semaphore in front of instantiation turns pool exhaustion into waiting (bounded by
//! `instance_wait`) instead of an instantiation error.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::cache::{CacheError, ComponentCache};
use crate::limits::PluginLimits;
use crate::stats::FailureCounters;

/// Extra pool slots beyond `max_concurrent_instances`, for canaries during an install.
const CANARY_HEADROOM: u32 = 4;

/// Core wasm instances reserved per plugin instance slot. A Rust flow instantiates 3 (its module,
/// the WASI adapter, a shim); a componentize-js flow 4; a componentize-py flow 14 (libc,
/// libpython, the runtime and bindings libraries, ... are linked as separate core modules). The
/// pool is sized for the largest so any mix of languages fills `max_concurrent_instances` calls
/// before it runs out; the reservation is only a counter (instances are allocated on demand).
const CORE_INSTANCES_PER_SLOT: u32 = 16;

/// Settings of the plugin host (one per process).
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Plugin instances alive at once (≈ concurrent calls in plugins); sizes the pool.
    pub max_concurrent_instances: u32,
    /// Ceiling of any plugin's memory cap (per-plugin caps above it are refused at install).
    pub max_memory_bytes: usize,
    /// Epoch tick period: the granularity of CPU budgets and of yielding.
    pub epoch_tick: Duration,
    /// Where compiled components are cached; `None` compiles at every install.
    pub cache_dir: Option<PathBuf>,
    /// How long a call waits for a free instance slot before its flow counts as failed.
    pub instance_wait: Duration,
    /// A freshly activated version failing this many calls in a row is rolled back (0 = never).
    pub crash_loop_threshold: u32,
    /// Limits for plugins installed without their own.
    pub default_limits: PluginLimits,
    /// Bytes of each pooled linear memory kept resident between calls (faster reuse). With the
    /// kernel's `PAGEMAP_SCAN` (Linux ≥ 6.7, used when present) only the pages a call dirtied are
    /// reset, so a large value costs nothing for pages a flow never touches. 2 MiB covers a Rust
    /// flow's stack and heap; an interpreter's larger image is reset with `madvise` beyond it.
    pub memory_keep_resident: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            max_concurrent_instances: 1000,
            max_memory_bytes: 256 << 20,
            epoch_tick: Duration::from_millis(10),
            cache_dir: None,
            instance_wait: Duration::from_secs(10),
            crash_loop_threshold: 5,
            default_limits: PluginLimits::default(),
            memory_keep_resident: 2 << 20,
        }
    }
}

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// wasmtime refused the engine configuration (e.g. the pool cannot be reserved).
    #[error("cannot create the wasm engine: {0}")]
    Engine(String),
    /// The epoch ticker thread could not be started.
    #[error("cannot start the epoch ticker thread: {0}")]
    Ticker(std::io::Error),
    /// The cache directory is unusable.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Shared handle to the plugin engine; cheap to clone.
#[derive(Clone)]
pub struct FlowHost {
    pub(crate) inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    pub(crate) config: HostConfig,
    permits: Arc<Semaphore>,
    pub(crate) cache: ComponentCache,
    pub(crate) counters: FailureCounters,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for FlowHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowHost").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl FlowHost {
    /// Create the engine, its pool and the epoch ticker thread.
    pub fn new(config: HostConfig) -> Result<Self, HostError> {
        let engine = build_engine(&config).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let cache = ComponentCache::open(&engine, config.cache_dir.as_deref())?;
        // Without the ticker runaway guests would never be stopped: refuse to start.
        let ticker = EpochTicker::start(engine.clone(), config.epoch_tick).map_err(HostError::Ticker)?;
        let permits = Arc::new(Semaphore::new(config.max_concurrent_instances as usize));
        Ok(FlowHost {
            inner: Arc::new(HostInner {
                engine,
                config,
                permits,
                cache,
                counters: FailureCounters::default(),
                _ticker: ticker,
            }),
        })
    }

    /// The host's settings.
    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }

    /// Failure counts per plugin name + version, for metrics and the console.
    pub fn failure_counts(&self) -> Vec<crate::stats::FailureCount> {
        self.inner.counters.snapshot()
    }

    /// Instance slots currently free.
    pub fn free_instance_slots(&self) -> usize {
        self.inner.permits.available_permits()
    }

    /// Wait for an instance slot (bounded by `instance_wait`).
    pub(crate) async fn acquire_slot(&self) -> Option<OwnedSemaphorePermit> {
        // Fast path without arming a timer: a slot is usually free.
        if let Ok(permit) = self.inner.permits.clone().try_acquire_owned() {
            return Some(permit);
        }
        let wait = self.inner.config.instance_wait;
        match tokio::time::timeout(wait, self.inner.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }
}

/// Bytes of each pooled fiber stack kept resident (reused as is) instead of handed back to the
/// kernel with `madvise` at every call's end. The host functions a flow calls run on this stack.
///
/// Why: at 1000 concurrent calls the workers took ~2,100 page faults a second (about 13 per
/// call), and each `madvise` of a stack or memory also interrupted the other CPUs to flush their
/// TLBs, media threads included. With this, `pagemap_scan` and 2 MiB of linear memory kept
/// resident (see [`HostConfig::memory_keep_resident`]), faults fell to ~110 a second and the
/// node's RSS at 1000 calls from ~600 to ~300 MiB (docs/benchmarks.md, session 7).
const ASYNC_STACK_KEEP_RESIDENT: usize = 256 << 10;

fn build_engine(config: &HostConfig) -> wasmtime::Result<Engine> {
    let slots = config.max_concurrent_instances.max(1) + CANARY_HEADROOM;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_SLOT))
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(4))
        .total_stacks(slots)
        .max_memory_size(config.max_memory_bytes)
        .linear_memory_keep_resident(config.memory_keep_resident)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(ASYNC_STACK_KEEP_RESIDENT)
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&cfg)
}

/// Thread that advances the engine's epoch every tick; stopped when the host is dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("courtyard-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })?;
        Ok(EpochTicker { stop, thread: Some(thread) })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
