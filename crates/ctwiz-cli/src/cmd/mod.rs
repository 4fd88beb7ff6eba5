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

/// Who a command acts as. Without `--user` (or `CTWIZ_USER`): the local operator, who can
/// read and write the database file anyway, so acts with the state's authority under
/// their login name (`$USER`, sanitized; "operator" if unusable). With it: that ctwiz
/// user, whose grants then apply, acting for their only clinic, their jurisdiction or the
/// state.
pub fn cli_actor(
    store: &ctwiz_store::SqliteStore,
    user: Option<&str>,
) -> CliResult<ctwiz_core::actor::Actor> {
    use ctwiz_core::access::{AccountStatus, Grant, Role, Scope, User};
    use ctwiz_core::actor::{Acting, Actor, Channel};
    use ctwiz_core::ids::{Email, Username};
    use ctwiz_store::{OrgStore, UserStore};
    let Some(name) = user else {
        let login: String = std::env::var("USER")
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .take(64)
            .collect();
        let username = Username::new(&login).or_else(|_| Username::new("operator"))?;
        let mut u = User::new(
            username,
            "Local operator",
            Email::new("operator@localhost.invalid")?,
        )?;
        u.grant(Grant::new(Role::StateAdmin, Scope::State)?);
        return Ok(Actor::new(u, Acting::State, Channel::Cli));
    };
    let account = store
        .account(&Username::new(name)?)?
        .ok_or_else(|| format!("no ctwiz user {name:?}; see `ctwiz user list`"))?;
    let u = account.user;
    if u.status != AccountStatus::Active {
        return Err(format!("user {} is {:?}", u.username, u.status).into());
    }
    let clinics = u.clinics();
    let acting = if u.is_state() {
        Acting::State
    } else if let [pin] = clinics[..] {
        let c = store
            .clinic(pin)?
            .ok_or_else(|| format!("user {}'s clinic {pin} is not registered", u.username))?;
        Acting::Clinic {
            pin: c.pin,
            county: c.county,
        }
    } else if let Some(county) = u.grants.iter().find_map(|g| match g.scope {
        Scope::Jurisdiction(c) => Some(c),
        _ => None,
    }) {
        Acting::Jurisdiction(county)
    } else {
        Acting::Nowhere
    };
    Ok(Actor::new(u, acting, Channel::Cli))
}
