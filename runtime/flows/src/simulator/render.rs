//! Prompt text as the caller would hear it, through courtyard-tts's reading rules (the same
//! code the real TTS path uses), so `expect_say` regexes are written against real speech.

use courtyard_tts::text::{Lang, Speech, render_text};

use crate::wit::Segment;

/// Convert a WIT prompt to the TTS crate's parts.
pub fn to_speech(prompt: &[Segment]) -> Vec<Speech> {
    prompt
        .iter()
        .map(|s| match s {
            Segment::Text(t) => Speech::Text(t.clone()),
            Segment::Prompt(p) => Speech::Prompt { key: p.key.clone(), fallback: p.fallback_text.clone() },
            Segment::Money(f) => Speech::Money(*f),
            Segment::Number(n) => Speech::Number(*n),
            Segment::Digits(d) => Speech::Digits(d.clone()),
            Segment::Date(d) => Speech::Date(d.clone()),
            Segment::Pause(ms) => Speech::Pause(*ms),
        })
        .collect()
}

/// Render a prompt for a call language ("zh" when unknown).
pub fn render(language: &str, prompt: &[Segment]) -> String {
    render_text(Lang::from_code(language).unwrap_or_default(), &to_speech(prompt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_digits_read_in_chinese() {
        let text = render("zh", &[Segment::Text("您的欠费为".into()), Segment::Money(32050)]);
        assert!(text.contains("三百二十元五角"), "{text}");
        assert!(render("zh", &[Segment::Digits("101".into())]).contains("幺零幺"));
    }
}
