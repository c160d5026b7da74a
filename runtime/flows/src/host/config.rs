//! `config`: the configuration JSON the plugin version was installed with.

use crate::bindings::interfaces::config::Host;
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn get(&mut self) -> wasmtime::Result<String> {
        host_fn!(self, self.config_json.to_string())
    }
}
