//! The simulator script (`/work/team/sim-format.md`): call facts, fixtures and steps, parsed
//! from TOML into checked values (regexes compiled, step kinds validated) so that a typo in a
//! script is reported before the plugin runs.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use crate::policy::FailurePolicy;

/// Default caller number when the script gives none.
pub const DEFAULT_CALLER: &str = "13800000000";
/// Default called (service) number.
pub const DEFAULT_CALLED: &str = "4008123456";
/// Default simulator clock: a Wednesday, 10:00 in China.
pub const DEFAULT_NOW: &str = "2026-11-25T10:00:00+08:00";

/// Raw TOML shape of a script (field names as in the format document).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScript {
    pub caller: Option<String>,
    pub called: Option<String>,
    pub direction: Option<String>,
    pub estate_id: Option<String>,
    pub language: Option<String>,
    pub now: Option<String>,
    pub open: Option<bool>,
    #[serde(default)]
    pub calendar: BTreeMap<String, bool>,
    pub grants: Option<Vec<String>>,
    pub unused_imports: Option<Vec<String>>,
    pub failure_policy: Option<FailurePolicy>,
    pub config: Option<toml::Table>,
    pub config_file: Option<String>,
    #[serde(default)]
    pub estates: Vec<EstateFx>,
    #[serde(default)]
    pub units: Vec<UnitFx>,
    #[serde(default)]
    pub residents: Vec<ResidentFx>,
    #[serde(default)]
    pub bills: Vec<BillFx>,
    #[serde(default)]
    pub warranty: Vec<WarrantyFx>,
    #[serde(default)]
    pub work_orders: Vec<OrderFx>,
    #[serde(default)]
    pub announcements: Vec<AnnouncementFx>,
    #[serde(default)]
    pub kb: BTreeMap<String, String>,
    pub target: Option<TargetFx>,
    #[serde(default)]
    pub fail: BTreeMap<String, String>,
    #[serde(default, rename = "step")]
    pub steps: Vec<RawStep>,
}

/// `[[estates]]` fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EstateFx {
    pub id: String,
    pub name: String,
    pub office_phone: Option<String>,
}

/// `[[units]]` fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnitFx {
    pub id: String,
    pub estate_id: String,
    pub building: String,
    pub entrance: String,
    pub room: String,
    pub move_in_date: Option<String>,
}

/// `[[residents]]` fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResidentFx {
    pub id: String,
    pub name: String,
    pub honorific: Option<String>,
    #[serde(default = "owner")]
    pub role: String,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub unit_ids: Vec<String>,
    #[serde(default)]
    pub vip: bool,
    #[serde(default = "zh")]
    pub language: String,
}

fn owner() -> String {
    "owner".into()
}
fn zh() -> String {
    "zh".into()
}

/// `[[bills]]` fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BillFx {
    pub id: String,
    pub unit_id: String,
    #[serde(default = "property")]
    pub fee_type: String,
    pub period: String,
    pub amount: i64,
    #[serde(default)]
    pub paid: bool,
    #[serde(default)]
    pub due_date: String,
}

fn property() -> String {
    "property".into()
}

/// `[[warranty]]` fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WarrantyFx {
    pub unit_id: String,
    pub item: String,
    pub months: u32,
}

/// `[[work_orders]]` fixture (fields of the WIT `order`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrderFx {
    pub id: String,
    #[serde(default = "repair")]
    pub category: String,
    pub subcategory: Option<String>,
    pub estate_id: Option<String>,
    pub unit_id: Option<String>,
    #[serde(default)]
    pub caller: String,
    #[serde(default)]
    pub description: String,
    pub recording_id: Option<String>,
    #[serde(default = "normal")]
    pub priority: String,
    #[serde(default = "new_state")]
    pub state: String,
    #[serde(default)]
    pub created_at: String,
    pub parent_id: Option<String>,
}

fn repair() -> String {
    "repair".into()
}
fn normal() -> String {
    "normal".into()
}
fn new_state() -> String {
    "new".into()
}

/// `[[announcements]]` fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnnouncementFx {
    pub text: String,
    pub estate_id: Option<String>,
}

/// `[target]` (outbound calls).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetFx {
    pub campaign_id: String,
    pub target_id: String,
    pub number: String,
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
}

/// One `[[step]]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    expect_say: Option<String>,
    press: Option<toml::Value>,
    silence: Option<bool>,
    speak_ms: Option<u32>,
    expect_work_order: Option<toml::Table>,
    expect_notify: Option<toml::Table>,
    expect_transfer: Option<String>,
    queue_outcome: Option<String>,
    expect_enqueue: Option<String>,
    expect_callback: Option<toml::Table>,
    expect_mark: Option<String>,
    caller_hangup: Option<bool>,
    expect_hangup: Option<bool>,
    expect_outcome: Option<String>,
    expect_failure: Option<String>,
}

/// How one field of an expected record is compared.
#[derive(Debug, Clone)]
pub(crate) struct FieldRule {
    pub name: String,
    pub pattern: Regex,
    pub source: String,
}

/// Queue outcomes a script can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueKind {
    Answered,
    Abandoned,
    Timeout,
    CallbackRequested,
}

/// A checked step.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    ExpectSay(Regex),
    Press(String),
    Silence,
    SpeakMs(u32),
    ExpectWorkOrder(Vec<FieldRule>),
    ExpectNotify(Vec<FieldRule>),
    ExpectTransfer(Regex),
    QueueOutcome(QueueKind),
    ExpectEnqueue(Regex),
    ExpectCallback(Vec<FieldRule>),
    ExpectMark(Regex),
    CallerHangup,
    ExpectHangup,
    ExpectOutcome(Regex),
    ExpectFailure(Regex),
}

impl Step {
    /// How the step reads in a mismatch report.
    pub(crate) fn describe(&self) -> String {
        let rules = |r: &[FieldRule]| {
            r.iter().map(|f| format!("{} ~ /{}/", f.name, f.source)).collect::<Vec<_>>().join(", ")
        };
        match self {
            Step::ExpectSay(re) => format!("say matching /{re}/"),
            Step::Press(d) => format!("press {d}"),
            Step::Silence => "silence".into(),
            Step::SpeakMs(ms) => format!("caller speaks {ms} ms"),
            Step::ExpectWorkOrder(r) => format!("work order with {}", rules(r)),
            Step::ExpectNotify(r) => format!("notify with {}", rules(r)),
            Step::ExpectTransfer(re) => format!("transfer to /{}/", unanchor(re)),
            Step::QueueOutcome(q) => format!("queue outcome {q:?}"),
            Step::ExpectEnqueue(re) => format!("enqueue to /{}/", unanchor(re)),
            Step::ExpectCallback(r) => format!("callback with {}", rules(r)),
            Step::ExpectMark(re) => format!("mark /{}/", unanchor(re)),
            Step::CallerHangup => "caller hangs up".into(),
            Step::ExpectHangup => "the plugin hangs up or returns".into(),
            Step::ExpectOutcome(re) => format!("outcome /{}/", unanchor(re)),
            Step::ExpectFailure(re) => format!("plugin failure /{re}/"),
        }
    }
}

fn unanchor(re: &Regex) -> &str {
    let s = re.as_str();
    s.strip_prefix("^(?:").and_then(|s| s.strip_suffix(")$")).unwrap_or(s)
}

/// A regex searched anywhere in the text (prompts, descriptions, failure messages).
fn search(step: usize, what: &str, src: &str) -> Result<Regex, String> {
    Regex::new(src).map_err(|e| format!("step {step}: {what}: invalid regex /{src}/: {e}"))
}

/// A regex that must match the whole value (queue names, targets, marks, ids).
fn whole(step: usize, what: &str, src: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{src})$")).map_err(|e| format!("step {step}: {what}: invalid regex /{src}/: {e}"))
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Fields whose expected value is searched in free text; all others must match whole.
const FREE_TEXT: &[&str] = &["description", "text", "reason"];

fn rules(step: usize, what: &str, table: &toml::Table, allowed: &[&str]) -> Result<Vec<FieldRule>, String> {
    table
        .iter()
        .map(|(name, v)| {
            if !allowed.contains(&name.as_str()) {
                return Err(format!("step {step}: {what}: unknown field '{name}' (known: {})", allowed.join(", ")));
            }
            let source = value_text(v);
            let pattern = if FREE_TEXT.contains(&name.as_str()) {
                search(step, what, &source)?
            } else {
                whole(step, what, &source)?
            };
            Ok(FieldRule { name: name.clone(), pattern, source })
        })
        .collect()
}

/// Fields of an expected work order.
pub(crate) const ORDER_FIELDS: &[&str] = &[
    "category", "subcategory", "estate_id", "unit_id", "caller", "description", "recording_id", "priority",
    "parent_id",
];
/// Fields of an expected notification.
pub(crate) const NOTIFY_FIELDS: &[&str] = &["channel", "to", "text"];
/// Fields of an expected callback task.
pub(crate) const CALLBACK_FIELDS: &[&str] = &["number", "reason", "recording_id", "due"];

impl RawStep {
    /// Check the step: exactly one key, valid regexes and values.
    pub(crate) fn check(self, n: usize) -> Result<Step, String> {
        let mut found: Vec<Step> = Vec::new();
        if let Some(s) = self.expect_say {
            found.push(Step::ExpectSay(search(n, "expect_say", &s)?));
        }
        if let Some(p) = self.press {
            let digits = value_text(&p);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '#' || c == '*') {
                return Err(format!("step {n}: press: '{digits}' is not a string of DTMF keys (0-9, #, *)"));
            }
            found.push(Step::Press(digits));
        }
        if let Some(true) = self.silence {
            found.push(Step::Silence);
        }
        if let Some(ms) = self.speak_ms {
            found.push(Step::SpeakMs(ms));
        }
        if let Some(t) = self.expect_work_order {
            found.push(Step::ExpectWorkOrder(rules(n, "expect_work_order", &t, ORDER_FIELDS)?));
        }
        if let Some(t) = self.expect_notify {
            found.push(Step::ExpectNotify(rules(n, "expect_notify", &t, NOTIFY_FIELDS)?));
        }
        if let Some(s) = self.expect_transfer {
            found.push(Step::ExpectTransfer(whole(n, "expect_transfer", &s)?));
        }
        if let Some(q) = self.queue_outcome {
            let kind = match q.as_str() {
                "answered" => QueueKind::Answered,
                "abandoned" => QueueKind::Abandoned,
                "timeout" => QueueKind::Timeout,
                "callback-requested" => QueueKind::CallbackRequested,
                other => {
                    return Err(format!(
                        "step {n}: queue_outcome: '{other}' is not answered|abandoned|timeout|callback-requested"
                    ));
                }
            };
            found.push(Step::QueueOutcome(kind));
        }
        if let Some(s) = self.expect_enqueue {
            found.push(Step::ExpectEnqueue(whole(n, "expect_enqueue", &s)?));
        }
        if let Some(t) = self.expect_callback {
            found.push(Step::ExpectCallback(rules(n, "expect_callback", &t, CALLBACK_FIELDS)?));
        }
        if let Some(s) = self.expect_mark {
            found.push(Step::ExpectMark(whole(n, "expect_mark", &s)?));
        }
        if let Some(true) = self.caller_hangup {
            found.push(Step::CallerHangup);
        }
        if let Some(true) = self.expect_hangup {
            found.push(Step::ExpectHangup);
        }
        if let Some(s) = self.expect_outcome {
            found.push(Step::ExpectOutcome(whole(n, "expect_outcome", &s)?));
        }
        if let Some(s) = self.expect_failure {
            found.push(Step::ExpectFailure(search(n, "expect_failure", &s)?));
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(format!("step {n}: empty step (give one of expect_say, press, silence, speak_ms, expect_*, queue_outcome, caller_hangup)")),
            _ => Err(format!("step {n}: one action per [[step]], found {}", found.len())),
        }
    }
}

/// Parse script text. The format document writes several `key = value` pairs on one line
/// separated by `;` (not TOML); such lines are split before parsing.
pub(crate) fn parse(text: &str) -> Result<RawScript, String> {
    match toml::from_str::<RawScript>(text) {
        Ok(s) => Ok(s),
        Err(first) => {
            let relaxed = split_semicolons(text);
            if relaxed == text {
                return Err(first.to_string());
            }
            toml::from_str::<RawScript>(&relaxed).map_err(|_| first.to_string())
        }
    }
}

/// Split lines at `;` outside strings, brackets and comments.
fn split_semicolons(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let (mut depth, mut quote, mut prev) = (0i32, None::<char>, '\0');
        let mut cur = String::new();
        for c in line.chars() {
            match quote {
                Some(q) => {
                    if c == q && !(q == '"' && prev == '\\') {
                        quote = None;
                    }
                    cur.push(c);
                }
                None => match c {
                    '"' | '\'' => {
                        quote = Some(c);
                        cur.push(c);
                    }
                    '[' | '{' => {
                        depth += 1;
                        cur.push(c);
                    }
                    ']' | '}' => {
                        depth -= 1;
                        cur.push(c);
                    }
                    ';' if depth == 0 => {
                        out.push_str(cur.trim());
                        out.push('\n');
                        cur.clear();
                    }
                    '#' => {
                        // A comment: keep the rest of the line verbatim ('\n' never closes).
                        cur.push('#');
                        quote = Some('\n');
                    }
                    _ => cur.push(c),
                },
            }
            prev = c;
        }
        out.push_str(&cur);
        out.push('\n');
    }
    out
}

/// Read the plugin configuration: the `[config]` table, or `config_file` (JSON) relative to the
/// script's directory; "{}" when neither.
pub(crate) fn config_json(raw: &RawScript, base: &Path) -> Result<String, String> {
    match (&raw.config, &raw.config_file) {
        (Some(_), Some(_)) => Err("give either [config] or config_file, not both".into()),
        (Some(table), None) => serde_json::to_string(table).map_err(|e| format!("[config]: {e}")),
        (None, Some(file)) => {
            let path = base.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("config_file {}: {e}", path.display()))?;
            serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| format!("config_file {}: not valid JSON: {e}", path.display()))?;
            Ok(text)
        }
        (None, None) => Ok("{}".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_example_with_semicolons_parses() {
        let text = r#"
caller = "13800138000"
[config]
greeting = "您好"
[[estates]]
id = "E1"; name = "幸福花园"
[[residents]]
id = "R1"; name = "张伟"; honorific = "先生"; role = "owner"; phones = ["13800138000"]; unit_ids = ["U1"]; vip = false
[[step]]
expect_say = "您好.*张先生"
[[step]]
press = "1"
[[step]]
expect_work_order = { category = "repair", priority = "urgent", description = "漏水" }
"#;
        let raw = parse(text).unwrap();
        assert_eq!(raw.residents[0].honorific.as_deref(), Some("先生"));
        assert_eq!(raw.estates[0].name, "幸福花园");
        let steps: Vec<Step> = raw.steps.into_iter().enumerate().map(|(i, s)| s.check(i + 1).unwrap()).collect();
        assert!(matches!(&steps[1], Step::Press(d) if d == "1"));
        assert!(matches!(&steps[2], Step::ExpectWorkOrder(r) if r.len() == 3));
    }

    #[test]
    fn bad_steps_are_reported_with_their_number() {
        let raw = parse("[[step]]\npress = \"1x\"\n").unwrap();
        let err = raw.steps.into_iter().next().unwrap().check(1).unwrap_err();
        assert!(err.contains("step 1"), "{err}");
        let raw = parse("[[step]]\nexpect_say = \"a\"\npress = \"1\"\n").unwrap();
        assert!(raw.steps.into_iter().next().unwrap().check(1).unwrap_err().contains("one action"));
        assert!(parse("[[step]]\nexpect_sey = \"a\"\n").is_err());
    }
}
