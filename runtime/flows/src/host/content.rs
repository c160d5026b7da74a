//! `content`: forwarded to [`crate::Content`].

use crate::bindings::interfaces::content::Host;
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn announcements(&mut self, estate_id: Option<String>) -> wasmtime::Result<Vec<String>> {
        host_fn!(self, self.services.content.announcements(estate_id.as_deref()).await)
    }

    async fn kb_answer(&mut self, topic: String) -> wasmtime::Result<Option<String>> {
        host_fn!(self, self.services.content.kb_answer(&topic).await)
    }
}
