//! What the caller gives back: DTMF digits ([`Collect`], [`Input`]), a menu answer with retries
//! ([`Ask`]) and voice recordings ([`Record`]).
//!
//! Defaults follow common hotline practice: 5 s to the first digit, 3 s between digits, no
//! barge-in unless asked for, recordings of at most 60 s ending after 3 s of silence or on `#`,
//! with a beep.
//!
//! ```
//! use courtyard_plugin_sdk::prelude::*;
//! let one_key = Collect::digits(1).timeout_ms(5000).barge_in();
//! let room = Collect::between(1, 6).terminator("#");
//! let menu = Ask::new("请按1查询,按0转人工", Collect::digits(1))
//!     .keys(["1", "0"])
//!     .attempts(3)
//!     .on_invalid("输入有误,")
//!     .on_timeout("没有听到您的按键,");
//! assert!(menu.accepts("1") && !menu.accepts("5"));
//! # let _ = (one_key, room);
//! ```

use crate::bindings::inbound::courtyard::flow::call::{CollectEnd, CollectOptions, RecordOptions};
use crate::prompt::Prompt;

/// Options for one DTMF collection (converted to the WIT `collect-options`).
#[derive(Clone, Debug, PartialEq)]
pub struct Collect {
    min: u32,
    max: u32,
    first_ms: u32,
    inter_ms: u32,
    terminator: Option<String>,
    barge_in: bool,
}

impl Collect {
    /// Exactly `n` digits (a menu key is `Collect::digits(1)`).
    pub fn digits(n: u32) -> Self {
        Self::between(n, n)
    }

    /// Between `min` and `max` digits; add a [`terminator`](Self::terminator) for variable lengths.
    pub fn between(min: u32, max: u32) -> Self {
        Collect {
            min,
            max: max.max(min).max(1),
            first_ms: 5000,
            inter_ms: 3000,
            terminator: None,
            barge_in: false,
        }
    }

    /// Wait for the first digit after the prompt ended.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.first_ms = ms;
        self
    }

    /// Wait between digits.
    pub fn inter_digit_ms(mut self, ms: u32) -> Self {
        self.inter_ms = ms;
        self
    }

    /// A key that ends input early (not included in the digits).
    pub fn terminator(mut self, key: impl Into<String>) -> Self {
        self.terminator = Some(key.into());
        self
    }

    /// Let a key press interrupt the prompt.
    pub fn barge_in(self) -> Self {
        self.barge_in_if(true)
    }

    /// Barge-in decided by configuration.
    pub fn barge_in_if(mut self, on: bool) -> Self {
        self.barge_in = on;
        self
    }

    /// Fewest digits that make a valid answer.
    pub fn min_digits(&self) -> u32 {
        self.min
    }

    /// The WIT record sent to the host.
    pub fn to_options(&self) -> CollectOptions {
        CollectOptions {
            min_digits: self.min,
            max_digits: self.max,
            first_digit_timeout_ms: self.first_ms,
            inter_digit_timeout_ms: self.inter_ms,
            terminator: self.terminator.clone(),
            barge_in: self.barge_in,
        }
    }
}

/// Digits the caller pressed and why collection ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// The digits, without the terminator.
    pub digits: String,
    /// Why collection ended.
    pub ended_by: CollectEnd,
}

impl Input {
    /// The digits as a string slice.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// True when the caller pressed nothing at all.
    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }

    /// True when nothing was pressed before the timeout (silence).
    pub fn timed_out(&self) -> bool {
        self.digits.is_empty() && self.ended_by == CollectEnd::Timeout
    }
}

/// A question with validation and retries: re-asks on invalid input or silence, prefixing the
/// re-prompt with [`on_invalid`](Self::on_invalid) / [`on_timeout`](Self::on_timeout), and gives up
/// after [`attempts`](Self::attempts) tries. Run it with [`Call::ask`](crate::Call::ask).
pub struct Ask<'a> {
    pub(crate) prompt: Prompt,
    pub(crate) collect: Collect,
    pub(crate) attempts: u32,
    pub(crate) invalid: Prompt,
    pub(crate) timeout: Prompt,
    pub(crate) accept: Box<dyn Fn(&str) -> bool + 'a>,
}

impl<'a> Ask<'a> {
    /// Ask `prompt` and collect per `collect`; by default any input of at least the minimum
    /// length is accepted and 3 attempts are made.
    pub fn new(prompt: impl Into<Prompt>, collect: Collect) -> Self {
        let min = collect.min_digits().max(1) as usize;
        Ask {
            prompt: prompt.into(),
            collect,
            attempts: 3,
            invalid: Prompt::new(),
            timeout: Prompt::new(),
            accept: Box::new(move |d: &str| d.chars().count() >= min),
        }
    }

    /// Accept only these keys (menu choices).
    pub fn keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        self.accept = Box::new(move |d: &str| keys.iter().any(|k| k == d));
        self
    }

    /// Accept input for which `f` returns true.
    pub fn accept(mut self, f: impl Fn(&str) -> bool + 'a) -> Self {
        self.accept = Box::new(f);
        self
    }

    /// Total number of tries (at least 1).
    pub fn attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// Said before the re-prompt after invalid input.
    pub fn on_invalid(mut self, p: impl Into<Prompt>) -> Self {
        self.invalid = p.into();
        self
    }

    /// Said before the re-prompt after silence.
    pub fn on_timeout(mut self, p: impl Into<Prompt>) -> Self {
        self.timeout = p.into();
        self
    }

    /// Whether `digits` is a valid answer.
    pub fn accepts(&self, digits: &str) -> bool {
        (self.accept)(digits)
    }
}

/// Why an [`Ask`] ended without a valid answer, after all attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    /// The last attempt got digits that were not accepted.
    Invalid,
    /// The last attempt got silence.
    Timeout,
}

/// Options for recording the caller (converted to the WIT `record-options`).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    max_seconds: u32,
    silence_ms: u32,
    terminator: Option<String>,
    beep: bool,
}

impl Default for Record {
    fn default() -> Self {
        Record { max_seconds: 60, silence_ms: 3000, terminator: Some("#".into()), beep: true }
    }
}

impl Record {
    /// Defaults: 60 s max, stop after 3 s of silence or on `#`, beep first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hard cap on the length.
    pub fn max_seconds(mut self, s: u32) -> Self {
        self.max_seconds = s;
        self
    }

    /// Stop after this much silence (0 = never).
    pub fn silence_timeout_ms(mut self, ms: u32) -> Self {
        self.silence_ms = ms;
        self
    }

    /// Key that ends the recording; `None` for no key.
    pub fn terminator(mut self, key: Option<&str>) -> Self {
        self.terminator = key.map(str::to_string);
        self
    }

    /// Whether to beep before recording.
    pub fn beep(mut self, on: bool) -> Self {
        self.beep = on;
        self
    }

    /// The WIT record sent to the host.
    pub fn to_options(&self) -> RecordOptions {
        RecordOptions {
            max_seconds: self.max_seconds,
            silence_timeout_ms: self.silence_ms,
            terminator: self.terminator.clone(),
            beep: self.beep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_defaults_and_builders() {
        let o = Collect::digits(1).to_options();
        assert_eq!((o.min_digits, o.max_digits, o.first_digit_timeout_ms), (1, 1, 5000));
        assert!(!o.barge_in && o.terminator.is_none());
        let o = Collect::between(2, 6).terminator("#").barge_in().timeout_ms(8000).to_options();
        assert_eq!((o.min_digits, o.max_digits, o.first_digit_timeout_ms), (2, 6, 8000));
        assert!(o.barge_in);
        assert_eq!(o.terminator.as_deref(), Some("#"));
        // max below min is lifted to min.
        assert_eq!(Collect::between(3, 1).to_options().max_digits, 3);
    }

    #[test]
    fn ask_default_accepts_min_length_and_keys_restrict() {
        let a = Ask::new("x", Collect::between(2, 4));
        assert!(a.accepts("12") && !a.accepts("1"));
        let a = Ask::new("x", Collect::digits(1)).keys(["1", "0"]);
        assert!(a.accepts("0") && !a.accepts("2") && !a.accepts(""));
        assert_eq!(Ask::new("x", Collect::digits(1)).attempts(0).attempts, 1);
    }

    #[test]
    fn input_timeout_only_when_empty() {
        let i = Input { digits: String::new(), ended_by: CollectEnd::Timeout };
        assert!(i.timed_out());
        let i = Input { digits: "1".into(), ended_by: CollectEnd::Timeout };
        assert!(!i.timed_out());
    }

    #[test]
    fn record_defaults() {
        let o = Record::new().to_options();
        assert_eq!((o.max_seconds, o.silence_timeout_ms, o.beep), (60, 3000, true));
        assert_eq!(Record::new().terminator(None).to_options().terminator, None);
    }
}
