//! Operator-managed content: announcements (自动通告) and knowledge-base answers.

use crate::bindings::inbound::courtyard::flow::content as raw;

/// Announcements valid today for an estate (or for all estates), newest first.
pub fn announcements(estate_id: Option<&str>) -> Vec<String> {
    raw::announcements(estate_id)
}

/// The spoken answer for a knowledge-base topic, if any.
pub fn kb_answer(topic: &str) -> Option<String> {
    raw::kb_answer(topic)
}
