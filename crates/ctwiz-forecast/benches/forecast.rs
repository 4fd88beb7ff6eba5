//! Forecast throughput and heap allocations per forecast, on two fixed sets of
//! patients: synthetic children aged 0–18 with routine histories (generated
//! here, deterministic) and the patients of the CDC CDSi "healthy" test cases
//! (read from the workspace's sibling `shared/cdsi/testcases`, skipped with a
//! message when absent).
//!
//! `cargo bench -p ctwiz-forecast --bench forecast` first prints one summary
//! line per set (forecasts per second on one core, allocations per forecast;
//! counted by the global allocator below), then runs the criterion groups.
//! With `FORECAST_BENCH_SUMMARY=1` only the summary lines are printed (used to
//! compare two builds back to back).

use chrono::{Days, Months, NaiveDate};
use criterion::{criterion_group, Criterion, Throughput};
use ctwiz_forecast::{AdministeredDose, Engine, Observation, Patient, Sex};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts heap allocations (and reallocations) so the bench can report
/// allocations per forecast.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwards the caller's layout unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwards to the system allocator that allocated `ptr`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Routine childhood schedule: (CVX, age in months).
const SCHEDULE: &[(&str, u32)] = &[
    ("08", 0),
    ("08", 2),
    ("08", 6),
    ("110", 2),
    ("110", 4),
    ("110", 6),
    ("20", 15),
    ("130", 48),
    ("10", 2),
    ("10", 4),
    ("10", 6),
    ("49", 2),
    ("49", 4),
    ("49", 12),
    ("133", 2),
    ("133", 4),
    ("133", 6),
    ("133", 12),
    ("116", 2),
    ("116", 4),
    ("116", 6),
    ("03", 12),
    ("03", 48),
    ("21", 12),
    ("21", 48),
    ("83", 12),
    ("83", 18),
    ("115", 132),
    ("114", 132),
    ("62", 132),
    ("62", 138),
    ("114", 192),
    ("141", 6),
    ("141", 7),
    ("141", 18),
    ("141", 30),
    ("141", 42),
    ("141", 54),
    ("141", 66),
];

/// The assessment date of the synthetic set.
fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 10).expect("valid date")
}

/// Child `i`: a deterministic age 0–18 and the routine doses due by `as_of`,
/// each a few days late.
fn child(i: u64, as_of: NaiveDate) -> Patient {
    let age_days = (i * 2_654_435_761) % (18 * 365);
    let dob = as_of
        .checked_sub_days(Days::new(age_days))
        .expect("in range");
    let sex = if i & 1 == 0 { Sex::Female } else { Sex::Male };
    let mut p = Patient::new(dob, sex);
    for (k, (cvx, months)) in SCHEDULE.iter().enumerate() {
        let jitter = (i + k as u64 * 7) % 20;
        let date = dob
            .checked_add_months(Months::new(*months))
            .and_then(|d| d.checked_add_days(Days::new(jitter)))
            .expect("in range");
        if date <= as_of {
            p.doses.push(AdministeredDose::new(date, *cvx));
        }
    }
    p
}

/// The synthetic set: 2,000 children.
fn synthetic() -> Vec<(Patient, NaiveDate)> {
    (0..2_000).map(|i| (child(i, as_of()), as_of())).collect()
}

/// The patients (with their assessment dates) of a CDC test-case file, or
/// `None` when the shared test cases are not present.
fn cdc_patients(file: &str) -> Option<Vec<(Patient, NaiveDate)>> {
    // The workspace's sibling `shared` directory.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/cdsi/testcases")
        .join(file);
    let text = std::fs::read_to_string(&path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).expect("test-case JSON parses");
    let date = |v: &serde_json::Value| {
        NaiveDate::parse_from_str(v.as_str().expect("a date string"), "%Y-%m-%d")
            .expect("a YYYY-MM-DD date")
    };
    let cases = json["cases"].as_array().expect("a cases array");
    Some(
        cases
            .iter()
            .map(|c| {
                let sex = match c["sex"].as_str() {
                    Some("F") => Sex::Female,
                    Some("M") => Sex::Male,
                    _ => Sex::Unknown,
                };
                let mut p = Patient::new(date(&c["dob"]), sex);
                for d in c["doses"].as_array().into_iter().flatten() {
                    let mut dose = AdministeredDose::new(
                        date(&d["date_administered"]),
                        d["cvx"].as_str().expect("a CVX string"),
                    );
                    if let Some(mvx) = d["mvx"].as_str() {
                        dose = dose.with_mvx(mvx);
                    }
                    p.doses.push(dose);
                }
                for o in c["observations"].as_array().into_iter().flatten() {
                    if let Some(code) = o["code"].as_str() {
                        let mut obs = Observation::new(code);
                        obs.date = o["date"].as_str().map(|_| date(&o["date"]));
                        p.observations.push(obs);
                    }
                }
                (p, date(&c["assessment_date"]))
            })
            .collect(),
    )
}

/// Forecasts every patient once; returns a checksum so nothing is optimized away.
fn run_all(engine: &Engine, set: &[(Patient, NaiveDate)]) -> usize {
    set.iter()
        .map(|(p, d)| {
            let r = engine.forecast(black_box(p), *d);
            r.vaccine_groups
                .iter()
                .filter(|g| g.forecast.is_some())
                .count()
        })
        .sum()
}

/// Prints forecasts per second (one core, at least one second of work) and
/// heap allocations per forecast for one set.
fn summary(name: &str, engine: &Engine, set: &[(Patient, NaiveDate)]) {
    let doses: usize = set.iter().map(|(p, _)| p.doses.len()).sum();
    // Warm up, then count the allocations of one pass.
    black_box(run_all(engine, set));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    black_box(run_all(engine, set));
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let start = Instant::now();
    let mut forecasts = 0usize;
    while start.elapsed() < Duration::from_secs(2) {
        black_box(run_all(engine, set));
        forecasts += set.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: {} patients ({:.1} doses each): {:.0} forecasts/s on one core, {:.1} allocations per forecast",
        set.len(),
        doses as f64 / set.len() as f64,
        forecasts as f64 / secs,
        allocs as f64 / set.len() as f64
    );
}

fn benches(c: &mut Criterion) {
    let engine = Engine::bundled().expect("bundled supporting data parses");
    let mut sets = vec![("synthetic children", synthetic())];
    match cdc_patients("healthy-v4.45.json") {
        Some(set) => sets.push(("CDC healthy cases", set)),
        None => println!("CDC healthy cases: skipped (shared/cdsi/testcases not found)"),
    }
    for (name, set) in &sets {
        summary(name, &engine, set);
    }
    if std::env::var_os("FORECAST_BENCH_SUMMARY").is_some() {
        return;
    }
    let mut group = c.benchmark_group("forecast");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (name, set) in &sets {
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function(*name, |b| b.iter(|| run_all(&engine, set)));
    }
    group.finish();
}

criterion_group!(forecast, benches);

fn main() {
    forecast();
    Criterion::default().configure_from_args().final_summary();
}
