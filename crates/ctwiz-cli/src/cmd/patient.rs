use super::{db, CliResult, Who};
use crate::output;
use chrono::{Local, NaiveDate};
use ctwiz_core::access::Action;
use ctwiz_core::actor::Channel;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::PatientId;
use ctwiz_core::patient::Patient;
use ctwiz_store::dedup::{DedupSide, DedupStore};
use ctwiz_store::usecase::patients;
use ctwiz_store::{DoseStore, PatientQuery, PatientStore};
use std::path::Path;

#[derive(clap::Subcommand)]
pub enum PatientCommand {
    /// Show one patient's record and immunization history.
    Show {
        /// ctwiz patient id.
        id: PatientId,
    },
    /// Search by name, birth date, MRN or id (name parts match as prefixes).
    Search {
        /// Family name (or its beginning).
        #[arg(long)]
        name: Option<String>,
        /// Given name (or its beginning).
        #[arg(long)]
        given: Option<String>,
        #[arg(long)]
        dob: Option<NaiveDate>,
        #[arg(long)]
        mrn: Option<String>,
        /// Also match names that sound alike.
        #[arg(long)]
        phonetic: bool,
        #[arg(long, default_value_t = 25)]
        limit: u32,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// List the possible-duplicates review queue (pairs flagged by the HL7 interface).
    Duplicates {
        #[arg(long, default_value_t = 25)]
        limit: u32,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// Merge two records of the same person: the duplicate's doses, observations and MRNs
    /// move to the survivor, which keeps its own demographics (empty fields are filled).
    Merge {
        /// The record that stays.
        #[arg(long)]
        survivor: PatientId,
        /// The record merged into the survivor (kept only as a pointer to it).
        #[arg(long)]
        duplicate: PatientId,
    },
    /// Undo the most recent merge of a record: the doses, observations, MRNs and other rows
    /// the merge moved go back to it, and the two are recorded as different people.
    Unmerge {
        /// The record that was merged into another.
        duplicate: PatientId,
    },
    /// Mark two records as different people: their pair leaves the queue for good.
    NotDuplicate { first: PatientId, second: PatientId },
}

/// "MRN A@C1, SR 123" for lists.
fn identifiers(p: &Patient) -> String {
    p.mrns
        .iter()
        .map(|m| format!("MRN {}@{}", m.value, m.clinic))
        .chain(
            p.identifiers
                .iter()
                .map(|i| format!("{} {}", i.kind, i.value)),
        )
        .collect::<Vec<_>>()
        .join(", ")
}

fn side_row(review: String, side: &DedupSide, flagged: String) -> Vec<String> {
    let p = &side.patient;
    vec![
        review,
        side.id().to_string(),
        p.name.display(),
        p.dob.to_string(),
        p.sex.code().to_string(),
        identifiers(p),
        side.live_doses.to_string(),
        flagged,
    ]
}

pub fn run(path: &Path, who: &Who, c: PatientCommand) -> CliResult {
    let store = db::open(path)?;
    match c {
        PatientCommand::Show { id } => {
            let id = match store.merged_into(id)? {
                Some(into) => {
                    println!(
                        "Patient {id} was merged into patient {into}; showing patient {into}."
                    );
                    into
                }
                None => id,
            };
            let actor = who.actor(&store, Channel::Cli)?;
            let (_, p) = patients::open(
                &store,
                &actor,
                id,
                Action::PatientView,
                Local::now().naive_local(),
                "patient show",
            )?;
            let today = Local::now().date_naive();
            println!("Patient {id}: {}", p.name.display());
            println!(
                "  Born {} ({} years), sex {}, status {:?}",
                p.dob,
                p.age_years(today),
                p.sex.code(),
                p.status
            );
            if let Some(a) = p.addresses.first() {
                println!(
                    "  {} , {} {} {}{}",
                    a.street,
                    a.city,
                    a.state,
                    a.zip,
                    a.county
                        .map(|c| format!(" ({c} County)"))
                        .unwrap_or_default()
                );
            }
            for m in &p.mrns {
                println!("  MRN {} at clinic {}", m.value, m.clinic);
            }
            for g in &p.guardians {
                println!("  {:?}: {}", g.relationship, g.name.display());
            }
            if p.confidential {
                println!("  CONFIDENTIAL record");
            }
            if let Some(o) = &p.opt_out {
                println!("  OPTED OUT on {}: {}", o.date, o.reason);
            }
            let codes = CodeSets::embedded();
            let mut t = output::table(&[
                "Date", "CVX", "Vaccine", "MVX", "Lot", "Source", "Status", "Clinic",
            ]);
            for d in store.doses(id)? {
                t.add_row(vec![
                    d.date.to_string(),
                    d.cvx.to_string(),
                    codes
                        .vaccine(&d.cvx)
                        .map(|v| v.short_name.clone())
                        .unwrap_or_else(|| "unknown CVX".into()),
                    d.mvx.as_ref().map(|m| m.to_string()).unwrap_or_default(),
                    d.lot.as_ref().map(|l| l.to_string()).unwrap_or_default(),
                    if d.is_historical() {
                        "historical".into()
                    } else {
                        "administered".into()
                    },
                    d.completion.label().to_string(),
                    d.clinic.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                ]);
            }
            println!("{t}");
        }
        PatientCommand::Search {
            name,
            given,
            dob,
            mrn,
            phonetic,
            limit,
            page,
        } => {
            if page == 0 {
                return Err("--page starts at 1".into());
            }
            let q = PatientQuery {
                family: name,
                given,
                dob,
                mrn,
                phonetic,
                limit,
                offset: (page - 1) * limit,
                ..Default::default()
            };
            let actor = who.actor(&store, Channel::Cli)?;
            let (rows, total) = patients::search(&store, &actor, q, Local::now().naive_local())?;
            let mut t = output::table(&["ID", "Name", "Born", "Sex", "County", "Status"]);
            for r in &rows {
                t.add_row(vec![
                    r.id.to_string(),
                    r.name.display(),
                    r.dob.to_string(),
                    r.sex.code().to_string(),
                    r.county.map(|c| c.to_string()).unwrap_or_default(),
                    format!(
                        "{:?}{}",
                        r.status,
                        if r.confidential { ", confidential" } else { "" }
                    ),
                ]);
            }
            println!("{t}");
            let more = if total > 10_000 {
                "more than 10000".to_string()
            } else {
                total.to_string()
            };
            println!("{} shown, {} matching (page {page})", rows.len(), more);
        }
        PatientCommand::Duplicates { limit, page } => {
            if page == 0 {
                return Err("--page starts at 1".into());
            }
            let res = store.dedup_queue(limit, (page - 1) * limit)?;
            let mut t = output::table(&[
                "Review",
                "Patient",
                "Name",
                "Born",
                "Sex",
                "Identifiers",
                "Doses",
                "Flagged",
            ]);
            for r in &res.rows {
                t.add_row(side_row(
                    r.review.to_string(),
                    &r.patient,
                    format!("{} by {}", r.flagged_at, r.source),
                ));
                t.add_row(side_row(String::new(), &r.candidate, String::new()));
            }
            println!("{t}");
            println!(
                "{} pairs shown, {} waiting for review (page {page})",
                res.rows.len(),
                res.total
            );
        }
        PatientCommand::Merge {
            survivor,
            duplicate,
        } => {
            let actor = who.actor(&store, Channel::Cli)?;
            let out = ctwiz_store::usecase::dedup::merge(
                &store,
                &actor,
                survivor,
                duplicate,
                Local::now().naive_local(),
            )?;
            println!(
                "Merged patient {duplicate} into patient {survivor}: {} doses moved, {} repeated doses \
                 dropped, {} observations moved, {} MRNs added, {} review(s) closed.",
                out.doses_moved,
                out.doses_repeated,
                out.observations_moved,
                out.mrns_moved,
                out.reviews_resolved
            );
        }
        PatientCommand::Unmerge { duplicate } => {
            let actor = who.actor(&store, Channel::Cli)?;
            let out = ctwiz_store::usecase::dedup::unmerge(
                &store,
                &actor,
                duplicate,
                Local::now().naive_local(),
            )?;
            println!(
                "Undid the merge of patient {duplicate} into patient {}: {} doses, {} observations and {} MRNs returned; {}. The two are recorded as different people.",
                out.survivor,
                out.doses_returned,
                out.observations_returned,
                out.mrns_returned,
                if out.demographics_restored {
                    format!("patient {} is as it was before the merge", out.survivor)
                } else {
                    format!("patient {} keeps the changes made since the merge", out.survivor)
                }
            );
        }
        PatientCommand::NotDuplicate { first, second } => {
            let actor = who.actor(&store, Channel::Cli)?;
            ctwiz_store::usecase::dedup::dismiss(
                &store,
                &actor,
                first,
                second,
                Local::now().naive_local(),
            )?;
            println!(
                "Patients {first} and {second} are recorded as different people; the pair will not be queued again."
            );
        }
    }
    Ok(())
}
