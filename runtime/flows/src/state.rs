//! The per-call store data: everything a plugin instance can reach, and its budget.
//!
//! One `CallState` lives in one `Store` for one call. It owns an empty WASI context (no
//! preopens, no environment, no network, no stdio) because Rust `wasm32-wasip2` guests always
//! import some WASI interfaces, and it carries the CPU/wall-clock budget that the epoch callback
//! checks on every tick.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::host_api::{CallControl, Services};
use crate::limits::{MemoryLimiter, PluginLimits};
use crate::policy::{FailureKind, FlowFailure};
use crate::wit::CallError;

/// Bytes of guest stderr kept (panic messages are short).
const STDERR_CAPACITY: usize = 8 * 1024;

/// Store data of one plugin instance.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The guest's stderr (panic messages), kept small, quoted in failure messages.
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) call: Arc<dyn CallControl>,
    pub(crate) services: Services,
    /// Plugin name: the isolation boundary for `kv` and the log label.
    pub(crate) plugin: Arc<str>,
    /// Configuration JSON given at install.
    pub(crate) config_json: Arc<str>,
    /// Call id for log lines.
    pub(crate) call_id: String,
    pub(crate) budget: GuestBudget,
    /// The caller hung up (a call function returned `call-error::hangup`).
    pub(crate) caller_gone: bool,
    host_calls_after_hangup: u32,
    max_calls_after_hangup: u32,
    /// Why the host stopped the guest, when it did (reported instead of the raw trap).
    pub(crate) stopped: Option<FlowFailure>,
}

/// CPU and wall-clock budget for one stretch of guest work (reset on every host call).
#[derive(Debug)]
pub(crate) struct GuestBudget {
    ticks: u32,
    max_ticks: u32,
    since: Instant,
    max_wall: Duration,
}

/// What the epoch callback should do on a tick.
pub(crate) enum TickVerdict {
    /// Yield to the executor and keep running.
    Yield,
    /// Stop the guest; the failure explains why.
    Stop(FlowFailure),
}

impl GuestBudget {
    fn new(limits: &PluginLimits) -> Self {
        GuestBudget { ticks: 0, max_ticks: limits.cpu_ticks.max(1), since: Instant::now(), max_wall: limits.guest_wall }
    }

    /// Start a new stretch of guest work.
    pub(crate) fn reset(&mut self) {
        self.ticks = 0;
        self.since = Instant::now();
    }

    /// Account one epoch tick seen while the guest was running.
    pub(crate) fn tick(&mut self) -> TickVerdict {
        self.ticks += 1;
        if self.ticks > self.max_ticks {
            return TickVerdict::Stop(FlowFailure {
                kind: FailureKind::Timeout,
                message: format!(
                    "CPU budget exceeded: the plugin ran for {} epoch ticks without calling the host (limit {})",
                    self.ticks - 1,
                    self.max_ticks
                ),
            });
        }
        let ran = self.since.elapsed();
        if ran > self.max_wall {
            return TickVerdict::Stop(FlowFailure {
                kind: FailureKind::Timeout,
                message: format!(
                    "guest wall-clock limit exceeded: {} ms of guest work without a host call (limit {} ms)",
                    ran.as_millis(),
                    self.max_wall.as_millis()
                ),
            });
        }
        TickVerdict::Yield
    }
}

impl CallState {
    /// A fresh state for one call.
    pub(crate) fn new(
        call: Arc<dyn CallControl>,
        services: Services,
        plugin: Arc<str>,
        config_json: Arc<str>,
        limits: &PluginLimits,
    ) -> Self {
        let call_id = call.info().call_id;
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        CallState {
            // Nothing granted: no args, env, preopens, sockets, stdin or stdout. Only stderr, into
            // a small buffer, so a panic message can explain a trap.
            wasi: WasiCtx::builder().stderr(stderr.clone()).build(),
            stderr,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(limits.memory_bytes),
            call,
            services,
            plugin,
            config_json,
            call_id,
            budget: GuestBudget::new(limits),
            caller_gone: false,
            host_calls_after_hangup: 0,
            max_calls_after_hangup: limits.calls_after_hangup,
            stopped: None,
        }
    }

    /// Called at the start of every host function: refuses a guest that keeps calling after the
    /// caller hung up.
    pub(crate) fn enter_host(&mut self) -> wasmtime::Result<()> {
        if self.caller_gone {
            self.host_calls_after_hangup += 1;
            if self.host_calls_after_hangup > self.max_calls_after_hangup {
                let failure = FlowFailure {
                    kind: FailureKind::Timeout,
                    message: format!(
                        "the plugin made {} host calls after the caller hung up; stopped",
                        self.host_calls_after_hangup
                    ),
                };
                let err = wasmtime::Error::msg(failure.message.clone());
                self.stopped = Some(failure);
                return Err(err);
            }
        }
        Ok(())
    }

    /// Called when a host function returns to the guest: a new stretch of guest work begins.
    pub(crate) fn leave_host(&mut self) {
        self.budget.reset();
    }

    /// Remember a hangup seen in a call-control result.
    pub(crate) fn observe<T>(&mut self, result: &Result<T, CallError>) {
        if matches!(result, Err(CallError::Hangup)) {
            self.caller_gone = true;
        }
    }
}

impl CallState {
    /// The last lines the guest wrote to stderr (its panic message, typically), trimmed.
    pub(crate) fn stderr_tail(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let lines: Vec<&str> = text.lines().rev().take(4).collect();
        Some(lines.into_iter().rev().collect::<Vec<_>>().join(" | "))
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
