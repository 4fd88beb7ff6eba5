//! Delivery of the e-mail outbox over SMTP, when a relay is configured. Without one, mail
//! stays in the outbox for state users to read and forward (so ctwiz runs with no mail server).
//!
//! Secrets (temporary passwords) are never written to the outbox: the stored message holds
//! [`WITHHELD`] in their place and the secret stays in this process's memory
//! ([`AppState`]) until the message is delivered, then is forgotten. A state user reading
//! the outbox of a server without a relay sees it while it is held; after a restart it is
//! gone and the message says how to get a new one.

use crate::error::AppError;
use crate::state::AppState;
use chrono::NaiveDateTime;
use ctwiz_core::ids::Email;
use ctwiz_store::web::{OutboxEmail, WebStore};
use ctwiz_store::SqliteStore;
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

impl SmtpConfig {
    /// Checks the relay and the sender before anything is queued for them.
    pub fn new(relay: &str, from: &str) -> Result<SmtpConfig, String> {
        let (host, port) = SmtpConfig::parse_relay(relay)?;
        SmtpConfig::check_sender(from)?;
        Ok(SmtpConfig {
            host,
            port,
            from: from.to_string(),
        })
    }

    /// A relay written `HOST:PORT`.
    pub fn parse_relay(relay: &str) -> Result<(String, u16), String> {
        relay
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim(), p.parse::<u16>().ok()?)))
            .filter(|(h, port)| !h.is_empty() && !h.contains(char::is_whitespace) && *port > 0)
            .map(|(h, port)| (h.to_string(), port))
            .ok_or_else(|| format!("SMTP relay {relay:?}: expected HOST:PORT, e.g. 127.0.0.1:25"))
    }

    /// A sender address as mail carries it: `ctwiz@dph.example.org` or
    /// `CT WiZ <ctwiz@dph.example.org>`.
    pub fn check_sender(from: &str) -> Result<(), String> {
        from.parse::<Mailbox>()
            .map(|_| ())
            .map_err(|e| format!("sender address {from:?}: {e}"))
    }
}

/// What the outbox stores where a message's secret goes.
pub const WITHHELD: &str = "[withheld from the outbox: sent by e-mail only, never stored]";

/// What a message says instead when the server restarted before sending it.
const LOST: &str = "(no longer available: the server restarted before this message was sent; use \"Forgot your password?\" or ask the DPH help desk for a new one)";

/// Queues an e-mail whose `body` holds [`WITHHELD`] where `secret` goes; the secret is kept
/// in memory only.
pub(crate) fn queue_with_secret(
    state: &AppState,
    s: &SqliteStore,
    to: &Email,
    subject: &str,
    body: &str,
    secret: String,
    now: NaiveDateTime,
) -> ctwiz_store::Result<i64> {
    let id = s.queue_email(to, subject, body, now)?;
    state.hold_secret(id, secret);
    Ok(id)
}

/// The text of a queued message as it is sent: its secret filled in from memory.
pub(crate) fn deliverable_body(state: &AppState, mail: &OutboxEmail) -> String {
    if !mail.body.contains(WITHHELD) {
        return mail.body.clone();
    }
    let secret = state
        .held_secret(mail.id)
        .unwrap_or_else(|| LOST.to_string());
    mail.body.replace(WITHHELD, &secret)
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
    let held = state.clone();
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
                    .body(deliverable_body(&held, &mail))
                    .map_err(|e| AppError::Internal(format!("building mail {}: {e}", mail.id)))?;
                if let Err(e) = transport.send(&msg) {
                    tracing::warn!("SMTP relay {relay}: {e}; will retry");
                    break;
                }
                s.mark_email_sent(mail.id, crate::session::now())?;
                held.forget_secret(mail.id);
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
