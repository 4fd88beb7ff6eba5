//! `/metrics` in the Prometheus text format (prometheus-client): HTTP requests and their
//! latency by route, HL7 messages by type and acknowledgment code with their processing
//! lag, and failed sign-ins by door. One registry per process, shared by the web app and
//! the HL7 interface (SOAP, MLLP).

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Hl7Labels {
    message_type: String,
    ack: String,
    door: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DoorLabels {
    door: String,
}

fn seconds_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    hl7_messages: Family<Hl7Labels, Counter>,
    hl7_seconds: Family<DoorLabels, Histogram, fn() -> Histogram>,
    sign_in_failures: Family<DoorLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("ctwiz");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            http_requests.clone(),
        );
        let http_seconds =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                seconds_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            http_seconds.clone(),
        );
        let hl7_messages = Family::<Hl7Labels, Counter>::default();
        registry.register(
            "hl7_messages",
            "HL7 messages processed, by MSH-9 type, acknowledgment code (AA, AE, AR) and door",
            hl7_messages.clone(),
        );
        let hl7_seconds = Family::<DoorLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            seconds_histogram,
        );
        registry.register(
            "hl7_ingest_lag_seconds",
            "Time from a message's arrival to its acknowledgment (stored and committed), by door",
            hl7_seconds.clone(),
        );
        let sign_in_failures = Family::<DoorLabels, Counter>::default();
        registry.register(
            "sign_in_failures",
            "Failed sign-ins (wrong or unknown credentials, locked or disabled accounts), by door",
            sign_in_failures.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_seconds,
            hl7_messages,
            hl7_seconds,
            sign_in_failures,
        }
    }
}

impl Metrics {
    /// One processed HL7 message: its type (`VXU^V04`), acknowledgment code and the
    /// seconds from arrival to answer.
    pub fn hl7_message(&self, door: &str, message_type: &str, ack: &str, seconds: f64) {
        // MSH-9 as sent can be anything: keep the label set small (type^event only).
        let message_type: String = message_type
            .split('^')
            .take(2)
            .collect::<Vec<_>>()
            .join("^")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '^')
            .take(16)
            .collect();
        self.hl7_messages
            .get_or_create(&Hl7Labels {
                message_type,
                ack: ack.to_string(),
                door: door.to_string(),
            })
            .inc();
        self.hl7_seconds
            .get_or_create(&DoorLabels {
                door: door.to_string(),
            })
            .observe(seconds);
    }

    pub fn sign_in_failed(&self, door: &str) {
        self.sign_in_failures
            .get_or_create(&DoorLabels {
                door: door.to_string(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counts and times every request that matched a route (by its pattern, so ids in paths
/// do not make new series).
pub async fn track(
    State(metrics): State<Arc<Metrics>>,
    route: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = route.map_or_else(|| "unmatched".to_string(), |r| r.as_str().to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    metrics
        .http_seconds
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method,
            route,
            status: res.status().as_u16().to_string(),
        })
        .inc();
    res
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<crate::state::AppState>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hl7_messages_are_counted_by_type_and_ack_with_a_bounded_label() {
        let m = Metrics::default();
        m.hl7_message("soap", "VXU^V04^VXU_V04", "AA", 0.02);
        m.hl7_message("soap", "VXU^V04", "AA", 0.03);
        m.hl7_message("mllp", "QBP^Q11^QBP_Q11", "AE", 0.5);
        m.hl7_message("mllp", "<script>^x\"y", "AR", 0.001);
        let text = m.render();
        assert!(
            text.contains(
                "ctwiz_hl7_messages_total{message_type=\"VXU^V04\",ack=\"AA\",door=\"soap\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("message_type=\"QBP^Q11\",ack=\"AE\",door=\"mllp\"} 1"));
        assert!(
            text.contains("message_type=\"script^xy\",ack=\"AR\""),
            "{text}"
        );
        assert!(
            text.contains("ctwiz_hl7_ingest_lag_seconds_count{door=\"soap\"} 2"),
            "{text}"
        );
    }
}
