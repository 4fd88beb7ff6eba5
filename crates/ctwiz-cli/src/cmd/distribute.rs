//! `ctwiz distribute`: sends the state's scheduled lists to every practice now (the server
//! also does it on schedule); a second run for the same period sends nothing.

use super::{db, operator, CliResult};
use clap::Subcommand;
use ctwiz_core::actor::Channel;
use ctwiz_core::assessment::coverage::Context;
use ctwiz_core::assessment::distribution::DistributionKind;
use ctwiz_core::codes::CodeSets;
use ctwiz_forecast::Engine;
use std::path::Path;

#[derive(Subcommand)]
pub enum DistributeCommand {
    /// Each practice's children turning 8 or 20 months in the month, with what is missing.
    Compliancy {
        /// The month, YYYY-MM (default: this month).
        #[arg(long)]
        month: Option<String>,
    },
    /// Each practice's two-year-olds (24–35 months) not up to date.
    Cleanup {
        /// The year, YYYY (default: this year).
        #[arg(long)]
        year: Option<String>,
    },
}

pub fn run(path: &Path, c: DistributeCommand) -> CliResult {
    let (kind, period) = match c {
        DistributeCommand::Compliancy { month } => (DistributionKind::Compliancy, month),
        DistributeCommand::Cleanup { year } => (DistributionKind::Cleanup, year),
    };
    let store = db::open(path)?;
    let engine = Engine::bundled()
        .map_err(|e| format!("the bundled CDSi supporting data did not load: {e}"))?;
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };
    let now = chrono::Local::now().naive_local();
    let r = ctwiz_store::usecase::distributions::run(
        &store,
        &operator(Channel::Cli),
        &ctx,
        kind,
        period.as_deref(),
        now,
    )?;
    println!(
        "{} {}: {} practice(s) with {} child(ren) listed; sent to {} practice(s) now, {} had it already",
        kind.label(),
        r.period,
        r.practices,
        r.children,
        r.sent,
        r.practices - r.sent
    );
    Ok(())
}
