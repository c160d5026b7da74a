//! E-mail through an SMTP relay (lettre, tokio, rustls).
//!
//! The relay's reply classifies a failure: a 5xx SMTP reply (unknown mailbox, relaying denied)
//! is permanent; connection problems and 4xx replies are transient and retried.

use super::{Channel, DeliveryError, Outbound};
use crate::OrdersError;
use crate::config::{EmailConfig, SmtpSecurity};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// The e-mail channel.
pub struct EmailChannel {
    from: Mailbox,
    subject: String,
    mailer: AsyncSmtpTransport<Tokio1Executor>,
}

impl EmailChannel {
    /// Build the SMTP transport (no connection is made until the first message).
    pub fn new(cfg: EmailConfig) -> Result<EmailChannel, OrdersError> {
        let bad = |e: String| OrdersError::Config(format!("orders.email: {e}"));
        let from: Mailbox = cfg.from.parse().map_err(|e| bad(format!("from '{}': {e}", cfg.from)))?;
        let builder = match cfg.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host).map_err(|e| bad(e.to_string()))?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host).map_err(|e| bad(e.to_string()))?,
        };
        let mut builder = builder.port(cfg.port).timeout(Some(Duration::from_millis(cfg.timeout_ms)));
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(EmailChannel { from, subject: cfg.subject, mailer: builder.build() })
    }
}

#[async_trait::async_trait]
impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }
    async fn send(&self, msg: &Outbound<'_>) -> Result<(), DeliveryError> {
        let to: Mailbox =
            msg.to.parse().map_err(|e| DeliveryError::Permanent(format!("'{}' is not an e-mail address: {e}", msg.to)))?;
        let subject = match msg.order_id {
            Some(o) => format!("{} {o}", self.subject),
            None => self.subject.clone(),
        };
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@courtyard>", msg.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(msg.text.to_string())
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the message: {e}")))?;
        match self.mailer.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(DeliveryError::Transient(format!("SMTP: {e}"))),
        }
    }
}
