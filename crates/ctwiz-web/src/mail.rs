//! Delivery of the e-mail outbox over SMTP, when a relay is configured. Without one, mail
//! stays in the outbox for state users to read and forward (so ctwiz runs with no mail server).

use crate::error::AppError;
use crate::state::AppState;
use ctwiz_store::web::WebStore;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// An SMTP relay that accepts mail from this host (plain SMTP, as to a local relay).
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// The sender address, e.g. `ctwiz@dph.example.org`.
    pub from: String,
}

/// Sends queued mail through the relay and marks each message sent. Returns how many went
/// out; stops at the first failure so the rest is retried on the next round.
pub async fn deliver_outbox(state: &AppState, cfg: &SmtpConfig) -> Result<usize, AppError> {
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|e| AppError::BadRequest(format!("sender address {:?}: {e}", cfg.from)))?;
    let transport = SmtpTransport::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let relay = format!("{}:{}", cfg.host, cfg.port);
    state
        .db(move |s| {
            let mut sent = 0;
            for mail in s.unsent_emails(50)? {
                let to: Mailbox = match mail.to.parse() {
                    Ok(to) => to,
                    Err(e) => {
                        tracing::warn!(
                            "outbox mail {} has a bad address {:?}: {e}",
                            mail.id,
                            mail.to
                        );
                        continue;
                    }
                };
                let msg = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    .body(mail.body.clone())
                    .map_err(|e| AppError::Internal(format!("building mail {}: {e}", mail.id)))?;
                if let Err(e) = transport.send(&msg) {
                    tracing::warn!("SMTP relay {relay}: {e}; will retry");
                    break;
                }
                s.mark_email_sent(mail.id, crate::session::now())?;
                sent += 1;
            }
            Ok(sent)
        })
        .await
}

/// Runs [`deliver_outbox`] every `every` until the process ends.
pub async fn run_delivery(state: AppState, cfg: SmtpConfig, every: Duration) {
    loop {
        match deliver_outbox(&state, &cfg).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("sent {n} e-mail(s) via {}:{}", cfg.host, cfg.port),
            Err(e) => tracing::warn!("mail delivery: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}
