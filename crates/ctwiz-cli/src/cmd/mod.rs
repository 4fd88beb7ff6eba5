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

/// Whoever runs the CLI on the database file: the statewide operator (reading the file
/// needs no grant), named after the login so audit rows say who it was.
pub fn operator(channel: ctwiz_core::actor::Channel) -> ctwiz_core::actor::Actor {
    use ctwiz_core::access::{Grant, Role, Scope, User};
    use ctwiz_core::ids::{Email, Username};
    let who = std::env::var("USER").unwrap_or_default();
    let name = Username::new(&who)
        .or_else(|_| Username::new("operator"))
        .expect("\"operator\" is a valid username");
    let mut user = User::new(
        name,
        "CLI operator",
        Email::new("operator@localhost.invalid").expect("a valid address"),
    )
    .expect("a valid user");
    user.grant(Grant::new(Role::StateAdmin, Scope::State).expect("state admin is statewide"));
    ctwiz_core::actor::Actor::new(user, ctwiz_core::actor::Acting::State, channel)
}

/// The name recorded in the audit log for CLI actions.
pub fn actor() -> String {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}")
}
