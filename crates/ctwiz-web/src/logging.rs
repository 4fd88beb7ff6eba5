//! What the server logs, and how: lines on stderr, human-readable or JSON (one object per
//! line), filtered by level.
//!
//! Every HTTP request runs inside a `request` span whose `request_id` field is the
//! `X-Request-Id` of its response, so every line logged while it is handled — in the
//! handler, and in the store work it runs on a blocking thread ([`crate::AppState::db`])
//! — names it. When the request is answered, one line (target `ctwiz::access`) gives its
//! method, route pattern, status and milliseconds. HL7 messages (SOAP and MLLP) run
//! inside an `hl7` span naming the door, the facility and MSH-10, and end with one line
//! (target `ctwiz::hl7`) giving the acknowledgment code.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::fmt;
use std::str::FromStr;
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One readable line per event (the default).
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{s:?} is not a log format (human or json)")),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        })
    }
}

/// The default level: errors, warnings and the info lines (one per request and message).
pub const DEFAULT_LEVEL: &str = "info";

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Which lines are written: a level (`info`), optionally with per-target levels
/// (`info,ctwiz::access=warn`), as `tracing_subscriber::EnvFilter` reads them. A bare
/// word must be a level: the filter would take `inf` for a target name and log nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLevel(String);

impl LogLevel {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn filter(&self) -> EnvFilter {
        EnvFilter::try_new(&self.0).expect("checked when parsed")
    }
}

impl Default for LogLevel {
    fn default() -> Self {
        LogLevel(DEFAULT_LEVEL.into())
    }
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = |why: &str| format!("{s:?} is not a log level: {why}");
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        for directive in s.split(',').map(str::trim) {
            let level = directive.rsplit_once('=').map_or(directive, |(_, l)| l);
            if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
                return Err(bad(&format!(
                    "{level:?} is none of {} (per target: TARGET=LEVEL)",
                    LEVELS.join(", ")
                )));
            }
        }
        EnvFilter::try_new(s).map_err(|e| bad(&e.to_string()))?;
        Ok(LogLevel(s.to_string()))
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Installs the process's log output: stderr, in `format`, at `level`. Does nothing if
/// the program embedding ctwiz already installed a subscriber (its choice wins).
pub fn init(format: LogFormat, level: &LogLevel) {
    use std::io::IsTerminal;
    // Colours only for a person at a terminal; a log file or journal gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(level.filter())
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled (`-` outside of one): in the log lines of the
/// request, on the page of every 500, and in the `X-Request-Id` header of every response.
pub(crate) fn request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| "-".into())
}

/// Middleware around every route: gives the request an id (`X-Request-Id`) and a span
/// carrying it, and logs one line when it is answered.
pub(crate) async fn request_context(req: Request, next: Next) -> Response {
    let id = crate::session::random_token()[..16].to_string();
    // The route pattern, not the path: ids in paths are not logged.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |r| r.as_str().to_string());
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let status = res.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    span.in_scope(|| {
        tracing::info!(
            target: "ctwiz::access",
            method = %method,
            route = %route,
            status,
            ms,
            "{method} {route} {status} {ms} ms"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_formats_parse_and_typos_are_refused() {
        for ok in [
            "info",
            "WARN",
            "warn,ctwiz::access=error",
            "ctwiz_web=debug",
        ] {
            assert!(ok.parse::<LogLevel>().is_ok(), "{ok}");
        }
        for bad in ["", "inf", "info,ctwiz::access=loud", "verbose"] {
            let e = bad.parse::<LogLevel>().expect_err(bad);
            assert!(e.contains("is not a log level"), "{e}");
        }
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert!("xml".parse::<LogFormat>().is_err());
    }
}
