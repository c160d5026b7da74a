//! `call`: forwarded to the call's [`crate::CallControl`]; hangups are observed so the end of the
//! flow after a caller hangup is not counted as a plugin failure.

use crate::bindings::interfaces::call::{
    CallError, CallInfo, CollectOptions, Collected, Host, QueueOutcome, RecordOptions, Recording, Segment,
};
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn info(&mut self) -> wasmtime::Result<CallInfo> {
        host_fn!(self, self.call.info())
    }

    async fn answer(&mut self) -> wasmtime::Result<Result<(), CallError>> {
        host_fn!(self, {
            let r = self.call.answer().await;
            self.observe(&r);
            r
        })
    }

    async fn say(&mut self, prompt: Vec<Segment>, barge_in: bool) -> wasmtime::Result<Result<(), CallError>> {
        host_fn!(self, {
            let r = self.call.say(&prompt, barge_in).await;
            self.observe(&r);
            r
        })
    }

    async fn collect(
        &mut self,
        prompt: Vec<Segment>,
        options: CollectOptions,
    ) -> wasmtime::Result<Result<Collected, CallError>> {
        host_fn!(self, {
            let r = self.call.collect(&prompt, &options).await;
            self.observe(&r);
            r
        })
    }

    async fn record(&mut self, options: RecordOptions) -> wasmtime::Result<Result<Recording, CallError>> {
        host_fn!(self, {
            let r = self.call.record(&options).await;
            self.observe(&r);
            r
        })
    }

    async fn transfer(&mut self, target: String) -> wasmtime::Result<Result<(), CallError>> {
        host_fn!(self, {
            let r = self.call.transfer(&target).await;
            self.observe(&r);
            r
        })
    }

    async fn enqueue(&mut self, queue: String, priority: u32) -> wasmtime::Result<Result<QueueOutcome, CallError>> {
        host_fn!(self, {
            let r = self.call.enqueue(&queue, priority).await;
            self.observe(&r);
            r
        })
    }

    async fn hangup(&mut self) -> wasmtime::Result<()> {
        host_fn!(self, self.call.hangup().await)
    }

    async fn set_var(&mut self, name: String, value: String) -> wasmtime::Result<()> {
        host_fn!(self, self.call.set_var(&name, &value).await)
    }

    async fn get_var(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        host_fn!(self, self.call.get_var(&name).await)
    }

    async fn mark(&mut self, node: String) -> wasmtime::Result<()> {
        host_fn!(self, self.call.mark(&node).await)
    }
}
