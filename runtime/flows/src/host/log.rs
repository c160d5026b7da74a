//! `log`: plugin log lines go to `tracing` (with plugin and call id) and to the call's trace.

use crate::bindings::interfaces::log::{Host, Level};
use crate::host::host_fn;
use crate::state::CallState;

/// Longest plugin log line kept; a plugin must not flood the host's logs.
const MAX_LINE: usize = 4096;

impl Host for CallState {
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        host_fn!(self, {
            let mut message = message;
            if message.len() > MAX_LINE {
                let mut end = MAX_LINE;
                while !message.is_char_boundary(end) {
                    end -= 1;
                }
                message.truncate(end);
            }
            let (plugin, call_id) = (&*self.plugin, self.call_id.as_str());
            match level {
                Level::Trace => tracing::trace!(plugin, call_id, "{message}"),
                Level::Debug => tracing::debug!(plugin, call_id, "{message}"),
                Level::Info => tracing::info!(plugin, call_id, "{message}"),
                Level::Warn => tracing::warn!(plugin, call_id, "{message}"),
                Level::Error => tracing::error!(plugin, call_id, "{message}"),
            }
            self.call.log(level, &message).await
        })
    }
}
