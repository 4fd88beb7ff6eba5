//! One module per subcommand.

pub mod assess;
pub mod audit;
pub mod bench;
pub mod certificate;
pub mod clinic;
pub mod config;
pub mod db;
pub mod demo;
pub mod distribute;
pub mod forecast;
pub mod hl7;
pub mod ingest_bench;
pub mod inventory;
pub mod jurisdictions;
pub mod letters;
pub mod matching;
pub mod onboarding;
pub mod outreach;
pub mod patient;
pub mod report;
pub mod seed;
pub mod serve;
pub mod user;

/// The CLI's error type: every library error prints as a sentence.
pub type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Whoever runs the CLI on the database file, acting with the state's authority
/// ([`ctwiz_store::usecase::actors::local_operator`]).
pub fn operator(channel: ctwiz_core::actor::Channel) -> ctwiz_core::actor::Actor {
    ctwiz_store::usecase::actors::local_operator(
        &std::env::var("USER").unwrap_or_default(),
        channel,
    )
}

/// Who a command acts as: `--as` (and `--acting-clinic`), or the local operator.
#[derive(Debug, Clone, Default)]
pub struct Who {
    pub user: Option<String>,
    pub clinic: Option<String>,
}

impl Who {
    /// The actor the use cases authorize: the named user in their scope, or the local
    /// operator (state authority: whoever can open the database file).
    pub fn actor(
        &self,
        store: &ctwiz_store::SqliteStore,
        channel: ctwiz_core::actor::Channel,
    ) -> CliResult<ctwiz_core::actor::Actor> {
        use ctwiz_store::usecase::actors;
        match &self.user {
            None => Ok(operator(channel)),
            Some(name) => {
                let clinic = self
                    .clinic
                    .as_deref()
                    .map(ctwiz_core::ids::ClinicPin::new)
                    .transpose()?;
                Ok(actors::stored_user(store, name, clinic.as_ref(), channel)?)
            }
        }
    }
}
