//! `kv`: forwarded to [`crate::Kv`], scoped by the plugin's name so plugins never share keys.

use crate::bindings::interfaces::kv::{Host, ServiceError};
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, ServiceError>> {
        host_fn!(self, self.services.kv.get(&self.plugin, &key).await)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), ServiceError>> {
        host_fn!(self, self.services.kv.set(&self.plugin, &key, value).await)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), ServiceError>> {
        host_fn!(self, self.services.kv.delete(&self.plugin, &key).await)
    }

    async fn increment(&mut self, key: String, delta: i64) -> wasmtime::Result<Result<i64, ServiceError>> {
        host_fn!(self, self.services.kv.increment(&self.plugin, &key, delta).await)
    }
}
