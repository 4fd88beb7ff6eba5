use super::{db, CliResult};
use crate::output;
use ctwiz_core::access::{Grant, Role, Scope, ScopeKind, User};
use ctwiz_core::ids::{ClinicPin, Email, Username};
use ctwiz_store::SqliteStore;
use ctwiz_store::{accounts, OrgStore, UserStore};
use std::path::Path;

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Create an account and print its one-time temporary password.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Full name (defaults to the username).
        #[arg(long)]
        name: Option<String>,
        /// Access type, e.g. clinic-access, primary-coordinator, school-nurse, health-department, state.
        #[arg(long)]
        role: String,
        /// Clinic PIN, for clinic roles.
        #[arg(long)]
        clinic: Option<String>,
        /// Jurisdiction of the health-department role: a county, or a health department
        /// or district by name (`ctwiz jurisdictions list`).
        #[arg(long, alias = "jurisdiction")]
        county: Option<String>,
    },
    /// List accounts and their grants.
    List,
}

pub fn run(path: &Path, c: UserCommand) -> CliResult {
    let store = db::open(path)?;
    match c {
        UserCommand::Add {
            username,
            email,
            name,
            role,
            clinic,
            county,
        } => {
            let role = Role::parse(&role)?;
            let scope = scope_for(&store, role, clinic.as_deref(), county.as_deref())?;
            let username = Username::new(&username)?;
            let mut user = User::new(
                username.clone(),
                name.as_deref().unwrap_or(username.as_str()),
                Email::new(&email)?,
            )?;
            user.grant(Grant::new(role, scope)?);
            let (id, temp) = accounts::create_with_temporary_password(&store, &user)?;
            println!(
                "created user {} (id {id}) as {}",
                user.username,
                role.label()
            );
            println!("one-time temporary password (shown once; must be changed at first sign-in): {temp}");
        }
        UserCommand::List => {
            let mut t = output::table(&["Username", "Name", "E-mail", "Status", "Access"]);
            for u in store.users()? {
                let grants = u
                    .grants
                    .iter()
                    .map(|g| match &g.scope {
                        Scope::Clinic(p) => format!("{} @ {p}", g.role.key()),
                        Scope::Jurisdiction(c) => format!("{} @ {c}", g.role.key()),
                        Scope::State => g.role.key().to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                t.add_row(vec![
                    u.username.to_string(),
                    u.full_name,
                    u.email.to_string(),
                    format!("{:?}", u.status),
                    grants,
                ]);
            }
            println!("{t}");
        }
    }
    Ok(())
}

/// The scope a new grant applies to, checked against the registered clinics.
pub fn scope_for(
    store: &SqliteStore,
    role: Role,
    clinic: Option<&str>,
    county: Option<&str>,
) -> CliResult<Scope> {
    Ok(match role.scope_kind() {
        ScopeKind::Clinic => {
            let pin = ClinicPin::new(
                clinic.ok_or_else(|| format!("role {} needs --clinic PIN", role.key()))?,
            )?;
            if store.clinic(&pin)?.is_none() {
                let known: Vec<String> = store
                    .clinics()?
                    .into_iter()
                    .map(|c| c.pin.to_string())
                    .collect();
                return Err(format!(
                    "unknown clinic {pin}; registered clinics: {}",
                    if known.is_empty() {
                        "none (add one with `ctwiz clinic add`)".to_string()
                    } else {
                        known.join(", ")
                    }
                )
                .into());
            }
            Scope::Clinic(pin)
        }
        ScopeKind::Jurisdiction => Scope::Jurisdiction(ctwiz_store::usecase::places::jurisdiction(
            store,
            county.ok_or_else(|| format!("role {} needs --county NAME", role.key()))?,
        )?),
        ScopeKind::State => Scope::State,
    })
}
