//! Messages outside the call: SMS, e-mail, webhook, the on-duty engineer.

use crate::bindings::inbound::courtyard::flow::notify as raw;
pub use crate::bindings::inbound::courtyard::flow::notify::Channel;
pub use crate::bindings::inbound::courtyard::flow::types::ServiceError;

/// Queue a message on a channel; returns the message id.
pub fn send(channel: Channel, to: &str, text: &str) -> Result<String, ServiceError> {
    raw::send(channel, to, text)
}

/// Send an SMS.
pub fn sms(to: &str, text: &str) -> Result<String, ServiceError> {
    raw::send(Channel::Sms, to, text)
}

/// Alert the on-duty engineer (`to` names the rota or person, per operator setup).
pub fn on_duty(to: &str, text: &str) -> Result<String, ServiceError> {
    raw::send(Channel::OnDuty, to, text)
}
