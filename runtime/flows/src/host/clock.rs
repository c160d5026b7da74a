//! `clock`: forwarded to [`crate::Clock`].

use crate::bindings::interfaces::clock::Host;
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn now(&mut self) -> wasmtime::Result<String> {
        host_fn!(self, self.services.clock.now().await)
    }

    async fn is_open(&mut self, calendar: String) -> wasmtime::Result<bool> {
        host_fn!(self, self.services.clock.is_open(&calendar).await)
    }

    async fn next_open(&mut self, calendar: String) -> wasmtime::Result<String> {
        host_fn!(self, self.services.clock.next_open(&calendar).await)
    }
}
