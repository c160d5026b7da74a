//! Step matching: what the plugin does, checked in order against the script.
//!
//! Rules (from the format document): every say/collect prompt must be matched, in order, by an
//! `expect_say` step; other `expect_*` steps wait for their kind of action while unrelated
//! actions pass (shown in the transcript); input steps feed the next collect / record /
//! enqueue; `caller_hangup` applies when the cursor reaches it; when the steps run out the
//! caller hangs up; when the plugin ends while steps remain, the test fails. After the first
//! mismatch the caller "hangs up" so the plugin ends quickly, and nothing more is checked.

use std::collections::VecDeque;
use std::fmt;

use crate::simulator::script::{FieldRule, QueueKind, Step};

/// The first difference between the script and what the plugin did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// 1-based step number in the script (0 when no step was involved).
    pub step: usize,
    /// What the script expected.
    pub expected: String,
    /// What the plugin did.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}: expected {}; actual: {}", self.step, self.expected, self.actual)
    }
}

/// Kinds of non-prompt actions that `expect_*` steps wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    WorkOrder,
    Notify,
    Transfer,
    Enqueue,
    Callback,
    Mark,
    Hangup,
}

/// Input queued for the next collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyInput {
    Press(String),
    Silence,
}

/// Matching state of one simulated call.
#[derive(Debug)]
pub(crate) struct Matcher {
    steps: Vec<Step>,
    pos: usize,
    keys: VecDeque<KeyInput>,
    speech: VecDeque<u32>,
    queue: VecDeque<QueueKind>,
    /// The caller hung up (script step, script end, abandoned queue, or after a mismatch).
    pub(crate) caller_gone: bool,
    /// The call left the flow (transfer, answered queue, plugin hangup).
    pub(crate) call_over: bool,
    pub(crate) transcript: Vec<String>,
    pub(crate) mismatch: Option<Mismatch>,
}

impl Matcher {
    pub(crate) fn new(steps: Vec<Step>) -> Self {
        Matcher {
            steps,
            pos: 0,
            keys: VecDeque::new(),
            speech: VecDeque::new(),
            queue: VecDeque::new(),
            caller_gone: false,
            call_over: false,
            transcript: Vec::new(),
            mismatch: None,
        }
    }

    /// Add a transcript line.
    pub(crate) fn note(&mut self, line: impl Into<String>) {
        self.transcript.push(line.into());
    }

    fn fail(&mut self, step: usize, expected: String, actual: String) {
        if self.mismatch.is_none() {
            self.note(format!("!! mismatch at step {step}: expected {expected}; actual: {actual}"));
            self.mismatch = Some(Mismatch { step, expected, actual });
        }
        self.caller_gone = true;
    }

    /// Move input steps into the input queues and apply `caller_hangup`, up to the next
    /// expectation.
    fn absorb(&mut self) {
        while let Some(step) = self.steps.get(self.pos) {
            match step {
                Step::Press(d) => self.keys.push_back(KeyInput::Press(d.clone())),
                Step::Silence => self.keys.push_back(KeyInput::Silence),
                Step::SpeakMs(ms) => self.speech.push_back(*ms),
                Step::QueueOutcome(q) => self.queue.push_back(*q),
                Step::CallerHangup => {
                    if !self.caller_gone {
                        self.note("caller hangs up");
                    }
                    self.caller_gone = true;
                }
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// Whether the caller is still there for a call-control action (after absorbing inputs;
    /// running out of steps means the caller hangs up).
    pub(crate) fn caller_present(&mut self) -> bool {
        self.absorb();
        if self.mismatch.is_some() || self.caller_gone || self.call_over {
            return false;
        }
        if self.pos >= self.steps.len() && self.keys.is_empty() && self.speech.is_empty() && self.queue.is_empty() {
            self.note("script ended: caller hangs up");
            self.caller_gone = true;
            return false;
        }
        true
    }

    /// A prompt was played (say or collect): the next step must be a matching `expect_say`.
    /// Returns false when the caller is not there to hear it.
    pub(crate) fn prompt(&mut self, text: &str) -> bool {
        if !self.caller_present() {
            return false;
        }
        if text.trim().is_empty() {
            return true;
        }
        let n = self.pos + 1;
        match self.steps.get(self.pos) {
            Some(Step::ExpectSay(re)) if re.is_match(text) => {
                self.pos += 1;
                true
            }
            Some(step) => {
                let expected = step.describe();
                self.fail(n, expected, format!("say \"{text}\""));
                false
            }
            None => {
                // Only queued input remains: nothing expects this prompt.
                self.fail(n, "no more prompts (script ended)".into(), format!("say \"{text}\""));
                false
            }
        }
    }

    /// The next key input for a collect (None: no input queued, the collect times out).
    pub(crate) fn next_keys(&mut self) -> Option<KeyInput> {
        self.absorb();
        self.keys.pop_front()
    }

    /// The next caller speech length for a record.
    pub(crate) fn next_speech(&mut self) -> Option<u32> {
        self.absorb();
        self.speech.pop_front()
    }

    /// The next queue outcome for an enqueue.
    pub(crate) fn next_queue(&mut self) -> Option<QueueKind> {
        self.absorb();
        self.queue.pop_front()
    }

    /// A non-prompt action of `kind` happened; if the step at the cursor waits for this kind,
    /// it must match (`check` returns `Err(actual description)` on a difference).
    pub(crate) fn action(&mut self, kind: Kind, shown: &str, check: impl Fn(&Step) -> Result<(), String>) {
        self.note(shown);
        if self.mismatch.is_some() {
            return;
        }
        self.absorb();
        let n = self.pos + 1;
        let Some(step) = self.steps.get(self.pos) else { return };
        if step_kind(step) != Some(kind) {
            return;
        }
        match check(step) {
            Ok(()) => self.pos += 1,
            Err(actual) => {
                let expected = step.describe();
                self.fail(n, expected, actual);
            }
        }
    }

    /// The plugin failed: the step at the cursor must be a matching `expect_failure`.
    pub(crate) fn failure(&mut self, text: &str) {
        self.note(format!("plugin failed: {text}"));
        if self.mismatch.is_some() {
            return;
        }
        self.absorb();
        let n = self.pos + 1;
        match self.steps.get(self.pos) {
            Some(Step::ExpectFailure(re)) if re.is_match(text) => {
                self.pos += 1;
                // The failure policy speaks to the caller again.
                self.call_over = false;
            }
            Some(step) => {
                let expected = step.describe();
                self.fail(n, expected, format!("plugin failed: {text}"));
            }
            None => {
                // Even after the caller is gone, a failing plugin is a bug the test must show.
                self.fail(n, "no plugin failure (script ended)".into(), format!("plugin failed: {text}"));
            }
        }
    }

    /// The plugin's export returned (after any failure policy): consume `expect_hangup` /
    /// `expect_outcome`, then every remaining step is a failure.
    pub(crate) fn finish(&mut self, outcome: Option<&str>) {
        if self.mismatch.is_some() {
            return;
        }
        loop {
            self.absorb();
            let n = self.pos + 1;
            match self.steps.get(self.pos) {
                Some(Step::ExpectHangup) => self.pos += 1,
                Some(Step::ExpectOutcome(re)) => match outcome {
                    Some(o) if re.is_match(o) => self.pos += 1,
                    Some(o) => {
                        let expected = self.steps[self.pos].describe();
                        self.fail(n, expected, format!("outcome \"{o}\""));
                        return;
                    }
                    None => {
                        let expected = self.steps[self.pos].describe();
                        self.fail(n, expected, "the flow returned no outcome".into());
                        return;
                    }
                },
                Some(step) => {
                    let expected = step.describe();
                    self.fail(n, expected, "the plugin ended".into());
                    return;
                }
                None => break,
            }
        }
        let leftover = self.keys.len() + self.speech.len() + self.queue.len();
        if leftover > 0 && !self.caller_gone {
            let n = self.steps.len();
            self.fail(n, "the queued caller input to be used".into(), "the plugin ended".into());
        }
    }
}

fn step_kind(step: &Step) -> Option<Kind> {
    Some(match step {
        Step::ExpectWorkOrder(_) => Kind::WorkOrder,
        Step::ExpectNotify(_) => Kind::Notify,
        Step::ExpectTransfer(_) => Kind::Transfer,
        Step::ExpectEnqueue(_) => Kind::Enqueue,
        Step::ExpectCallback(_) => Kind::Callback,
        Step::ExpectMark(_) => Kind::Mark,
        Step::ExpectHangup => Kind::Hangup,
        _ => return None,
    })
}

/// Check expected record fields against actual `(name, value)` pairs.
pub(crate) fn check_fields(rules: &[FieldRule], actual: &[(&str, String)]) -> Result<(), String> {
    for rule in rules {
        let value = actual.iter().find(|(n, _)| *n == rule.name).map(|(_, v)| v.as_str()).unwrap_or("");
        if !rule.pattern.is_match(value) {
            return Err(format!("{} = \"{value}\" (wanted /{}/)", rule.name, rule.source));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    fn say(re: &str) -> Step {
        Step::ExpectSay(Regex::new(re).unwrap())
    }

    #[test]
    fn prompts_must_match_in_order() {
        let mut m = Matcher::new(vec![say("欢迎"), say("再见")]);
        assert!(m.prompt("欢迎致电"));
        assert!(!m.prompt("请按1"));
        let mm = m.mismatch.clone().unwrap();
        assert_eq!(mm.step, 2);
        assert!(mm.actual.contains("请按1"));
    }

    #[test]
    fn inputs_feed_collects_and_script_end_hangs_up() {
        let mut m = Matcher::new(vec![say("菜单"), Step::Press("1".into())]);
        assert!(m.prompt("主菜单"));
        assert_eq!(m.next_keys(), Some(KeyInput::Press("1".into())));
        assert!(!m.prompt("您选择了1"));
        assert!(m.caller_gone);
        m.finish(None);
        assert!(m.mismatch.is_none());
    }

    #[test]
    fn unrelated_actions_pass_but_same_kind_must_match() {
        let re = Regex::new("^(?:8001)$").unwrap();
        let mut m = Matcher::new(vec![Step::ExpectTransfer(re)]);
        m.action(Kind::Mark, "mark menu", |_| Ok(()));
        assert!(m.mismatch.is_none());
        m.action(Kind::Transfer, "transfer 8002", |s| match s {
            Step::ExpectTransfer(re) if re.is_match("8002") => Ok(()),
            _ => Err("transfer to 8002".into()),
        });
        assert_eq!(m.mismatch.as_ref().map(|x| x.step), Some(1));
    }

    #[test]
    fn remaining_steps_fail_when_the_plugin_ends() {
        let mut m = Matcher::new(vec![say("a"), Step::ExpectHangup, say("b")]);
        assert!(m.prompt("a"));
        m.finish(None);
        assert_eq!(m.mismatch.as_ref().map(|x| x.step), Some(3));
    }
}
