//! `ctwiz bench forecast` run as a process: it prints both figures, patient
//! forecasts per second and heap allocations per forecast.

use std::process::Command;

/// The number in `text` just before `label` (e.g. `1234` in `1234 patient
/// forecasts/second`).
fn figure_before(text: &str, label: &str) -> f64 {
    let head = &text[..text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} is printed:\n{text}"))];
    head.split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number before {label:?}:\n{text}"))
}

#[test]
fn bench_forecast_prints_throughput_and_allocations() {
    let out = Command::new(env!("CARGO_BIN_EXE_ctwiz"))
        .args([
            "bench",
            "forecast",
            "--children",
            "50",
            "--as-of",
            "2025-11-10",
        ])
        .env_remove("CTWIZ_DB")
        .output()
        .expect("the ctwiz binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ctwiz bench forecast failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("50 patient forecasts"), "{stdout}");
    let per_second = figure_before(&stdout, "patient forecasts/second");
    assert!(per_second > 0.0, "{stdout}");
    let allocations = figure_before(&stdout, "heap allocations per forecast");
    // Every forecast allocates its result; the engine's budget is 40.
    assert!(
        (1.0..=40.0).contains(&allocations),
        "allocations per forecast out of range:\n{stdout}"
    );
    assert!(stdout.contains("counted over 50 forecasts"), "{stdout}");
}
