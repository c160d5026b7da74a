//! `notify`: forwarded to [`crate::Notify`].

use crate::bindings::interfaces::notify::{Channel, Host, ServiceError};
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn send(&mut self, channel: Channel, to: String, text: String) -> wasmtime::Result<Result<String, ServiceError>> {
        host_fn!(self, self.services.notify.send(channel, &to, &text).await)
    }
}
