//! The canary: before a version may take calls, instantiate it in a throwaway store with its
//! configuration and call `check-config`. A plugin that cannot start, traps, or rejects its
//! configuration never becomes active.
//!
//! The canary has no live call and no real data: call functions answer `not-allowed` and
//! business services answer `unavailable`, so a canary can never touch a caller or the store.

use std::sync::Arc;

use async_trait::async_trait;

use crate::engine::FlowHost;
use crate::host_api::{CallControl, Services};
use crate::instance::{Entry, execute};
use crate::state::CallState;
use crate::version::FlowVersion;
use crate::wit::{
    CallError, CallInfo, CollectOptions, Collected, Direction, QueueOutcome, RecordOptions, Recording, Segment,
};

/// A call that is not there: every media action is refused.
struct CanaryCall;

fn refused<T>() -> Result<T, CallError> {
    Err(CallError::NotAllowed("no live call during the canary (check-config)".to_string()))
}

#[async_trait]
impl CallControl for CanaryCall {
    fn info(&self) -> CallInfo {
        CallInfo {
            call_id: "canary".to_string(),
            caller: "anonymous".to_string(),
            called: String::new(),
            direction: Direction::Inbound,
            estate_id: None,
            language: "zh".to_string(),
        }
    }
    async fn answer(&self) -> Result<(), CallError> {
        refused()
    }
    async fn say(&self, _: &[Segment], _: bool) -> Result<(), CallError> {
        refused()
    }
    async fn collect(&self, _: &[Segment], _: &CollectOptions) -> Result<Collected, CallError> {
        refused()
    }
    async fn record(&self, _: &RecordOptions) -> Result<Recording, CallError> {
        refused()
    }
    async fn transfer(&self, _: &str) -> Result<(), CallError> {
        refused()
    }
    async fn enqueue(&self, _: &str, _: u32) -> Result<QueueOutcome, CallError> {
        refused()
    }
    async fn hangup(&self) {}
    async fn set_var(&self, _: &str, _: &str) {}
    async fn get_var(&self, _: &str) -> Option<String> {
        None
    }
    async fn mark(&self, _: &str) {}
}

/// Run `check-config` in a throwaway instance; the error says why the version is refused.
pub(crate) async fn run(host: &FlowHost, version: &FlowVersion) -> Result<(), String> {
    let state = CallState::new(
        Arc::new(CanaryCall),
        Services::unavailable(),
        version.plugin_name.clone(),
        version.config_json.clone(),
        &version.limits,
    );
    let exec = execute(host, version, state, Entry::CheckConfig).await;
    match exec.result {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(reason)) => Err(format!("check-config rejected the configuration: {reason}")),
        Err(failure) => Err(format!("the plugin failed during check-config: {failure}")),
    }
}
