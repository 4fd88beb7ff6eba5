//! Forecast throughput and heap allocations per forecast, on two fixed sets of
//! patients (`tests/support/patient_sets.rs`, the same the same-answers test
//! checks): synthetic children aged 0–18 with routine histories (generated,
//! deterministic) and the patients of the CDC CDSi "healthy" test cases
//! (read from the workspace's sibling `shared/cdsi/testcases`, skipped with a
//! message when absent).
//!
//! `cargo bench -p ctwiz-forecast --bench forecast` first prints one summary
//! line per set (forecasts per second on one core, allocations per forecast;
//! counted by the global allocator below), then runs the criterion groups.
//! With `FORECAST_BENCH_SUMMARY=1` only the summary lines are printed (used to
//! compare two builds back to back).

#[path = "../tests/support/patient_sets.rs"]
mod patient_sets;

use criterion::{criterion_group, Criterion, Throughput};
use ctwiz_forecast::Engine;
use patient_sets::{cdc_patients, synthetic, Case};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
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

/// Forecasts every patient once; returns a checksum so nothing is optimized away.
fn run_all(engine: &Engine, set: &[Case]) -> usize {
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
fn summary(name: &str, engine: &Engine, set: &[Case]) {
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
