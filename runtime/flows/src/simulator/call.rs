//! The simulated caller: a [`CallControl`] driven by the script's steps.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::host_api::CallControl;
use crate::policy::FlowFailure;
use crate::simulator::matcher::{KeyInput, Kind, Matcher};
use crate::simulator::render::render;
use crate::simulator::script::{QueueKind, Step};
use crate::wit::{
    CallError, CallInfo, CollectEnd, CollectOptions, Collected, Level, QueueOutcome, RecordOptions, Recording,
    Segment,
};

/// Agent id reported for an answered queue call.
const SIM_AGENT: &str = "8001";

/// One scripted call.
pub(crate) struct SimCall {
    info: CallInfo,
    pub(crate) matcher: Arc<Mutex<Matcher>>,
    vars: Mutex<HashMap<String, String>>,
    recordings: Mutex<u32>,
}

impl SimCall {
    pub(crate) fn new(info: CallInfo, matcher: Arc<Mutex<Matcher>>) -> Self {
        SimCall { info, matcher, vars: Mutex::new(HashMap::new()), recordings: Mutex::new(0) }
    }

    fn text(&self, prompt: &[Segment]) -> String {
        render(&self.info.language, prompt)
    }
}

/// Apply pressed keys to collect options: terminator ends early, `max_digits` caps.
fn collected(keys: &str, opts: &CollectOptions) -> Collected {
    let term = opts.terminator.as_deref().and_then(|t| t.chars().next());
    let mut digits = String::new();
    for c in keys.chars() {
        if Some(c) == term {
            return Collected { digits, ended_by: CollectEnd::Terminator };
        }
        digits.push(c);
        if opts.max_digits > 0 && digits.chars().count() as u32 >= opts.max_digits {
            return Collected { digits, ended_by: CollectEnd::MaxDigits };
        }
    }
    Collected { digits, ended_by: CollectEnd::Timeout }
}

#[async_trait]
impl CallControl for SimCall {
    fn info(&self) -> CallInfo {
        self.info.clone()
    }

    async fn answer(&self) -> Result<(), CallError> {
        let mut m = self.matcher.lock();
        m.note("answer");
        if m.caller_present() { Ok(()) } else { Err(CallError::Hangup) }
    }

    async fn say(&self, prompt: &[Segment], barge_in: bool) -> Result<(), CallError> {
        let text = self.text(prompt);
        let mut m = self.matcher.lock();
        m.note(format!("say{}: {text}", if barge_in { " (barge-in)" } else { "" }));
        if m.prompt(&text) { Ok(()) } else { Err(CallError::Hangup) }
    }

    async fn collect(&self, prompt: &[Segment], options: &CollectOptions) -> Result<Collected, CallError> {
        let text = self.text(prompt);
        let mut m = self.matcher.lock();
        m.note(format!("collect[{}..{} digits]: {text}", options.min_digits, options.max_digits));
        if !m.prompt(&text) {
            return Err(CallError::Hangup);
        }
        let result = match m.next_keys() {
            Some(KeyInput::Press(keys)) => collected(&keys, options),
            Some(KeyInput::Silence) => Collected { digits: String::new(), ended_by: CollectEnd::Timeout },
            None => {
                if !m.caller_present() {
                    return Err(CallError::Hangup);
                }
                Collected { digits: String::new(), ended_by: CollectEnd::Timeout }
            }
        };
        let how = match result.ended_by {
            CollectEnd::MaxDigits => "max-digits",
            CollectEnd::Terminator => "terminator",
            CollectEnd::Timeout => "timeout",
        };
        m.note(format!("  caller pressed \"{}\" ({how})", result.digits));
        Ok(result)
    }

    async fn record(&self, options: &RecordOptions) -> Result<Recording, CallError> {
        let mut m = self.matcher.lock();
        m.note(format!("record (max {} s{})", options.max_seconds, if options.beep { ", beep" } else { "" }));
        let spoken = match m.next_speech() {
            Some(ms) => ms,
            None if !m.caller_present() => return Err(CallError::Hangup),
            None => 0,
        };
        let mut n = self.recordings.lock();
        *n += 1;
        let cap = options.max_seconds.saturating_mul(1000);
        let duration_ms = if cap > 0 { spoken.min(cap) } else { spoken };
        let rec = Recording { id: format!("rec-{}", *n), duration_ms };
        m.note(format!("  recording {} ({} ms)", rec.id, rec.duration_ms));
        Ok(rec)
    }

    async fn transfer(&self, target: &str) -> Result<(), CallError> {
        let mut m = self.matcher.lock();
        let present = m.caller_present();
        m.action(Kind::Transfer, &format!("transfer {target}"), |s| match s {
            Step::ExpectTransfer(re) if re.is_match(target) => Ok(()),
            _ => Err(format!("transfer to {target}")),
        });
        if !present || m.mismatch.is_some() {
            return Err(CallError::Hangup);
        }
        m.call_over = true;
        Ok(())
    }

    async fn enqueue(&self, queue: &str, priority: u32) -> Result<QueueOutcome, CallError> {
        let mut m = self.matcher.lock();
        let present = m.caller_present();
        m.action(Kind::Enqueue, &format!("enqueue {queue} (priority {priority})"), |s| match s {
            Step::ExpectEnqueue(re) if re.is_match(queue) => Ok(()),
            _ => Err(format!("enqueue to {queue}")),
        });
        if !present || m.mismatch.is_some() {
            return Err(CallError::Hangup);
        }
        let outcome = match m.next_queue().unwrap_or(QueueKind::Answered) {
            QueueKind::Answered => {
                m.call_over = true;
                QueueOutcome::Answered(SIM_AGENT.to_string())
            }
            QueueKind::Abandoned => {
                m.caller_gone = true;
                QueueOutcome::Abandoned
            }
            QueueKind::Timeout => QueueOutcome::Timeout,
            QueueKind::CallbackRequested => QueueOutcome::CallbackRequested,
        };
        m.note(format!("  queue outcome: {outcome:?}"));
        Ok(outcome)
    }

    async fn hangup(&self) {
        let mut m = self.matcher.lock();
        m.action(Kind::Hangup, "hangup", |_| Ok(()));
        m.call_over = true;
    }

    async fn set_var(&self, name: &str, value: &str) {
        self.matcher.lock().note(format!("set-var {name} = {value}"));
        self.vars.lock().insert(name.to_string(), value.to_string());
    }

    async fn get_var(&self, name: &str) -> Option<String> {
        let v = self.vars.lock().get(name).cloned();
        self.matcher.lock().note(format!("get-var {name} -> {v:?}"));
        v
    }

    async fn mark(&self, node: &str) {
        self.matcher.lock().action(Kind::Mark, &format!("mark {node}"), |s| match s {
            Step::ExpectMark(re) if re.is_match(node) => Ok(()),
            _ => Err(format!("mark {node}")),
        });
    }

    async fn log(&self, level: Level, message: &str) {
        self.matcher.lock().note(format!("log {level:?}: {message}"));
    }

    async fn flow_failed(&self, failure: &FlowFailure) {
        self.matcher.lock().failure(&failure.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(max: u32, term: Option<&str>) -> CollectOptions {
        CollectOptions {
            min_digits: 1,
            max_digits: max,
            first_digit_timeout_ms: 5000,
            inter_digit_timeout_ms: 3000,
            terminator: term.map(String::from),
            barge_in: true,
        }
    }

    #[test]
    fn keys_follow_collect_options() {
        assert_eq!(collected("1502#", &opts(10, Some("#"))).digits, "1502");
        assert_eq!(collected("1502#", &opts(10, Some("#"))).ended_by, CollectEnd::Terminator);
        assert_eq!(collected("123", &opts(1, None)).digits, "1");
        assert_eq!(collected("123", &opts(1, None)).ended_by, CollectEnd::MaxDigits);
        assert_eq!(collected("12", &opts(4, Some("#"))).ended_by, CollectEnd::Timeout);
    }
}
