//! Delivery of the text-message outbox (portal verification codes) through an HTTP SMS
//! gateway, when one is configured. Without one, texts stay in the outbox, where the
//! state team sees them (like e-mail without an SMTP relay), so ctwiz runs with no
//! gateway account.
//!
//! The adapter speaks the shape most gateways accept or a small relay can translate:
//! `POST URL` with `{"to": "+1NXXNXXXXXX", "body": "..."}` and, when a token is set,
//! `Authorization: Bearer TOKEN`; any 2xx answer counts as sent. Plain HTTP, as to a local
//! relay (like the SMTP relay): TLS to a provider is the relay's job.

use crate::error::AppError;
use crate::state::AppState;
use ctwiz_store::portal::PortalStore;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// An HTTP SMS gateway (or a local relay to one).
#[derive(Clone)]
pub struct SmsGateway {
    /// e.g. `http://127.0.0.1:9090/send`.
    pub url: hyper::Uri,
    pub token: Option<String>,
}

/// Never prints the token (configurations are logged and printed).
impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsGateway")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "********"))
            .finish()
    }
}

impl SmsGateway {
    /// Checks the gateway address: an `http://host[:port]/path` URL.
    pub fn new(url: &str, token: Option<String>) -> Result<SmsGateway, String> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| format!("SMS gateway {url:?} is not a URL: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "SMS gateway {url:?}: give an http://host[:port]/path address (a local relay terminates TLS)"
            ));
        }
        Ok(SmsGateway { url: uri, token })
    }
}

/// The JSON a gateway receives for one text.
fn payload(to: &str, body: &str) -> String {
    serde_json::json!({ "to": format!("+1{to}"), "body": body }).to_string()
}

/// Sends queued texts through the gateway and marks each sent. Returns how many went out;
/// stops at the first failure so the rest is retried on the next round.
pub async fn deliver_texts(state: &AppState, gw: &SmsGateway) -> Result<usize, AppError> {
    let queued = state.db(|s| Ok(s.unsent_texts(50)?)).await?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut sent = 0;
    for text in queued {
        let mut req = hyper::Request::post(gw.url.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json");
        if let Some(t) = &gw.token {
            req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .body(Full::new(Bytes::from(payload(&text.to, &text.body))))
            .map_err(|e| AppError::Internal(format!("building text {}: {e}", text.id)))?;
        let answer = tokio::time::timeout(Duration::from_secs(20), client.request(req)).await;
        match answer {
            Ok(Ok(res)) if res.status().is_success() => {
                // Drain the body so the connection can be reused.
                let _ = res.into_body().collect().await;
                let id = text.id;
                state
                    .db(move |s| Ok(s.mark_text_sent(id, crate::session::now())?))
                    .await?;
                sent += 1;
            }
            Ok(Ok(res)) => {
                tracing::warn!(
                    "SMS gateway {} answered {}; will retry",
                    gw.url,
                    res.status()
                );
                break;
            }
            Ok(Err(e)) => {
                tracing::warn!("SMS gateway {}: {e}; will retry", gw.url);
                break;
            }
            Err(_) => {
                tracing::warn!("SMS gateway {} timed out; will retry", gw.url);
                break;
            }
        }
    }
    Ok(sent)
}

/// Runs [`deliver_texts`] every `every` until the process ends.
pub async fn run_delivery(state: AppState, gw: SmsGateway, every: Duration) {
    loop {
        match deliver_texts(&state, &gw).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("sent {n} text(s) via {}", gw.url),
            Err(e) => tracing::warn!("text delivery: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateways_are_http_urls_and_numbers_go_out_in_e164() {
        assert!(SmsGateway::new("http://127.0.0.1:9090/send", None).is_ok());
        assert!(SmsGateway::new("ftp://x/y", None).is_err());
        assert!(SmsGateway::new("not a url", None).is_err());
        let p: serde_json::Value =
            serde_json::from_str(&payload("8605550142", "code 123456")).unwrap();
        assert_eq!(p["to"], "+18605550142");
        assert_eq!(p["body"], "code 123456");
    }
}
