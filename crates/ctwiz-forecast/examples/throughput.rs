//! Measures single-core forecast throughput on synthetic children aged 0–18
//! with complete routine histories: `cargo run --release --example throughput [N]`.

use chrono::{Days, Months, NaiveDate};
use ctwiz_forecast::{AdministeredDose, Engine, Patient, Sex};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts heap allocations so the example can report allocations per forecast.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

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

/// Routine childhood schedule: (CVX, age in months) pairs.
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

fn child(i: u64, as_of: NaiveDate) -> Patient {
    // Deterministic spread of ages 0–18 years.
    let age_days = (i * 2_654_435_761) % (18 * 365);
    let dob = as_of
        .checked_sub_days(Days::new(age_days))
        .expect("in range");
    let mut p = Patient::new(dob, if i & 1 == 0 { Sex::Female } else { Sex::Male });
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

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let engine = Engine::bundled().expect("bundled data");
    let as_of = NaiveDate::from_ymd_opt(2025, 11, 10).expect("date");
    let children: Vec<Patient> = (0..n).map(|i| child(i, as_of)).collect();
    let doses: usize = children.iter().map(|c| c.doses.len()).sum();
    let allocs_before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut due = 0usize;
    for c in &children {
        let r = engine.forecast(c, as_of);
        due += r
            .vaccine_groups
            .iter()
            .filter(|g| g.forecast.is_some())
            .count();
    }
    let secs = start.elapsed().as_secs_f64();
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs_before;
    println!(
        "{n} children ({:.1} doses each): {:.0} forecasts/second on one core, {:.0} allocations per forecast ({due} group forecasts)",
        doses as f64 / n as f64,
        n as f64 / secs,
        allocs as f64 / n as f64
    );
}
