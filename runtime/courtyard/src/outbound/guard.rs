//! The dial-plan guard (toll-fraud defence, issue 11): every number the runtime dials on behalf
//! of a plugin, an agent, a campaign or an API user passes through [`DialPlan::check`] first.
//!
//! Two layers, in this order:
//! 1. **Syntax.** A dial string is digits with an optional leading `+`. Anything else is refused
//!    with a reason naming the offending character, because the classic tricks all need one:
//!    Asterisk-style separators (`500&SIP/itsp/14165551212`), URI parameters
//!    (`8001;transport=tcp`, `;maddr=`), a host part (`13800138000@evil.example`), header
//!    injection (CR/LF), whitespace, `,`/`|`/`/`/`:`. Visual separators an operator might paste
//!    (`-`, `.`, spaces, parentheses) are *also* refused rather than cleaned — cleaning is the
//!    caller's business (campaign import normalises), the guard only judges.
//! 2. **Patterns.** The digits must match one of the configured `[dialplan] allow` regexes
//!    (anchored), or be a configured agent extension. No pattern matches → refused.
//!
//! Every refusal is returned as a [`Refused`] with the reason; callers audit it
//! (`dial.refused` in the audit log) so an operator sees attempted fraud.

use regex::Regex;
use serde::Deserialize;

/// Removes the visual separators people write in phone numbers (spaces, `-`, `.`, parentheses)
/// from an imported number — and nothing else, so an injection attempt still reaches
/// [`DialPlan::check`] intact. (Campaigns' `normalize_number` drops *every* non-digit, which is
/// right for do-not-call matching but would turn `500&SIP/itsp/1416…` into a clean number.)
pub fn strip_visual_separators(number: &str) -> String {
    number.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect()
}

/// `[dialplan]`: which destinations may be dialled out through a trunk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DialPlanConfig {
    /// Regexes a destination must match (each anchored `^…$` by the guard when not already).
    pub allow: Vec<String>,
    /// Agent extensions (`[[agent]] extension`) are always allowed.
    pub allow_agent_extensions: bool,
    /// Longest dial string accepted (digits, after an optional `+`).
    pub max_digits: usize,
}

impl Default for DialPlanConfig {
    fn default() -> Self {
        DialPlanConfig {
            // Chinese mobiles, Chinese landlines with trunk prefix 0 (area code + number).
            allow: vec![r"^1[3-9]\d{9}$".into(), r"^0\d{9,11}$".into()],
            allow_agent_extensions: true,
            max_digits: 16,
        }
    }
}

/// Why a destination was refused (the text is shown to API users and written to the audit log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("destination '{shown}' refused: {reason}")]
pub struct Refused {
    /// The dial string with control characters made visible (safe for logs).
    pub shown: String,
    /// What was wrong.
    pub reason: String,
}

/// The compiled dial plan.
#[derive(Debug, Clone)]
pub struct DialPlan {
    allow: Vec<Regex>,
    extensions: Vec<String>,
    max_digits: usize,
}

impl DialPlan {
    /// Compiles the patterns; `extensions` are the configured agent extensions.
    pub fn new(cfg: &DialPlanConfig, extensions: &[String]) -> Result<DialPlan, String> {
        let mut allow = Vec::new();
        for p in &cfg.allow {
            let anchored = format!("^(?:{})$", p.trim_start_matches('^').trim_end_matches('$'));
            allow.push(Regex::new(&anchored).map_err(|e| format!("[dialplan] allow pattern '{p}': {e}"))?);
        }
        Ok(DialPlan {
            allow,
            extensions: if cfg.allow_agent_extensions { extensions.to_vec() } else { Vec::new() },
            max_digits: cfg.max_digits.max(1),
        })
    }

    /// Accepts `number` when it is a plain digit string matching the plan; returns the digits to
    /// dial (the leading `+` kept). Never cleans: a suspicious string is refused as a whole.
    pub fn check(&self, number: &str) -> Result<String, Refused> {
        let refuse = |reason: String| Err(Refused { shown: number.escape_debug().to_string(), reason });
        if number.is_empty() {
            return refuse("the number is empty".into());
        }
        let digits = number.strip_prefix('+').unwrap_or(number);
        if let Some(bad) = digits.chars().find(|c| !c.is_ascii_digit()) {
            return refuse(match bad {
                '&' => "'&' chains a second destination (dial-string injection)".into(),
                ';' => "';' adds SIP URI parameters (e.g. transport/maddr tricks)".into(),
                '@' => "'@' names a host: only numbers are dialled, through configured trunks".into(),
                '\r' | '\n' => "CR/LF would inject SIP headers".into(),
                c if c.is_whitespace() => "whitespace inside a dial string".into(),
                '/' | ':' | ',' | '|' | '?' | '<' | '>' | '"' => format!("'{bad}' is a dial-string/URI separator"),
                c => format!("'{}' is not a digit", c.escape_debug()),
            });
        }
        if digits.is_empty() {
            return refuse("no digits".into());
        }
        if digits.len() > self.max_digits {
            return refuse(format!("{} digits is longer than the {} allowed", digits.len(), self.max_digits));
        }
        // Patterns see the `+` too: an international number must be allowed explicitly.
        if self.extensions.iter().any(|e| e == number) || self.allow.iter().any(|r| r.is_match(number)) {
            return Ok(number.to_string());
        }
        refuse("matches no [dialplan] allow pattern (premium, international or unknown destination)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> DialPlan {
        DialPlan::new(&DialPlanConfig::default(), &["8001".to_string(), "8002".to_string()]).unwrap()
    }

    #[test]
    fn mobiles_landlines_and_extensions_pass() {
        let p = plan();
        for n in ["13800138000", "19912345678", "01088886666", "075512345678", "8001"] {
            assert_eq!(p.check(n).as_deref(), Ok(n), "{n}");
        }
    }

    #[test]
    fn injection_tricks_are_refused_with_the_reason() {
        let p = plan();
        let cases = [
            ("500&SIP/itsp/14165551212", "'&' chains"),
            ("8001;transport=tcp", "URI parameters"),
            ("13800138000@evil.example", "names a host"),
            ("13800138000\r\nVia: x", "CR/LF"),
            ("138 0013 8000", "whitespace"),
            ("sip:13800138000", "not a digit"),
            ("1380013800/0", "separator"),
            ("", "empty"),
        ];
        for (n, why) in cases {
            let e = p.check(n).unwrap_err();
            assert!(e.reason.contains(why), "{n:?}: {e}");
        }
        // Control characters are escaped in what goes to logs and the audit trail.
        assert!(p.check("1\r\n").unwrap_err().shown.contains("\\r\\n"));
    }

    #[test]
    fn visual_separators_go_but_injection_stays_visible() {
        let p = plan();
        assert_eq!(strip_visual_separators(" 138-0013 (8000) "), "13800138000");
        assert!(p.check(&strip_visual_separators("138 0013 8000")).is_ok());
        assert!(p.check(&strip_visual_separators("500&SIP/itsp/14165551212")).is_err());
        assert!(p.check(&strip_visual_separators("13800138000;transport=tcp")).is_err());
    }

    #[test]
    fn destinations_outside_the_plan_are_refused() {
        let p = plan();
        for n in ["0014165551212", "+14165551212", "12345678901", "1380013800", "8009", "900", "123456789012345678"] {
            assert!(p.check(n).is_err(), "{n} must be refused");
        }
    }

    #[test]
    fn extensions_can_be_disabled_and_patterns_are_anchored() {
        let cfg = DialPlanConfig { allow: vec![r"\d{4}".into()], allow_agent_extensions: false, max_digits: 16 };
        let p = DialPlan::new(&cfg, &["80011".to_string()]).unwrap();
        assert!(p.check("1234").is_ok());
        assert!(p.check("12345").is_err(), "a pattern matches the whole number, not a part");
        assert!(p.check("80011").is_err());
        assert!(DialPlan::new(&DialPlanConfig { allow: vec!["(".into()], ..cfg }, &[]).is_err());
    }
}
