//! One plugin instance for one call: store, limits, epoch budget, the export call, and the
//! classification of whatever went wrong.
//!
//! A store is created per call and dropped at its end, so a trap, runaway loop or memory hog
//! ends exactly that instance; its pool slot returns for the next call.

use std::sync::Arc;

use wasmtime::{Store, Trap, UpdateDeadline};

use crate::engine::FlowHost;
use crate::host_api::{CallControl, Services};
use crate::policy::{FailureKind, FlowFailure, PolicyAction};
use crate::state::{CallState, TickVerdict};
use crate::stats::CallEnd;
use crate::version::{FlowPre, FlowVersion};
use crate::wit::Target;

/// Which export to call.
pub(crate) enum Entry<'a> {
    CheckConfig,
    HandleCall,
    OnAnswer(&'a Target),
}

/// Result of running an export: the guest's own result (`Ok` value of `on-answer`, or the
/// error string it returned), or a failure the host observed.
pub(crate) struct Execution {
    pub(crate) result: Result<Result<Option<String>, String>, FlowFailure>,
    pub(crate) caller_gone: bool,
}

/// How a call through a plugin ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    /// `handle-call` returned normally.
    Completed,
    /// `on-answer` returned this outcome for the campaign target.
    Outbound(String),
    /// The caller hung up and the flow ended (not a plugin failure).
    CallerHungUp,
    /// The plugin failed; the failure policy did `action`.
    Failed {
        /// What went wrong.
        failure: FlowFailure,
        /// What the failure policy did with the call (the runtime acts on `FallbackFlow`).
        action: PolicyAction,
    },
}

/// Run one export in a fresh store.
pub(crate) async fn execute(host: &FlowHost, version: &FlowVersion, state: CallState, entry: Entry<'_>) -> Execution {
    let Some(_slot) = host.acquire_slot().await else {
        return Execution {
            result: Err(FlowFailure {
                kind: FailureKind::Instantiate,
                message: format!(
                    "no free plugin instance slot within {} ms (max_concurrent_instances = {})",
                    host.inner.config.instance_wait.as_millis(),
                    host.inner.config.max_concurrent_instances
                ),
            }),
            caller_gone: false,
        };
    };
    let mut store = Store::new(&host.inner.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut ctx| match ctx.data_mut().budget.tick() {
        TickVerdict::Yield => Ok(UpdateDeadline::Yield(1)),
        TickVerdict::Stop(failure) => {
            ctx.data_mut().stopped = Some(failure);
            Ok(UpdateDeadline::Interrupt)
        }
    });
    store.data_mut().budget.reset();
    let call_timeout = version.limits.call_timeout;
    let run = async {
        // `Err((instantiating, error))` when wasmtime reports a failure.
        let guest: Result<Result<Option<String>, String>, (bool, wasmtime::Error)> = match &version.pre {
            FlowPre::Inbound(pre) => match pre.instantiate_async(&mut store).await {
                Err(e) => Err((true, e)),
                Ok(flow) => match entry {
                    Entry::CheckConfig => flow.call_check_config(&mut store).await.map(|r| r.map(|()| None)),
                    Entry::HandleCall => flow.call_handle_call(&mut store).await.map(|r| r.map(|()| None)),
                    Entry::OnAnswer(_) => Ok(Err("an inbound flow cannot take an outbound call".to_string())),
                }
                .map_err(|e| (false, e)),
            },
            FlowPre::Outbound(pre) => match pre.instantiate_async(&mut store).await {
                Err(e) => Err((true, e)),
                Ok(flow) => match entry {
                    Entry::CheckConfig => flow.call_check_config(&mut store).await.map(|r| r.map(|()| None)),
                    Entry::OnAnswer(target) => flow.call_on_answer(&mut store, target).await.map(|r| r.map(Some)),
                    Entry::HandleCall => Ok(Err("an outbound flow cannot take an inbound call".to_string())),
                }
                .map_err(|e| (false, e)),
            },
        };
        guest
    };
    let timed = tokio::time::timeout(call_timeout, run).await;
    let result = match timed {
        Ok(Ok(guest)) => Ok(guest),
        Ok(Err((instantiating, err))) => Err(classify(&mut store, instantiating, &err)),
        Err(_) => Err(FlowFailure {
            kind: FailureKind::Timeout,
            message: format!("the call exceeded the total time limit of {} s", call_timeout.as_secs()),
        }),
    };
    let caller_gone = store.data().caller_gone;
    Execution { result, caller_gone }
}

/// Name what went wrong, preferring the host's own reason for stopping the guest.
fn classify(store: &mut Store<CallState>, instantiating: bool, err: &wasmtime::Error) -> FlowFailure {
    let state = store.data_mut();
    if let Some(failure) = state.stopped.take() {
        return failure;
    }
    if state.limiter.hit.is_some() {
        return FlowFailure {
            kind: FailureKind::Memory,
            message: format!(
                "memory limit exceeded: the plugin tried to grow its memory to {} MiB, the limit is {} MiB",
                state.limiter.hit.unwrap_or(0) >> 20,
                state.limiter.max_memory() >> 20
            ),
        };
    }
    let mut message = match err.downcast_ref::<Trap>() {
        Some(trap) => format!("wasm trap: {trap}"),
        // A host function's error (a trapping unused import, for one): its own words, not the
        // "error while executing at wasm backtrace" wrapper around them.
        None => err.root_cause().to_string(),
    };
    if let Some(tail) = state.stderr_tail() {
        message.push_str("; plugin stderr: ");
        message.push_str(&tail);
    }
    let kind = if instantiating { FailureKind::Instantiate } else { FailureKind::Trap };
    if instantiating {
        message = format!("instantiation failed: {message}");
    }
    FlowFailure { kind, message }
}

impl FlowVersion {
    /// Run one call on this version, apply the failure policy when the plugin fails, and count
    /// (returns the outcome and the version's consecutive failures after this call).
    pub(crate) async fn run_call(
        &self,
        host: &FlowHost,
        call: Arc<dyn CallControl>,
        services: Services,
        entry: Entry<'_>,
    ) -> (CallOutcome, u32) {
        self.counters.started();
        let state = CallState::new(
            call.clone(),
            services,
            self.plugin_name.clone(),
            self.config_json.clone(),
            &self.limits,
        );
        let exec = execute(host, self, state, entry).await;
        let failure = match exec.result {
            Ok(Ok(Some(outcome))) => return self.end(CallOutcome::Outbound(outcome), CallEnd::Completed),
            Ok(Ok(None)) => return self.end(CallOutcome::Completed, CallEnd::Completed),
            Ok(Err(_)) if exec.caller_gone => return self.end(CallOutcome::CallerHungUp, CallEnd::CallerHungUp),
            Ok(Err(message)) => FlowFailure { kind: FailureKind::Error, message: format!("the plugin returned an error: {message}") },
            Err(failure) => failure,
        };
        host.inner.counters.record(&self.plugin_name, &self.plugin_version, failure.kind);
        tracing::warn!(
            flow = %self.flow,
            plugin = %self.plugin_name,
            plugin_version = %self.plugin_version,
            version_key = %self.key,
            call_id = %call.info().call_id,
            kind = %failure.kind,
            "plugin failed: {}",
            failure.message
        );
        call.flow_failed(&failure).await;
        let action = if exec.caller_gone { PolicyAction::CallerGone } else { self.policy.apply(&*call).await };
        self.end(CallOutcome::Failed { failure, action }, CallEnd::Failed)
    }

    /// Count the end of a call; returns the outcome and the consecutive failures after it.
    fn end(&self, outcome: CallOutcome, end: CallEnd) -> (CallOutcome, u32) {
        let consecutive = self.counters.finished(end);
        (outcome, consecutive)
    }
}
