//! Work orders (工单), their lifecycle state machine, and callback tasks (回访/回呼).

use super::Record;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// 报修 / 投诉 / 建议 / 咨询.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// 报修.
    Repair,
    /// 投诉.
    Complaint,
    /// 建议.
    Suggestion,
    /// 咨询.
    Inquiry,
}

impl Category {
    /// Parse an English key or the Chinese label.
    pub fn parse(s: &str) -> Option<Category> {
        Some(match s.trim() {
            "repair" | "报修" => Category::Repair,
            "complaint" | "投诉" => Category::Complaint,
            "suggestion" | "建议" => Category::Suggestion,
            "inquiry" | "咨询" => Category::Inquiry,
            _ => return None,
        })
    }
    /// Chinese label shown to agents.
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::Repair => "报修",
            Category::Complaint => "投诉",
            Category::Suggestion => "建议",
            Category::Inquiry => "咨询",
        }
    }
}

/// Urgency; `urgent` is for emergencies (gas leak, flooding, elevator entrapment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    /// Low.
    Low,
    /// Normal.
    Normal,
    /// High (complaints).
    High,
    /// Emergency.
    Urgent,
}

/// Lifecycle state of a work order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OrderState {
    /// Just created.
    New,
    /// Assigned to someone.
    Dispatched,
    /// The assignee accepted it.
    Accepted,
    /// Work started.
    InProgress,
    /// Work finished, awaiting callback.
    Done,
    /// Being called back (回访).
    Callback,
    /// Closed after callback.
    Closed,
    /// Cancelled (duplicate, caller withdrew).
    Cancelled,
}

impl OrderState {
    /// All states, for indexes and reports.
    pub const ALL: [OrderState; 8] = [
        OrderState::New,
        OrderState::Dispatched,
        OrderState::Accepted,
        OrderState::InProgress,
        OrderState::Done,
        OrderState::Callback,
        OrderState::Closed,
        OrderState::Cancelled,
    ];

    /// The wire name, e.g. "in-progress" (also the WIT `order.state` string).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::New => "new",
            OrderState::Dispatched => "dispatched",
            OrderState::Accepted => "accepted",
            OrderState::InProgress => "in-progress",
            OrderState::Done => "done",
            OrderState::Callback => "callback",
            OrderState::Closed => "closed",
            OrderState::Cancelled => "cancelled",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the order still needs work (shown as "open" on screen-pop).
    pub fn is_open(self) -> bool {
        !matches!(self, OrderState::Closed | OrderState::Cancelled)
    }

    /// Validate a state change; the error says why it is refused.
    pub fn check_transition(self, to: OrderState) -> Result<(), String> {
        use OrderState::*;
        let ok = matches!(
            (self, to),
            (New, Dispatched)
                | (Dispatched, Dispatched) // 二次指派: re-dispatch down the chain
                | (Accepted, Dispatched)
                | (Dispatched, Accepted)
                | (Accepted, InProgress)
                | (InProgress, Done)
                | (Done, Callback)
                | (Callback, Closed)
                | (New | Dispatched | Accepted | InProgress, Cancelled)
        );
        if ok {
            return Ok(());
        }
        let why = match self {
            Closed => "the order is closed; reopen it as a child order instead".to_string(),
            Cancelled => "the order is cancelled; create a new order instead".to_string(),
            _ => {
                let allowed: Vec<&str> = OrderState::ALL
                    .into_iter()
                    .filter(|t| self.check_transition_quiet(*t))
                    .map(|t| t.as_str())
                    .collect();
                format!("allowed from {}: {}", self.as_str(), allowed.join(", "))
            }
        };
        Err(format!("illegal transition {} → {}: {why}", self.as_str(), to.as_str()))
    }

    fn check_transition_quiet(self, to: OrderState) -> bool {
        use OrderState::*;
        matches!(
            (self, to),
            (New, Dispatched)
                | (Dispatched, Dispatched)
                | (Accepted, Dispatched)
                | (Dispatched, Accepted)
                | (Accepted, InProgress)
                | (InProgress, Done)
                | (Done, Callback)
                | (Callback, Closed)
                | (New | Dispatched | Accepted | InProgress, Cancelled)
        )
    }
}

/// What a caller (plugin, agent, API) supplies to open a work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewOrder {
    /// Category.
    pub category: Category,
    /// Finer kind, e.g. "water", "elevator".
    #[serde(default)]
    pub subcategory: Option<String>,
    /// Estate.
    #[serde(default)]
    pub estate_id: Option<String>,
    /// Unit.
    #[serde(default)]
    pub unit_id: Option<String>,
    /// Number the caller can be reached at.
    pub caller: String,
    /// What is wrong.
    pub description: String,
    /// Recording attached (voice description).
    #[serde(default)]
    pub recording_id: Option<String>,
    /// Urgency.
    pub priority: Priority,
    /// The order this one reopens.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Call that created it, when created during a call.
    #[serde(default)]
    pub call_id: Option<String>,
}

/// A work order as stored. Its history lives under separate keys, written in the same
/// transaction as every state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkOrder {
    /// Readable number `YYMMDD` + daily sequence, digits only, e.g. "2611270007".
    pub id: String,
    /// Category.
    pub category: Category,
    /// Finer kind.
    pub subcategory: Option<String>,
    /// Estate.
    pub estate_id: Option<String>,
    /// Unit.
    pub unit_id: Option<String>,
    /// Caller number.
    pub caller: String,
    /// Description.
    pub description: String,
    /// Attached recording.
    pub recording_id: Option<String>,
    /// Urgency.
    pub priority: Priority,
    /// Current state.
    pub state: OrderState,
    /// Current assignee (user or technician name).
    pub assignee: Option<String>,
    /// Creation time.
    pub created_at: DateTime<FixedOffset>,
    /// Last change.
    pub updated_at: DateTime<FixedOffset>,
    /// Parent when this reopens an earlier order.
    pub parent_id: Option<String>,
    /// Child orders opened from this one.
    #[serde(default)]
    pub children: Vec<String>,
    /// Satisfaction score 1–5 from the callback.
    #[serde(default)]
    pub rating: Option<u8>,
    /// Voice comment left with the rating.
    #[serde(default)]
    pub rating_recording_id: Option<String>,
    /// Call that created it.
    #[serde(default)]
    pub call_id: Option<String>,
    /// Number of history entries (the next entry's sequence number).
    pub history_len: u32,
}

impl Record for WorkOrder {
    const PREFIX: &'static str = "o/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// One entry of a work order's history: who moved it where and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Transition {
    /// Order number.
    pub order_id: String,
    /// Position in the history, 0 = creation.
    pub seq: u32,
    /// Previous state (none for creation).
    pub from: Option<OrderState>,
    /// New state.
    pub to: OrderState,
    /// Who did it (user name, "plugin:<name>", "system").
    pub actor: String,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Free text (assignee, cancel reason, rating…).
    pub note: Option<String>,
}

/// A task for an agent to call a number back (after-hours voicemail, queue callback, 回访).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallbackTask {
    /// Id, "cb" + sequence.
    pub id: String,
    /// Number to call.
    pub number: String,
    /// Why.
    pub reason: String,
    /// Voicemail left by the caller.
    pub recording_id: Option<String>,
    /// Call back by then.
    pub due: DateTime<FixedOffset>,
    /// Creation time.
    pub created_at: DateTime<FixedOffset>,
    /// Work order this callback belongs to (回访 after close).
    #[serde(default)]
    pub order_id: Option<String>,
    /// Whether it was done.
    #[serde(default)]
    pub done: bool,
    /// Result text.
    #[serde(default)]
    pub outcome: Option<String>,
}

impl Record for CallbackTask {
    const PREFIX: &'static str = "cb/";
    fn key(&self) -> String {
        self.id.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_is_checked() {
        use OrderState::*;
        let legal = [
            (New, Dispatched),
            (Dispatched, Dispatched),
            (Accepted, Dispatched),
            (Dispatched, Accepted),
            (Accepted, InProgress),
            (InProgress, Done),
            (Done, Callback),
            (Callback, Closed),
            (New, Cancelled),
            (Dispatched, Cancelled),
            (Accepted, Cancelled),
            (InProgress, Cancelled),
        ];
        for from in OrderState::ALL {
            for to in OrderState::ALL {
                let r = from.check_transition(to);
                assert_eq!(r.is_ok(), legal.contains(&(from, to)), "{from:?} -> {to:?}: {r:?}");
            }
        }
        let e = Closed.check_transition(New).unwrap_err();
        assert!(e.contains("child order"), "{e}");
        let e = New.check_transition(Done).unwrap_err();
        assert!(e.contains("dispatched"), "{e}");
    }
}
