//! Spoken prompts: fixed text, library prompts and dynamic parts in one value.
//!
//! A [`Prompt`] is the list of [`Segment`]s the host plays in order. Fixed wording usually comes
//! from the plugin's configuration (so the operator can change it without a rebuild); dynamic
//! parts — an amount in fen, a work-order number, a date — are typed segments that the host's TTS
//! reads correctly in Chinese (`money(32050)` is read 三百二十元五角, `digits("101")` 幺零幺).
//!
//! ```
//! use courtyard_plugin_sdk::prelude::*;
//!
//! // The macro takes anything that converts into a prompt: text, segments, other prompts.
//! let p = prompt!["您本月物业费为", money(32050), ",请于", date("2026-11-15"), "前缴纳"];
//! assert_eq!(p.segments().len(), 5);
//!
//! // Operator texts with placeholders: `{amount}` is replaced by a spoken money segment.
//! let t = Prompt::template("您共欠费{amount},谢谢", &[("amount", money(1200).into())]);
//! assert_eq!(t.segments()[1], money(1200));
//! ```

use crate::bindings::inbound::courtyard::flow::call::NamedPrompt;
pub use crate::bindings::inbound::courtyard::flow::call::Segment;

/// A sequence of segments played as one prompt; build it with [`prompt!`](crate::prompt!),
/// the builder methods, or `From<&str>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prompt {
    segments: Vec<Segment>,
}

impl Prompt {
    /// An empty prompt (plays nothing); grow it with the builder methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends text spoken by TTS; empty text is skipped.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        if !text.is_empty() {
            self.segments.push(Segment::Text(text));
        }
        self
    }

    /// Appends a prompt-library entry (a recorded WAV when the operator has one for `key`).
    pub fn named(mut self, key: impl Into<String>, fallback_text: impl Into<String>) -> Self {
        self.segments.push(named(key, fallback_text));
        self
    }

    /// Appends an amount in fen read in money form.
    pub fn money(mut self, fen: i64) -> Self {
        self.segments.push(money(fen));
        self
    }

    /// Appends a number read as a quantity.
    pub fn number(mut self, n: i64) -> Self {
        self.segments.push(number(n));
        self
    }

    /// Appends a string read digit by digit (phone and order numbers).
    pub fn digits(mut self, digits_text: impl Into<String>) -> Self {
        self.segments.push(digits(digits_text));
        self
    }

    /// Appends an ISO date read as a date.
    pub fn date(mut self, iso: impl Into<String>) -> Self {
        self.segments.push(date(iso));
        self
    }

    /// Appends silence.
    pub fn pause(mut self, ms: u32) -> Self {
        self.segments.push(pause(ms));
        self
    }

    /// Appends everything of another prompt (or anything convertible into one).
    pub fn then(mut self, other: impl Into<Prompt>) -> Self {
        self.segments.extend(other.into().segments);
        self
    }

    /// Appends one segment in place.
    pub fn push(&mut self, segment: Segment) {
        self.segments.push(segment);
    }

    /// The segments in play order (what is sent to the host).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// True when nothing would be played.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Builds a prompt from an operator text with `{name}` placeholders, replacing each
    /// placeholder by the prompt given for it; unknown placeholders stay as literal text so a typo
    /// in the configuration is audible rather than silently dropped.
    pub fn template(text: &str, values: &[(&str, Prompt)]) -> Self {
        let mut out = Prompt::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let key = &after[..close];
                    match values.iter().find(|(k, _)| *k == key) {
                        Some((_, value)) => {
                            out = out.text(std::mem::take(&mut literal)).then(value.clone());
                        }
                        None => {
                            literal.push('{');
                            literal.push_str(key);
                            literal.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    literal.push('{');
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        out.text(literal)
    }

    /// A plain-text rendering for logs and tests (money as `<n>分`, digits as written); the host's
    /// TTS rendering is what callers hear.
    pub fn to_plain_text(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => s.push_str(t),
                Segment::Prompt(p) => s.push_str(&p.fallback_text),
                Segment::Money(f) => s.push_str(&format!("{f}分")),
                Segment::Number(n) => s.push_str(&n.to_string()),
                Segment::Digits(d) => s.push_str(d),
                Segment::Date(d) => s.push_str(d),
                Segment::Pause(_) => {}
            }
        }
        s
    }
}

impl From<&str> for Prompt {
    fn from(text: &str) -> Self {
        Prompt::new().text(text)
    }
}

impl From<String> for Prompt {
    fn from(text: String) -> Self {
        Prompt::new().text(text)
    }
}

impl From<&String> for Prompt {
    fn from(text: &String) -> Self {
        Prompt::new().text(text.as_str())
    }
}

impl From<Segment> for Prompt {
    fn from(segment: Segment) -> Self {
        Prompt { segments: vec![segment] }
    }
}

impl From<Vec<Segment>> for Prompt {
    fn from(segments: Vec<Segment>) -> Self {
        Prompt { segments }
    }
}

impl From<&Prompt> for Prompt {
    fn from(p: &Prompt) -> Self {
        p.clone()
    }
}

/// A text segment.
pub fn text(text: impl Into<String>) -> Segment {
    Segment::Text(text.into())
}

/// A prompt-library segment: the operator's recording for `key`, else TTS of `fallback_text`.
pub fn named(key: impl Into<String>, fallback_text: impl Into<String>) -> Segment {
    Segment::Prompt(NamedPrompt { key: key.into(), fallback_text: fallback_text.into() })
}

/// An amount in fen read in Chinese money form (32050 → 三百二十元五角).
pub fn money(fen: i64) -> Segment {
    Segment::Money(fen)
}

/// A number read as a quantity (1502 → 一千五百零二).
pub fn number(n: i64) -> Segment {
    Segment::Number(n)
}

/// A string read digit by digit (1 is read 幺 in Chinese).
pub fn digits(digits: impl Into<String>) -> Segment {
    Segment::Digits(digits.into())
}

/// An ISO date (`2026-11-27`) read as a date.
pub fn date(iso: impl Into<String>) -> Segment {
    Segment::Date(iso.into())
}

/// Silence of `ms` milliseconds.
pub fn pause(ms: u32) -> Segment {
    Segment::Pause(ms)
}

/// Builds a [`Prompt`] from a list of parts, each anything `Into<Prompt>` (`&str`, `String`,
/// [`Segment`], [`Prompt`]).
///
/// ```
/// use courtyard_plugin_sdk::prelude::*;
/// let p = prompt!["工单号", digits("2611270007"), pause(300), "请记录"];
/// assert_eq!(p.segments().len(), 4);
/// ```
#[macro_export]
macro_rules! prompt {
    () => { $crate::prompt::Prompt::new() };
    ($($part:expr),+ $(,)?) => {{
        let p = $crate::prompt::Prompt::new();
        $( let p = p.then($part); )+
        p
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_order_and_skips_empty_text() {
        let p = Prompt::new().text("a").text("").money(5).digits("12").pause(100);
        assert_eq!(p.segments(), &[text("a"), money(5), digits("12"), pause(100)]);
    }

    #[test]
    fn template_replaces_known_and_keeps_unknown_placeholders() {
        let p = Prompt::template(
            "欠费{amount},单号{id},{oops}结束",
            &[("amount", money(100).into()), ("id", digits("42").into())],
        );
        assert_eq!(
            p.segments(),
            &[text("欠费"), money(100), text(",单号"), digits("42"), text(",{oops}结束")]
        );
    }

    #[test]
    fn template_with_unclosed_brace_is_literal() {
        let p = Prompt::template("a{b", &[("b", "x".into())]);
        assert_eq!(p.segments(), &[text("a{b")]);
    }

    #[test]
    fn macro_accepts_mixed_parts() {
        let inner = Prompt::from("内");
        let p = crate::prompt!["外", inner, number(3), String::from("尾")];
        assert_eq!(p.to_plain_text(), "外内3尾");
    }
}
