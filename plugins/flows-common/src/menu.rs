//! A DTMF menu tree read from configuration: the engine behind `ivr-menu` and `ivr-main`.
//!
//! Each node has a prompt and maps keys to actions. Invalid keys and silence re-prompt with the
//! common texts; after the node's attempts the `on_exhausted` action runs (an agent by default).
//!
//! ```json
//! { "start": "main",
//!   "nodes": {
//!     "main": { "prompt": "查询账单请按1,物业信息请按4,人工服务请按0",
//!               "options": { "1": {"action": "flow", "name": "bill-lookup"},
//!                            "4": {"action": "submenu", "node": "info"},
//!                            "0": {"action": "agent"} } },
//!     "info": { "prompt": "服务时间请按1,返回请按星号键",
//!               "options": { "1": {"action": "kb", "topic": "office-hours"},
//!                            "*": {"action": "back"} } } } }
//! ```

use std::collections::BTreeMap;

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// The menu tree (config section `menu`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MenuConfig {
    /// Name of the first node.
    pub start: String,
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Said when a knowledge-base topic has no answer.
    pub kb_missing_text: String,
    /// Most menu steps in one call before the caller is handed to an agent (loop guard).
    pub max_steps: u32,
}

/// One menu: a prompt and what each key does.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Spoken prompt listing the options.
    pub prompt: String,
    /// Prompt-library key: the operator's recording replaces the TTS of `prompt`.
    #[serde(default)]
    pub prompt_key: Option<String>,
    /// Key ("0"-"9", "*", "#") → action.
    pub options: BTreeMap<String, Action>,
    /// Tries before `on_exhausted` (default: common `attempts`).
    #[serde(default)]
    pub attempts: Option<u32>,
    /// Wait for the key, ms (default: common `first_digit_timeout_ms`).
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    /// What happens after the last invalid or silent try (default: agent).
    #[serde(default)]
    pub on_exhausted: Option<Action>,
}

/// What a key does.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Go to another node (the current one is remembered for `back`).
    Submenu {
        /// Target node name.
        node: String,
    },
    /// Say a text, then continue as `then` says.
    Say {
        /// The text.
        text: String,
        /// What next (default: repeat the current menu).
        #[serde(default)]
        then: Then,
    },
    /// Read a knowledge-base answer (content.kb-answer), then continue as `then` says.
    Kb {
        /// KB topic key, e.g. "office-hours".
        topic: String,
        /// What next.
        #[serde(default)]
        then: Then,
    },
    /// Blind transfer to a number (an agent's extension or an allowed external number).
    Transfer {
        /// The number.
        target: String,
        /// Said first (default: common transfer text).
        #[serde(default)]
        text: Option<String>,
    },
    /// Queue the caller.
    Enqueue {
        /// Queue name.
        queue: String,
        /// Queue priority.
        #[serde(default)]
        priority: u32,
        /// Said first (default: common transfer text).
        #[serde(default)]
        text: Option<String>,
    },
    /// The common agent queue.
    Agent,
    /// Say goodbye (or `text`) and hang up.
    Hangup {
        /// Said instead of the common goodbye.
        #[serde(default)]
        text: Option<String>,
    },
    /// Back to the previous menu.
    Back,
    /// Say the current menu again.
    Repeat,
    /// Run one of the built-in business flows; the call ends when it returns.
    Flow {
        /// Which flow.
        name: FlowName,
    },
}

/// Where a `say`/`kb` action continues.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Then {
    /// The current menu again.
    #[default]
    Repeat,
    /// The previous menu.
    Back,
    /// The first menu.
    Main,
    /// Goodbye and hang up.
    Hangup,
}

/// Built-in flows a menu key can run (the same logic as the stand-alone plugins).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FlowName {
    /// Bills and payment link (`bill-lookup`).
    BillLookup,
    /// Repair intake (`repair-intake`).
    RepairIntake,
    /// Complaints and suggestions (`complaint`).
    Complaint,
    /// Night service: notice, voicemail, callback (`after-hours`).
    AfterHours,
}

/// The same fields without container defaults, to parse [`DEFAULT_MENU`] (serde's container
/// `default` would call `MenuConfig::default` recursively).
#[derive(Deserialize)]
struct FullMenu {
    start: String,
    nodes: BTreeMap<String, Node>,
    kb_missing_text: String,
    max_steps: u32,
}

impl Default for MenuConfig {
    fn default() -> Self {
        match serde_json::from_str::<FullMenu>(DEFAULT_MENU) {
            Ok(m) => MenuConfig {
                start: m.start,
                nodes: m.nodes,
                kb_missing_text: m.kb_missing_text,
                max_steps: m.max_steps,
            },
            Err(_) => MenuConfig {
                start: "main".into(),
                nodes: BTreeMap::new(),
                kb_missing_text: String::new(),
                max_steps: 30,
            },
        }
    }
}

/// The default property-hotline tree (also the documented example).
pub const DEFAULT_MENU: &str = r#"{
  "start": "main",
  "kb_missing_text": "抱歉,暂无该项信息,",
  "max_steps": 30,
  "nodes": {
    "main": {
      "prompt": "查询账单和缴费请按1,故障报修请按2,投诉建议请按3,物业服务信息请按4,人工服务请按0",
      "prompt_key": "main-menu",
      "options": {
        "1": {"action": "flow", "name": "bill-lookup"},
        "2": {"action": "flow", "name": "repair-intake"},
        "3": {"action": "flow", "name": "complaint"},
        "4": {"action": "submenu", "node": "info"},
        "0": {"action": "agent"}
      }
    },
    "info": {
      "prompt": "服务时间请按1,燃气开户请按2,有线电视请按3,返回上级菜单请按星号键,人工服务请按0",
      "options": {
        "1": {"action": "kb", "topic": "office-hours"},
        "2": {"action": "kb", "topic": "gas-account"},
        "3": {"action": "kb", "topic": "cable-tv"},
        "*": {"action": "back"},
        "0": {"action": "agent"}
      }
    }
  }
}"#;

impl MenuConfig {
    /// Checks references and keys, so a broken tree fails the canary instead of a caller.
    pub fn validate(&self) -> Result<(), String> {
        if !self.nodes.contains_key(&self.start) {
            return Err(format!("menu.start '{}' is not a node", self.start));
        }
        for (name, node) in &self.nodes {
            if node.options.is_empty() {
                return Err(format!("menu node '{name}' has no options"));
            }
            for (key, action) in &node.options {
                let ok = key.chars().count() == 1 && key.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#');
                if !ok {
                    return Err(format!("menu node '{name}': key '{key}' is not one of 0-9 * #"));
                }
                check_action(name, action, &self.nodes)?;
            }
            if let Some(a) = &node.on_exhausted {
                check_action(name, a, &self.nodes)?;
            }
        }
        Ok(())
    }
}

fn check_action(node: &str, action: &Action, nodes: &BTreeMap<String, Node>) -> Result<(), String> {
    match action {
        Action::Submenu { node: to } if !nodes.contains_key(to) => {
            Err(format!("menu node '{node}': submenu '{to}' does not exist"))
        }
        Action::Enqueue { queue, .. } if queue.is_empty() => Err(format!("menu node '{node}': empty queue name")),
        Action::Transfer { target, .. } if target.is_empty() => {
            Err(format!("menu node '{node}': empty transfer target"))
        }
        _ => Ok(()),
    }
}

/// Outcome of one action for the menu loop.
enum Next {
    Continue,
    End,
}

impl Ctx<'_> {
    /// Run the menu tree until an action ends the call.
    pub fn run_menu(&mut self, menu: &MenuConfig) -> FlowResult {
        let mut stack = vec![menu.start.clone()];
        for _ in 0..menu.max_steps.max(1) {
            let name = stack.last().cloned().unwrap_or_else(|| menu.start.clone());
            let Some(node) = menu.nodes.get(&name) else {
                log::error(&format!("menu node '{name}' missing"));
                return self.to_agent();
            };
            let c = &self.s.common;
            let prompt = match &node.prompt_key {
                Some(key) => Prompt::new().named(key.as_str(), node.prompt.as_str()),
                None => Prompt::from(node.prompt.as_str()),
            };
            let collect = Collect::digits(1)
                .timeout_ms(node.timeout_ms.unwrap_or(c.first_digit_timeout_ms))
                .barge_in_if(c.barge_in);
            let ask = Ask::new(prompt, collect)
                .keys(node.options.keys().cloned())
                .attempts(node.attempts.unwrap_or(c.attempts))
                .on_invalid(c.invalid_text.as_str())
                .on_timeout(c.no_input_text.as_str());
            let action = match self.call.ask(ask)? {
                Ok(key) => {
                    self.call.mark(&format!("{name}:{key}"));
                    node.options.get(&key).cloned().unwrap_or(Action::Agent)
                }
                Err(miss) => {
                    let why = if miss == Miss::Timeout { "timeout" } else { "invalid" };
                    self.call.mark(&format!("{name}:{why}"));
                    node.on_exhausted.clone().unwrap_or(Action::Agent)
                }
            };
            match self.act(menu, &action, &mut stack)? {
                Next::Continue => {}
                Next::End => return Ok(()),
            }
        }
        log::warn("menu step limit reached");
        self.to_agent()
    }

    fn act(&mut self, menu: &MenuConfig, action: &Action, stack: &mut Vec<String>) -> FlowResult<Next> {
        let c = self.s.common.clone();
        match action {
            Action::Submenu { node } => stack.push(node.clone()),
            Action::Say { text, then } => {
                self.call.say(text.as_str())?;
                return self.then(*then, stack);
            }
            Action::Kb { topic, then } => {
                match content::kb_answer(topic) {
                    Some(answer) => self.call.say(answer)?,
                    None => self.call.say(menu.kb_missing_text.as_str())?,
                }
                return self.then(*then, stack);
            }
            Action::Back => {
                if stack.len() > 1 {
                    stack.pop();
                }
            }
            Action::Repeat => {}
            Action::Transfer { target, text } => {
                self.call.say(text.as_deref().unwrap_or(&c.transfer_text))?;
                if let Err(e) = self.call.transfer(target) {
                    if e.is_hangup() {
                        return Err(e);
                    }
                    log::warn(&format!("transfer to {target} failed: {e}; queueing instead"));
                    self.enqueue(&c.agent_queue, c.agent_priority)?;
                }
                return Ok(Next::End);
            }
            Action::Enqueue { queue, priority, text } => {
                self.to_agent_at(text.as_deref().unwrap_or(&c.transfer_text), queue, *priority)?;
                return Ok(Next::End);
            }
            Action::Agent => {
                self.to_agent()?;
                return Ok(Next::End);
            }
            Action::Hangup { text } => {
                match text {
                    Some(t) => {
                        self.call.say(t.as_str())?;
                        self.call.hangup();
                    }
                    None => self.goodbye()?,
                }
                return Ok(Next::End);
            }
            Action::Flow { name } => {
                self.run_flow(*name)?;
                return Ok(Next::End);
            }
        }
        Ok(Next::Continue)
    }

    fn then(&mut self, then: Then, stack: &mut Vec<String>) -> FlowResult<Next> {
        match then {
            Then::Repeat => {}
            Then::Back => {
                if stack.len() > 1 {
                    stack.pop();
                }
            }
            Then::Main => stack.truncate(1),
            Then::Hangup => {
                self.goodbye()?;
                return Ok(Next::End);
            }
        }
        Ok(Next::Continue)
    }

    /// Run a built-in flow by name.
    pub fn run_flow(&mut self, name: FlowName) -> FlowResult {
        match name {
            FlowName::BillLookup => self.bill_lookup(),
            FlowName::RepairIntake => self.repair_intake(),
            FlowName::Complaint => self.complaint(),
            FlowName::AfterHours => self.after_hours(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tree_parses_and_validates() {
        let m = MenuConfig::default();
        assert_eq!(m.nodes.len(), 2, "default menu JSON must parse");
        m.validate().unwrap();
        assert_eq!(m.nodes["main"].options["1"], Action::Flow { name: FlowName::BillLookup });
    }

    #[test]
    fn validation_names_the_problem() {
        let mut m = MenuConfig::default();
        m.nodes.get_mut("main").unwrap().options.insert("9".into(), Action::Submenu { node: "nope".into() });
        assert!(m.validate().unwrap_err().contains("submenu 'nope'"));
        let mut m = MenuConfig::default();
        m.nodes.get_mut("main").unwrap().options.insert("12".into(), Action::Agent);
        assert!(m.validate().unwrap_err().contains("key '12'"));
        let m: MenuConfig = serde_json::from_str(r#"{"start":"x"}"#).unwrap();
        assert!(m.validate().unwrap_err().contains("menu.start"));
    }

    #[test]
    fn actions_parse_from_json_and_reject_unknown_fields() {
        let a: Action = serde_json::from_str(r#"{"action":"say","text":"hi","then":"hangup"}"#).unwrap();
        assert_eq!(a, Action::Say { text: "hi".into(), then: Then::Hangup });
        let a: Action = serde_json::from_str(r#"{"action":"enqueue","queue":"billing"}"#).unwrap();
        assert_eq!(a, Action::Enqueue { queue: "billing".into(), priority: 0, text: None });
        assert!(serde_json::from_str::<Action>(r#"{"action":"say","text":"x","oops":1}"#).is_err());
        assert!(serde_json::from_str::<Action>(r#"{"action":"jump"}"#).is_err());
    }
}
