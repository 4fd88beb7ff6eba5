use super::{db, CliResult, Who};
use crate::output;
use chrono::{Local, NaiveDate};
use ctwiz_core::access::Action;
use ctwiz_core::actor::Channel;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::PatientId;
use ctwiz_core::patient::Patient;
use ctwiz_store::dedup::DedupSide;
use ctwiz_store::usecase::dedup;
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
    /// List the possible-duplicates review queue as clusters (records joined by open
    /// review pairs), strongest match first, with each pair's score and evidence.
    Duplicates {
        /// Clusters per page.
        #[arg(long, default_value_t = 25)]
        limit: u32,
        #[arg(long, default_value_t = 1)]
        page: u32,
    },
    /// Scan the whole registry for duplicate records with the matching engine and queue
    /// the possible duplicates for review (`patient duplicates`). Links nothing unless
    /// --link is given. Needs statewide merge permission.
    DedupScan {
        /// Also merge the pairs the engine would link on its own at ingest (same person on
        /// the evidence, no twins, no disputed birth date, no clinic's two MRNs) into the
        /// older record; every merge is audited and can be undone (`patient unmerge`).
        #[arg(long)]
        link: bool,
        /// Score with weights fitted to this registry's records (from 1,000 records up)
        /// instead of the default model ingest uses. Slow on large registries: minutes at
        /// 10,000 records (docs/matching.md).
        #[arg(long)]
        fitted: bool,
        /// Seed of the random pairs the fit learns from (the same seed, the same result).
        #[arg(long, default_value_t = 1)]
        seed: u64,
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

fn side_row(side: &DedupSide) -> Vec<String> {
    let p = &side.patient;
    vec![
        side.id().to_string(),
        p.name.display(),
        p.dob.to_string(),
        p.sex.code().to_string(),
        identifiers(p),
        side.live_doses.to_string(),
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
            let actor = who.actor(&store, Channel::Cli)?;
            let res = dedup::clusters_page(
                &store,
                &actor,
                limit,
                (page - 1) * limit,
                Local::now().naive_local(),
            )?;
            for (i, c) in res.clusters.iter().enumerate() {
                println!(
                    "Cluster {} of {}: best match {:.3}, {} records, {} pair(s)",
                    (page - 1) * limit + i as u32 + 1,
                    res.total_clusters,
                    c.best(),
                    c.records.len(),
                    c.pairs.len()
                );
                let mut t =
                    output::table(&["Patient", "Name", "Born", "Sex", "Identifiers", "Doses"]);
                for side in &c.records {
                    t.add_row(side_row(side));
                }
                println!("{t}");
                let mut t = output::table(&["Review", "Pair", "Score", "Evidence", "Flagged"]);
                for p in &c.pairs {
                    t.add_row(vec![
                        p.review.to_string(),
                        format!("{} / {}", p.a, p.b),
                        format!("{:.3}", p.probability),
                        p.evidence
                            .iter()
                            .filter(|e| e.weight != 0.0)
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join("\n"),
                        format!("{} by {}", p.flagged_at, p.source),
                    ]);
                }
                println!("{t}");
            }
            println!(
                "{} clusters shown, {} pairs in {} clusters waiting for review (page {page})",
                res.clusters.len(),
                res.total_pairs,
                res.total_clusters
            );
        }
        PatientCommand::DedupScan { link, fitted, seed } => {
            let actor = who.actor(&store, Channel::Cli)?;
            let options = dedup::ScanOptions {
                model: if fitted {
                    dedup::ScanModel::Fitted
                } else {
                    dedup::ScanModel::Default
                },
                link,
                seed,
            };
            let pb = output::progress(0, "reading");
            let r = dedup::scan(
                &store,
                &actor,
                options,
                Local::now().naive_local(),
                &mut |step| {
                    let (what, done, total) = match step {
                        dedup::ScanStep::Reading { done, total } => ("reading", done, total),
                        dedup::ScanStep::Scoring { done, total } => ("scoring", done, total),
                        dedup::ScanStep::Merging { done, total } => ("merging", done, total),
                        dedup::ScanStep::Queueing => ("queueing", 0, 0),
                    };
                    pb.set_message(what);
                    pb.set_length(total);
                    pb.set_position(done);
                },
            )?;
            pb.finish_and_clear();
            println!(
                "Scanned {} records ({} model): {} candidate pairs, {} judged the same person, {} to review.",
                r.records,
                if r.model_fitted {
                    "weights fitted to this registry"
                } else {
                    "default"
                },
                r.candidate_pairs,
                r.link_pairs,
                r.review_pairs
            );
            if link {
                println!(
                    "Merged {} record(s) into an older record{}.",
                    r.merged,
                    if r.merge_refused > 0 {
                        format!(
                            "; {} merge(s) refused, queued for review instead",
                            r.merge_refused
                        )
                    } else {
                        String::new()
                    }
                );
            }
            println!(
                "Queued {} pair(s) for review; {} already waiting or judged different people; {} left out (a record already waits in {} reviews).",
                r.queue.queued,
                r.queue.known,
                r.queue.capped,
                ctwiz_store::interface::MAX_OPEN_REVIEWS_PER_RECORD
            );
            if !link && r.link_pairs > 0 {
                println!(
                    "Nothing was merged: review with `ctwiz patient duplicates`, or rerun with --link to merge the {} sure pair(s).",
                    r.link_pairs
                );
            }
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
