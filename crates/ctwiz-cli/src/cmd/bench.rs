//! `ctwiz bench ...`: throughput figures printed by the product itself (not unit tests).

use super::{db, CliResult};
use ctwiz_core::ids::PatientId;
use ctwiz_store::{PatientQuery, PatientStore};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Patient forecasts per second over a synthetic population (full histories, ages 0–18).
    Forecast(super::forecast::BenchForecastArgs),
    /// HL7 parse throughput over the messages in FILEs: messages/s and MB/s.
    Hl7(super::hl7::BenchHl7Args),
    /// Single-message latency over the SOAP service under concurrent load.
    Soap(super::hl7::BenchSoapArgs),
    /// VXU batch-import messages/s on a realistic feed of distinct children and on a
    /// look-alike feed (scratch databases; the real import path).
    Ingest(super::ingest_bench::BenchIngestArgs),
    /// Patient search latency (p50/p99) on the database, for the kinds of look-up the
    /// Patient Management screen runs: name prefixes, phonetic name + birth date, birth
    /// date alone, MRN.
    Search {
        /// Queries per kind.
        #[arg(long, default_value_t = 500)]
        queries: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

pub fn run(db_path: &Path, c: BenchCommand) -> CliResult {
    match c {
        BenchCommand::Forecast(a) => super::forecast::run_bench_forecast(a),
        BenchCommand::Hl7(a) => super::hl7::run_bench_hl7(a),
        BenchCommand::Soap(a) => super::hl7::run_bench_soap(a),
        BenchCommand::Ingest(a) => super::ingest_bench::run(a),
        BenchCommand::Search { queries, seed } => search(db_path, queries, seed),
    }
}

/// Builds the search for one known patient.
type QueryFor = Box<dyn Fn(&ctwiz_core::patient::Patient) -> PatientQuery>;

/// The first `k` characters of a name, as typed into the search box.
fn prefix(s: &str, k: usize) -> String {
    s.chars().take(k).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn search(db_path: &Path, queries: u32, seed: u64) -> CliResult {
    let store = db::open(db_path)?;
    let n = store.patient_count()?;
    if n == 0 {
        return Err("the database has no patients; run `ctwiz seed` first".into());
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Real records to look for, so every query has at least one hit.
    let mut targets = Vec::with_capacity(queries as usize);
    while targets.len() < queries as usize {
        if let Some(p) = store.patient(PatientId(rng.random_range(1..=n as i64)))? {
            targets.push(p);
        }
    }
    let kinds: Vec<(&str, QueryFor)> = vec![
        (
            "family+given prefix",
            Box::new(|p| PatientQuery {
                family: Some(prefix(&p.name.family, 4)),
                given: Some(prefix(&p.name.given, 2)),
                ..Default::default()
            }),
        ),
        (
            "phonetic family + dob",
            Box::new(|p| PatientQuery {
                family: Some(p.name.family.clone()),
                dob: Some(p.dob),
                phonetic: true,
                ..Default::default()
            }),
        ),
        (
            "dob",
            Box::new(|p| PatientQuery {
                dob: Some(p.dob),
                ..Default::default()
            }),
        ),
        (
            "mrn",
            Box::new(|p| PatientQuery {
                mrn: p.mrns.first().map(|m| m.value.clone()),
                ..Default::default()
            }),
        ),
    ];
    println!("{n} patients; {queries} queries per kind, first page of 25 with total count");
    for (name, make) in kinds {
        let mut times = Vec::with_capacity(targets.len());
        let mut hits = 0usize;
        for p in &targets {
            let q = PatientQuery {
                limit: 25,
                ..make(p)
            };
            let t = Instant::now();
            let page = store.search_patients(&q)?;
            times.push(t.elapsed());
            hits += page.rows.iter().any(|r| Some(r.id) == p.id) as usize;
        }
        times.sort_unstable();
        println!(
            "{name:>24}: p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  (target on page 1: {hits}/{})",
            percentile(&times, 0.50).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            targets.len()
        );
    }
    Ok(())
}
