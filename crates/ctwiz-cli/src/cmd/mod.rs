//! One module per subcommand.

pub mod assess;
pub mod bench;
pub mod clinic;
pub mod db;
pub mod demo;
pub mod forecast;
pub mod hl7;
pub mod inventory;
pub mod letters;
pub mod patient;
pub mod report;
pub mod seed;
pub mod serve;
pub mod user;

/// The CLI's error type: every library error prints as a sentence.
pub type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The name recorded in the audit log for CLI actions.
pub fn actor() -> String {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}")
}
