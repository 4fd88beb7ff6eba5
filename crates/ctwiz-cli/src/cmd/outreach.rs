//! `ctwiz outreach`: IAP outreach referrals. A practice refers a child who is behind to
//! the IAP area of the child's town; the area's coordinator records attempts and closes
//! the referral with its outcome (`usecase::outreach`, the same rules as the web page).

use super::{db, CliResult, Who};
use crate::output;
use clap::Subcommand;
use ctwiz_core::actor::Channel;
use ctwiz_core::ids::{ClinicPin, PatientId};
use ctwiz_core::outreach::{AttemptMethod, Outcome};
use ctwiz_store::usecase::outreach;
use std::path::Path;

#[derive(Subcommand)]
pub enum OutreachCommand {
    /// Refer a child to the IAP area of their town.
    Refer {
        /// The child's ctwiz id.
        #[arg(long)]
        patient: i64,
        /// What is missing (e.g. "4+ DTaP; 1+ MMR").
        #[arg(long)]
        reason: String,
        /// The referring practice, when the state refers on its behalf (a clinic user
        /// refers for the clinic they act for).
        #[arg(long)]
        clinic: Option<String>,
    },
    /// The referrals you work or made (open ones unless --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Record an attempt to reach the family.
    Attempt {
        referral: i64,
        /// phone, postcard, letter, text or home-visit.
        #[arg(long)]
        method: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Close a referral with its outcome.
    Close {
        referral: i64,
        /// up-to-date, new-provider, moved-out-of-state, unreachable or declined.
        #[arg(long)]
        outcome: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

pub fn run(path: &Path, who: &Who, c: OutreachCommand) -> CliResult {
    let store = db::open(path)?;
    let actor = who.actor(&store, Channel::Cli)?;
    let now = chrono::Local::now().naive_local();
    match c {
        OutreachCommand::Refer {
            patient,
            reason,
            clinic,
        } => {
            let clinic = clinic.as_deref().map(ClinicPin::new).transpose()?;
            let id = outreach::refer(
                &store,
                &actor,
                PatientId(patient),
                clinic.as_ref(),
                &reason,
                now,
            )?;
            println!("referral {id} sent");
        }
        OutreachCommand::List { all } => {
            let rows = outreach::list(&store, &actor, !all, now)?;
            let mut t = output::table(&[
                "Referral", "Patient", "From", "IAP area", "Referred", "Reason", "Attempts",
                "Outcome",
            ]);
            for r in &rows {
                t.add_row(vec![
                    r.id.to_string(),
                    r.patient.to_string(),
                    r.clinic.to_string(),
                    r.iap_area.clone(),
                    r.referred_at.date().to_string(),
                    r.reason.clone(),
                    r.attempts.len().to_string(),
                    r.outcome
                        .as_ref()
                        .map(|(o, at, _)| format!("{} ({})", o.label(), at.date()))
                        .unwrap_or_else(|| "open".into()),
                ]);
            }
            println!("{t}");
            println!("{} referral(s)", rows.len());
        }
        OutreachCommand::Attempt {
            referral,
            method,
            note,
        } => {
            let method = AttemptMethod::parse(&method)?;
            outreach::record_attempt(&store, &actor, referral, method, &note, now)?;
            println!("referral {referral}: {} recorded", method.label());
        }
        OutreachCommand::Close {
            referral,
            outcome,
            note,
        } => {
            let outcome = Outcome::parse(&outcome)?;
            outreach::close(&store, &actor, referral, outcome, &note, now)?;
            println!("referral {referral} closed: {}", outcome.label());
        }
    }
    Ok(())
}
