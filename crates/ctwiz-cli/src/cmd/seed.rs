use super::{db, CliResult};
use crate::output;
use chrono::{Local, NaiveDate};
use ctwiz_core::synth::duplicates::{self, DuplicateConfig, SynthRecord};
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
    /// Chance (0–1) that a child (or twin) is reported a second time by another clinic,
    /// with typos, a nickname, day and month swapped, a hyphenated family name, a moved
    /// address or a dropped middle name.
    #[arg(long, default_value_t = DEFAULT_DUPLICATE_RATE, value_name = "RATE")]
    pub duplicates: f64,
    /// Chance (0–1) that a child has a twin: a different child with the same birth date,
    /// family name, address, phone and mother.
    #[arg(long, default_value_t = DEFAULT_TWIN_RATE, value_name = "RATE")]
    pub twins: f64,
    /// Also write every record to this CSV with its store id and the true person it
    /// describes (`record_id,true_person,kind,given,...`), for measuring matching.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<std::path::PathBuf>,
}

/// About one child in fifty is reported twice by default.
pub const DEFAULT_DUPLICATE_RATE: f64 = 0.02;
/// About one child in seventy is a twin (US twin birth rate, ~31 per 1,000 births,
/// counts both children of a pair).
pub const DEFAULT_TWIN_RATE: f64 = 0.015;

/// Statistics of a seeding run.
pub struct SeedReport {
    pub patients: u64,
    /// Records of twins (second children of a pair).
    pub twins: u64,
    /// Second records of a person.
    pub duplicates: u64,
    pub doses: u64,
    pub seconds: f64,
}

pub fn run(path: &Path, a: SeedArgs) -> CliResult {
    let store = db::open(path)?;
    let r = seed(&store, &a, true)?;
    let size = store.size_bytes()?;
    println!(
        "seeded {} patient records ({} children, {} twins, {} duplicates) with {} doses in {:.1} s; database {} is {:.1} MiB",
        r.patients,
        a.children,
        r.twins,
        r.duplicates,
        r.doses,
        r.seconds,
        ctwiz_store::db_for_display(path),
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
    let dups = DuplicateConfig::new(a.duplicates, a.twins)?;
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
    let mut truth = match &a.truth {
        Some(p) => Some(TruthWriter::create(p)?),
        None => None,
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
    let (mut patients, mut doses, mut twins, mut dup_records) = (0u64, 0u64, 0u64, 0u64);
    let mut next = 0u64;
    while next < cfg.children {
        let end = (next + BATCH).min(cfg.children);
        let records: Vec<SynthRecord> = (next..end)
            .into_par_iter()
            .flat_map_iter(|i| duplicates::records(&cfg, &dups, i))
            .collect();
        for r in &records {
            match r.kind {
                duplicates::RecordKind::Twin { .. } => twins += 1,
                duplicates::RecordKind::Duplicate(_) => dup_records += 1,
                duplicates::RecordKind::Original => {}
            }
        }
        let (kinds, batch): (Vec<_>, Vec<_>) = records
            .into_iter()
            .map(|r| ((r.person, r.kind), (r.patient, r.doses)))
            .unzip();
        patients += batch.len() as u64;
        doses += batch.iter().map(|(_, d)| d.len() as u64).sum::<u64>();
        let ids = store.create_patients_with_doses(&batch)?;
        if let Some(w) = truth.as_mut() {
            for ((id, (person, kind)), (patient, _)) in ids.iter().zip(&kinds).zip(&batch) {
                w.row(*id, *person, kind, patient)?;
            }
        }
        pb.set_position(end);
        next = end;
    }
    pb.finish_and_clear();
    if let Some(w) = truth {
        w.finish()?;
    }
    store.optimize()?;
    Ok(SeedReport {
        patients,
        twins,
        duplicates: dup_records,
        doses,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The ground-truth CSV: one line per record, its store id, the person it truly describes
/// and the fields a matcher reads. Street number and street are split so linkage tools can
/// compare them apart.
struct TruthWriter {
    out: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
}

impl TruthWriter {
    const HEADER: [&'static str; 16] = [
        "record_id",
        "true_person",
        "kind",
        "given",
        "middle",
        "family",
        "dob",
        "sex",
        "number",
        "street",
        "city",
        "zip",
        "phone",
        "mother_maiden",
        "clinic",
        "mrn",
    ];

    fn create(path: &Path) -> CliResult<Self> {
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let mut w = TruthWriter {
            out: std::io::BufWriter::new(file),
            path: path.to_path_buf(),
        };
        super::matching::write_csv_row(&mut w.out, &Self::HEADER)?;
        Ok(w)
    }

    fn row(
        &mut self,
        id: ctwiz_core::ids::PatientId,
        person: u64,
        kind: &duplicates::RecordKind,
        p: &ctwiz_core::patient::Patient,
    ) -> CliResult {
        let addr = p.addresses.first();
        let (number, street) = addr
            .map(|a| match a.street.split_once(' ') {
                Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => (n, rest),
                _ => ("", a.street.as_str()),
            })
            .unwrap_or(("", ""));
        let mrn = p.mrns.first();
        let cells = [
            id.to_string(),
            person.to_string(),
            kind.label(),
            p.name.given.clone(),
            p.name.middle.clone().unwrap_or_default(),
            p.name.family.clone(),
            p.dob.format("%Y-%m-%d").to_string(),
            p.sex.code().to_string(),
            number.to_string(),
            street.to_string(),
            addr.map(|a| a.city.clone()).unwrap_or_default(),
            addr.map(|a| a.zip.as_str().to_string()).unwrap_or_default(),
            p.phones
                .first()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            p.mothers_maiden_name.clone().unwrap_or_default(),
            mrn.map(|m| m.clinic.as_str().to_string())
                .unwrap_or_default(),
            mrn.map(|m| m.value.clone()).unwrap_or_default(),
        ];
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        super::matching::write_csv_row(&mut self.out, &cells)?;
        Ok(())
    }

    fn finish(mut self) -> CliResult {
        use std::io::Write;
        self.out
            .flush()
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        Ok(())
    }
}
