//! Shared texts and the hand-off to a human: queueing, queue outcomes, graceful degradation.
//!
//! Every flow ends in one of three ways: the caller was served (goodbye), the caller is handed to
//! an agent ([`Ctx::to_agent`]), or a business service failed and the caller is apologised to and
//! handed to an agent ([`Ctx::degrade`]). A queue that times out (no agent) or a caller asking
//! for a callback ends with a callback task, so nobody is left without an answer.

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// Texts and settings shared by all flows (config section `common`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Common {
    /// Queue for "0 = agent" and for degraded calls.
    pub agent_queue: String,
    /// Priority given to calls enqueued by flows.
    pub agent_priority: u32,
    /// Said before enqueueing to an agent.
    pub transfer_text: String,
    /// Said when a business service failed, before the agent queue.
    pub service_error_text: String,
    /// Prefix of the re-prompt after invalid input.
    pub invalid_text: String,
    /// Prefix of the re-prompt after silence.
    pub no_input_text: String,
    /// Tries per question before giving up.
    pub attempts: u32,
    /// Wait for the first key, ms.
    pub first_digit_timeout_ms: u32,
    /// Whether a key press interrupts menu prompts.
    pub barge_in: bool,
    /// Said before the flow hangs up.
    pub goodbye_text: String,
    /// Said when the queue timed out and a callback task was created.
    pub queue_busy_text: String,
    /// Said when the caller asked for a callback in the queue.
    pub callback_text: String,
    /// Said when even the callback task could not be created.
    pub callback_failed_text: String,
    /// Prefix of every SMS.
    pub sms_signature: String,
}

impl Default for Common {
    fn default() -> Self {
        Common {
            agent_queue: "default".into(),
            agent_priority: 0,
            transfer_text: "正在为您转接人工客服,请稍候".into(),
            service_error_text: "抱歉,系统暂时无法处理您的请求,正在为您转接人工客服".into(),
            invalid_text: "您的输入有误,".into(),
            no_input_text: "抱歉,没有听到您的按键,".into(),
            attempts: 3,
            first_digit_timeout_ms: 5000,
            barge_in: true,
            goodbye_text: "感谢您的来电,再见".into(),
            queue_busy_text: "当前坐席繁忙,我们已为您登记回电,请保持电话畅通,再见".into(),
            callback_text: "已为您登记回电,请保持电话畅通,再见".into(),
            callback_failed_text: "抱歉,当前坐席繁忙,请稍后再拨,再见".into(),
            sms_signature: "【幸福物业】".into(),
        }
    }
}

impl Ctx<'_> {
    /// Say `text` (when not empty), then queue the caller at `queue` and handle the outcome.
    pub fn to_agent_at(&self, text: &str, queue: &str, priority: u32) -> FlowResult {
        if !text.is_empty() {
            self.call.say(text)?;
        }
        self.enqueue(queue, priority)
    }

    /// The default hand-off: the transfer text, then the common agent queue.
    pub fn to_agent(&self) -> FlowResult {
        let c = &self.s.common;
        self.to_agent_at(&c.transfer_text, &c.agent_queue, c.agent_priority)
    }

    /// A business service failed: log it, apologise and hand over to `queue` (the common agent
    /// queue when `None`). Never leaves the caller in silence.
    pub fn degrade(&self, what: &str, err: &ServiceError, queue: Option<&str>) -> FlowResult {
        log::warn(&format!("{what} failed: {}; handing the caller to an agent", service_error_text(err)));
        self.call.set_var("degraded", what);
        let c = &self.s.common;
        self.to_agent_at(&c.service_error_text, queue.unwrap_or(&c.agent_queue), c.agent_priority)
    }

    /// Queue the caller and deal with the outcome: answered or abandoned ends the call; a queue
    /// timeout or a callback request becomes a callback task.
    pub fn enqueue(&self, queue: &str, priority: u32) -> FlowResult {
        self.call.set_var("queue", queue);
        match self.call.enqueue(queue, priority)? {
            QueueOutcome::Answered(agent) => {
                self.call.set_var("agent", &agent);
                Ok(())
            }
            QueueOutcome::Abandoned => Ok(()),
            QueueOutcome::Timeout => self.callback(&format!("排队超时({queue})"), &self.s.common.queue_busy_text),
            QueueOutcome::CallbackRequested => {
                self.callback(&format!("来电请求回电({queue})"), &self.s.common.callback_text)
            }
        }
    }

    /// Create a callback task for the caller due now, tell them, and hang up.
    fn callback(&self, reason: &str, text: &str) -> FlowResult {
        let c = &self.s.common;
        let said = match work_orders::create_callback(self.customer(), reason, None, &clock::now()) {
            Ok(task) => {
                self.call.set_var("callback_task", &task);
                text
            }
            Err(e) => {
                log::warn(&format!("callback task failed: {}", service_error_text(&e)));
                &c.callback_failed_text
            }
        };
        self.call.say(said)?;
        self.call.hangup();
        Ok(())
    }

    /// Say goodbye and hang up.
    pub fn goodbye(&self) -> FlowResult {
        let text = &self.s.common.goodbye_text;
        if !text.is_empty() {
            self.call.say(text.as_str())?;
        }
        self.call.hangup();
        Ok(())
    }

    /// A one-key question with the common retry texts; `Err(miss)` after all attempts.
    pub fn ask_key(&self, prompt: impl Into<Prompt>, keys: &[&str]) -> FlowResult<Result<String, Miss>> {
        let c = &self.s.common;
        let ask = Ask::new(prompt, self.one_key())
            .keys(keys.iter().copied())
            .attempts(c.attempts)
            .on_invalid(c.invalid_text.as_str())
            .on_timeout(c.no_input_text.as_str());
        self.call.ask(ask)
    }

    /// Collect options for a single menu key.
    pub fn one_key(&self) -> Collect {
        let c = &self.s.common;
        Collect::digits(1).timeout_ms(c.first_digit_timeout_ms).barge_in_if(c.barge_in)
    }

    /// Prefix an SMS with the operator's signature.
    pub fn sms_text(&self, body: &str) -> String {
        format!("{}{}", self.s.common.sms_signature, body)
    }
}

/// Fen as a yuan string for SMS texts ("320.50").
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Fill `{name}` placeholders of a plain (SMS) text.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_formats_fen() {
        assert_eq!(yuan(32050), "320.50");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-120), "-1.20");
    }

    #[test]
    fn fill_replaces_placeholders() {
        assert_eq!(fill("单号{id},金额{amt}元", &[("id", "42"), ("amt", "1.00")]), "单号42,金额1.00元");
    }
}
