//! `ctwiz audit`: the audit log (accounting of disclosures), read through
//! `ctwiz_store::usecase::audit::read`, which checks the operator may and records the read.

use super::report::{emit, OutputArgs};
use super::{db, CliResult, Who};
use chrono::{Local, NaiveDate};
use ctwiz_core::ids::PatientId;
use ctwiz_store::usecase::audit;
use ctwiz_store::AuditFilter;
use std::path::Path;

#[derive(clap::Args)]
pub struct AuditArgs {
    /// Only rows about this patient (ctwiz id).
    #[arg(long)]
    pub patient: Option<i64>,
    /// Only rows by this username.
    #[arg(long)]
    pub user: Option<String>,
    /// From this day on (inclusive).
    #[arg(long)]
    pub since: Option<NaiveDate>,
    /// Up to and including this day.
    #[arg(long)]
    pub until: Option<NaiveDate>,
    /// At most this many rows, newest first.
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    #[command(flatten)]
    pub output: OutputArgs,
}

const HEADER: &[&str] = &[
    "at", "actor", "door", "clinic", "patient", "action", "detail",
];

/// Reads the log as `who` (the global `--as`, or the local operator).
pub fn run(path: &Path, who: &Who, a: AuditArgs) -> CliResult {
    let store = db::open(path)?;
    let filter = AuditFilter {
        patient: a.patient.map(PatientId),
        user: a.user,
        since: a.since.and_then(|d| d.and_hms_opt(0, 0, 0)),
        // The store's bound is exclusive: the day after, at midnight.
        until: a
            .until
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        limit: a.limit,
        actor: None,
    };
    let rows = audit::read(
        &store,
        &who.actor(&store, ctwiz_core::actor::Channel::Cli)?,
        &filter,
        Local::now().naive_local(),
    )?;
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|e| {
            vec![
                e.at.to_string(),
                e.actor,
                e.interface.key().to_string(),
                e.clinic.map(|c| c.to_string()).unwrap_or_default(),
                e.patient.map(|p| p.to_string()).unwrap_or_default(),
                e.action.key().to_string(),
                e.detail,
            ]
        })
        .collect();
    emit(&a.output, HEADER, &rows)
}
