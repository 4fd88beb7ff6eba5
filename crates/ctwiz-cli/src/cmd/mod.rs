//! One module per subcommand.

pub mod assess;
pub mod audit;
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

/// The operator at the terminal as an actor of the use cases: whoever can run `ctwiz` on
/// the database file already holds everything in it, so the CLI acts with state
/// authority, under the login name (audit rows read `cli:<login>`).
pub fn operator() -> CliResult<ctwiz_core::actor::Actor> {
    use ctwiz_core::access::{Grant, Role, Scope, User};
    use ctwiz_core::actor::{Acting, Actor, Channel};
    use ctwiz_core::ids::{Email, Username};
    let login = std::env::var("USER").unwrap_or_default();
    let username = Username::new(&login).or_else(|_| Username::new("operator"))?;
    let mut user = User::new(
        username,
        "ctwiz command line",
        Email::new("operator@localhost.invalid")?,
    )?;
    user.grant(Grant::new(Role::StateAdmin, Scope::State)?);
    Ok(Actor::new(user, Acting::State, Channel::Cli))
}
