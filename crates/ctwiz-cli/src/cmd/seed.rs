use super::{db, CliResult};
use crate::output;
use chrono::{Local, NaiveDate};
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_store::{OrgStore, PatientStore, SqliteStore};
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

#[derive(clap::Args)]
pub struct SeedArgs {
    /// Number of children to generate.
    #[arg(long, default_value_t = 10_000)]
    pub children: u64,
    /// Number of clinics they are spread over.
    #[arg(long, default_value_t = 50)]
    pub clinics: u32,
    /// Random seed: the same seed always gives the same population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Date the histories run up to (default: today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

/// Statistics of a seeding run.
pub struct SeedReport {
    pub patients: u64,
    pub doses: u64,
    pub seconds: f64,
}

pub fn run(path: &Path, a: SeedArgs) -> CliResult {
    let store = db::open(path)?;
    let r = seed(&store, &a, true)?;
    let size = store.size_bytes()?;
    println!(
        "seeded {} patient records ({} children + duplicates) with {} doses in {:.1} s; database {} is {:.1} MiB",
        r.patients,
        a.children,
        r.doses,
        r.seconds,
        path.display(),
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

/// Generates in parallel and writes in batches of one transaction each.
pub fn seed(store: &SqliteStore, a: &SeedArgs, show_progress: bool) -> CliResult<SeedReport> {
    if a.children == 0 {
        return Err("--children must be at least 1".into());
    }
    if a.clinics == 0 {
        return Err("--clinics must be at least 1".into());
    }
    let existing = store.patient_count()?;
    if existing > 0 {
        return Err(format!(
            "the database already holds {existing} patients; seed a new database (--db new.db) so no data is mixed"
        )
        .into());
    }
    let cfg = SynthConfig {
        children: a.children,
        clinics: a.clinics,
        seed: a.seed,
        as_of: a.as_of.unwrap_or_else(|| Local::now().date_naive()),
    };
    let start = Instant::now();
    store.tune_for_bulk_load()?;
    for c in synth::clinics(&cfg) {
        if store.clinic(&c.pin)?.is_none() {
            store.add_clinic(&c)?;
        }
    }
    let pb = output::progress(cfg.children, "children");
    if !show_progress {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    const BATCH: u64 = 10_000;
    let (mut patients, mut doses) = (0u64, 0u64);
    let mut next = 0u64;
    while next < cfg.children {
        let end = (next + BATCH).min(cfg.children);
        let batch: Vec<_> = (next..end)
            .into_par_iter()
            .flat_map_iter(|i| {
                let c = synth::child(&cfg, i);
                std::iter::once((c.patient, c.doses)).chain(c.duplicate)
            })
            .collect();
        patients += batch.len() as u64;
        doses += batch.iter().map(|(_, d)| d.len() as u64).sum::<u64>();
        store.create_patients_with_doses(&batch)?;
        pb.set_position(end);
        next = end;
    }
    pb.finish_and_clear();
    store.optimize()?;
    Ok(SeedReport {
        patients,
        doses,
        seconds: start.elapsed().as_secs_f64(),
    })
}
