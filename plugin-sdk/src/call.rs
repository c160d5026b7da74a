//! The live call: play prompts, collect digits, record, transfer, queue, hang up.
//!
//! Every method blocks (from the flow's point of view) until the media action is done, and
//! returns [`FlowError::Hangup`] once the caller has hung up, so a flow written with `?` simply
//! stops at the step where the caller left.
//!
//! ```no_run
//! use courtyard_plugin_sdk::prelude::*;
//! fn flow(call: &Call) -> FlowResult {
//!     call.mark("main");
//!     match call.ask(Ask::new("请按1查询账单,按0转人工", Collect::digits(1)).keys(["1", "0"]))? {
//!         Ok(key) if key == "1" => call.say(prompt!["您的欠费为", money(32050)])?,
//!         _ => {
//!             call.enqueue("default", 0)?;
//!         }
//!     }
//!     Ok(())
//! }
//! ```

use crate::bindings::inbound::courtyard::flow::call as raw;
pub use crate::bindings::inbound::courtyard::flow::call::{
    CallInfo, CollectEnd, Direction, QueueOutcome, Recording,
};
use crate::error::FlowResult;
use crate::input::{Ask, Collect, Input, Miss, Record};
use crate::prompt::Prompt;

/// Handle to the call this plugin instance serves; created by the export glue and passed to the
/// flow.
#[derive(Clone, Debug)]
pub struct Call {
    info: CallInfo,
}

impl Call {
    /// The current call (reads `call.info` from the host once).
    pub fn current() -> Self {
        Call { info: raw::info() }
    }

    /// A handle with known facts, without asking the host (for tests and adapters).
    pub fn with_info(info: CallInfo) -> Self {
        Call { info }
    }

    /// Facts known when the call started.
    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    /// Caller number ("anonymous" when withheld).
    pub fn caller(&self) -> &str {
        &self.info.caller
    }

    /// Called number.
    pub fn called(&self) -> &str {
        &self.info.called
    }

    /// Estate the called number belongs to, when routing knows it.
    pub fn estate_id(&self) -> Option<&str> {
        self.info.estate_id.as_deref()
    }

    /// Unique call id.
    pub fn call_id(&self) -> &str {
        &self.info.call_id
    }

    /// Prompt language ("zh" or "en").
    pub fn language(&self) -> &str {
        &self.info.language
    }

    /// Answer the call (say/collect/record answer implicitly).
    pub fn answer(&self) -> FlowResult {
        Ok(raw::answer()?)
    }

    /// Play a prompt to the end.
    pub fn say(&self, prompt: impl Into<Prompt>) -> FlowResult {
        let p = prompt.into();
        Ok(raw::say(p.segments(), false)?)
    }

    /// Play a prompt that a key press may interrupt (the key is kept for the next collect).
    pub fn say_interruptible(&self, prompt: impl Into<Prompt>) -> FlowResult {
        let p = prompt.into();
        Ok(raw::say(p.segments(), true)?)
    }

    /// Play a prompt, then collect digits.
    pub fn collect(&self, prompt: impl Into<Prompt>, options: Collect) -> FlowResult<Input> {
        let p = prompt.into();
        let got = raw::collect(p.segments(), &options.to_options())?;
        Ok(Input { digits: got.digits, ended_by: got.ended_by })
    }

    /// Ask with validation and retries; `Ok(Ok(answer))` for a valid answer, `Ok(Err(miss))`
    /// when all attempts failed (the flow decides: agent, goodbye, ...).
    pub fn ask(&self, ask: Ask<'_>) -> FlowResult<Result<String, Miss>> {
        let mut prefix = Prompt::new();
        let mut miss = Miss::Timeout;
        for _ in 0..ask.attempts {
            let prompt = prefix.clone().then(&ask.prompt);
            let input = self.collect(prompt, ask.collect.clone())?;
            if ask.accepts(&input.digits) {
                return Ok(Ok(input.digits));
            }
            if input.is_empty() {
                miss = Miss::Timeout;
                prefix = ask.timeout.clone();
            } else {
                miss = Miss::Invalid;
                prefix = ask.invalid.clone();
            }
        }
        Ok(Err(miss))
    }

    /// Record the caller's voice.
    pub fn record(&self, options: Record) -> FlowResult<Recording> {
        Ok(raw::record(&options.to_options())?)
    }

    /// Blind transfer to an agent or an external number allowed by the dial plan.
    pub fn transfer(&self, target: &str) -> FlowResult {
        Ok(raw::transfer(target)?)
    }

    /// Put the caller in an ACD queue and wait until the queue is done with the call.
    pub fn enqueue(&self, queue: &str, priority: u32) -> FlowResult<QueueOutcome> {
        Ok(raw::enqueue(queue, priority)?)
    }

    /// End the call.
    pub fn hangup(&self) {
        raw::hangup()
    }

    /// Set a call variable (shown in the call record and on the agent's screen-pop).
    pub fn set_var(&self, name: &str, value: &str) {
        raw::set_var(name, value)
    }

    /// A call variable set earlier by this flow or by the host.
    pub fn var(&self, name: &str) -> Option<String> {
        raw::get_var(name)
    }

    /// Mark a step of the IVR path (node and key) for reports.
    pub fn mark(&self, node: &str) {
        raw::mark(node)
    }
}
