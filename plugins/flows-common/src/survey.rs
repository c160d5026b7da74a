//! Satisfaction survey (满意度回访, outbound): after a work order is closed, ask for a 1–5 score,
//! offer a voice comment, and write both to the order; a low score reopens it as a child order
//! (the host's `work-orders.rate` decides) and the caller hears the new number.

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

use crate::Ctx;

/// Texts and settings of the survey (config section `survey`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurveyConfig {
    /// Campaign parameter holding the work-order number.
    pub order_param: String,
    /// Opening: `{id}` read digit by digit.
    pub intro_text: String,
    /// The score question (keys 1–5).
    pub score_prompt: String,
    /// Offers a voice comment (1 yes, 2 no).
    pub comment_prompt: String,
    /// Said before the comment recording.
    pub comment_record_prompt: String,
    /// Longest comment, seconds.
    pub record_max_seconds: u32,
    /// Said after a rating that did not reopen the order.
    pub thanks_text: String,
    /// Said when a low score reopened the order: `{id}` is the child order.
    pub reopened_text: String,
    /// Said when no valid score was given.
    pub no_score_text: String,
    /// Said when the rating could not be stored.
    pub failed_text: String,
}

impl Default for SurveyConfig {
    fn default() -> Self {
        SurveyConfig {
            order_param: "order_id".into(),
            intro_text: "您好,这里是幸福物业客服中心,您的工单{id}已处理完毕,耽误您一分钟做个满意度回访。".into(),
            score_prompt: "非常满意请按5,满意请按4,一般请按3,不满意请按2,非常不满意请按1".into(),
            comment_prompt: "如需补充意见请按1,无需补充请按2".into(),
            comment_record_prompt: "请在提示音后说出您的意见,说完请按井号键".into(),
            record_max_seconds: 60,
            thanks_text: "感谢您的评价,祝您生活愉快,再见".into(),
            reopened_text: "非常抱歉给您带来不便,我们已重新安排处理,新工单号为{id},稍后会有专人与您联系,再见".into(),
            no_score_text: "没有收到您的评分,感谢您的接听,再见".into(),
            failed_text: "抱歉,评价登记失败,客服人员会再次与您联系,再见".into(),
        }
    }
}

impl Ctx<'_> {
    /// The survey; returns the outcome: `rated`, `reopened`, `no-score` or `error`.
    pub fn survey(&mut self, target: &Target) -> FlowResult<String> {
        let cfg = self.s.survey.clone();
        let order_id = target
            .param(&cfg.order_param)
            .ok_or_else(|| FlowError::msg(format!("campaign target has no '{}' parameter", cfg.order_param)))?
            .to_string();
        self.call.set_var("work_order", &order_id);
        self.call.say(Prompt::template(&cfg.intro_text, &[("id", digits(order_id.as_str()).into())]))?;
        let score = match self.ask_key(cfg.score_prompt.as_str(), &["1", "2", "3", "4", "5"])? {
            Ok(k) => k.parse::<u8>().unwrap_or(3),
            Err(_) => {
                self.call.mark("survey:no-score");
                self.call.say(cfg.no_score_text.as_str())?;
                self.call.hangup();
                return Ok("no-score".into());
            }
        };
        self.call.mark(&format!("survey:{score}"));
        let comment = match self.ask_key(cfg.comment_prompt.as_str(), &["1", "2"])? {
            Ok(k) if k == "1" => {
                self.call.say(cfg.comment_record_prompt.as_str())?;
                let rec = self.call.record(Record::new().max_seconds(cfg.record_max_seconds))?;
                (rec.duration_ms > 0 && !rec.id.is_empty()).then_some(rec.id)
            }
            _ => None,
        };
        let (text, outcome) = match work_orders::rate(&order_id, score, comment.as_deref()) {
            Ok(Some(child)) => {
                self.call.set_var("child_order", &child);
                (Prompt::template(&cfg.reopened_text, &[("id", digits(child.as_str()).into())]), "reopened")
            }
            Ok(None) => (Prompt::from(cfg.thanks_text.as_str()), "rated"),
            Err(e) => {
                log::warn(&format!("work-orders.rate failed: {}", service_error_text(&e)));
                (Prompt::from(cfg.failed_text.as_str()), "error")
            }
        };
        self.call.say(text)?;
        self.call.hangup();
        Ok(outcome.into())
    }
}
