//! Complaints and suggestions (投诉建议): record the caller's words, open a high-priority
//! complaint work order (or a normal suggestion), read back the number, offer an agent.

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// Texts and settings of the complaint line (config section `complaint`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplaintConfig {
    /// Ask whether it is a complaint (1) or a suggestion (2) first.
    pub ask_kind: bool,
    /// The complaint/suggestion choice.
    pub kind_prompt: String,
    /// Asks for the spoken content: `{kind}` is 投诉 or 建议.
    pub record_prompt: String,
    /// Longest recording, seconds.
    pub record_max_seconds: u32,
    /// Read-back: `{kind}`, `{id}` (digit by digit).
    pub created_text: String,
    /// The final choice (0 agent, 1 end).
    pub offer_prompt: String,
    /// Queue for the agent option and for failures.
    pub queue: String,
    /// Escalate complaints to urgent instead of high priority.
    pub urgent: bool,
}

impl Default for ComplaintConfig {
    fn default() -> Self {
        ComplaintConfig {
            ask_kind: true,
            kind_prompt: "投诉请按1,建议请按2".into(),
            record_prompt: "请在提示音后说出您的{kind}内容,说完请按井号键".into(),
            record_max_seconds: 120,
            created_text: "您的{kind}已受理,工单号为{id},我们将在24小时内处理并回复您。".into(),
            offer_prompt: "如需人工服务请按0,结束通话请按1".into(),
            queue: "complaint".into(),
            urgent: false,
        }
    }
}

impl Ctx<'_> {
    /// The complaint flow.
    pub fn complaint(&mut self) -> FlowResult {
        self.call.mark("complaint");
        let cfg = self.s.complaint.clone();
        let suggestion = cfg.ask_kind && matches!(self.ask_key(cfg.kind_prompt.as_str(), &["1", "2"])?, Ok(k) if k == "2");
        let (kind, category, priority) = if suggestion {
            ("建议", Category::Suggestion, Priority::Normal)
        } else if cfg.urgent {
            ("投诉", Category::Complaint, Priority::Urgent)
        } else {
            ("投诉", Category::Complaint, Priority::High)
        };
        self.call.mark(if suggestion { "complaint:suggestion" } else { "complaint:complaint" });
        self.call.say(Prompt::template(&cfg.record_prompt, &[("kind", kind.into())]))?;
        let rec = self.call.record(Record::new().max_seconds(cfg.record_max_seconds))?;
        // A recognized caller's unit is attached without asking: complaints are often about
        // neighbours or public areas, not about the caller's own unit.
        let unit = self.resident().and_then(|r| r.unit_ids.first().cloned());
        let mut order = NewOrder::new(category, self.customer(), format!("电话{kind},详见录音"))
            .unit(unit.as_deref())
            .estate(self.call.estate_id())
            .priority(priority);
        if rec.duration_ms > 0 && !rec.id.is_empty() {
            order = order.recording(&rec.id);
        }
        let created = match work_orders::create(order) {
            Ok(o) => o,
            Err(e) => return self.degrade("work-orders.create", &e, Some(&cfg.queue)),
        };
        self.call.set_var("work_order", &created.id);
        self.call.say(Prompt::template(
            &cfg.created_text,
            &[("kind", kind.into()), ("id", digits(created.id.as_str()).into())],
        ))?;
        match self.ask_key(cfg.offer_prompt.as_str(), &["0", "1"])? {
            Ok(k) if k == "0" => {
                self.call.mark("complaint:agent");
                let c = &self.s.common;
                self.to_agent_at(&c.transfer_text, &cfg.queue, c.agent_priority)
            }
            _ => self.goodbye(),
        }
    }
}
