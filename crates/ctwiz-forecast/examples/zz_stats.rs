#[path = "../tests/support/patient_sets.rs"]
#[allow(dead_code)]
mod patient_sets;
use ctwiz_forecast::Engine;
fn main() {
    let engine = Engine::bundled().unwrap();
    let which = std::env::args().nth(1).unwrap_or_default();
    let set = if which == "healthy" { patient_sets::cdc_patients("healthy-v4.45.json").unwrap() } else { patient_sets::synthetic() };
    let reps: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(5);
    let t = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..reps { for (p, d) in &set { let r = engine.forecast(std::hint::black_box(p), *d); n += r.vaccine_groups.len(); } }
    let secs = t.elapsed().as_secs_f64();
    println!("{which}: {:.0} forecasts/s ({n})", (reps * set.len()) as f64 / secs);
}
