//! `ctwiz forecast` run as a process: the statuses a nurse reads at a glance and
//! the reason in words for a dose that moved HepB to a longer series, a dose
//! given too soon and an extra dose (the wording of `ctwiz_forecast::explain`,
//! which the web Recommender shows too), pinned as insta snapshots.

use std::process::Command;

fn forecast(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ctwiz"))
        .arg("forecast")
        .args(args)
        .output()
        .expect("the ctwiz binary runs");
    assert!(
        out.status.success(),
        "ctwiz forecast {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn one_year_old_reads_not_yet_due_and_hepb_dose_3_before_24_weeks_says_why() {
    // HepB at birth, 1 month and 4 months (before 24 weeks of age); DTaP twice
    // three weeks apart (too soon); assessed at 12 months.
    let text = forecast(&[
        "--dob",
        "2025-01-01",
        "--sex",
        "F",
        "--dose",
        "2025-01-01:08",
        "--dose",
        "2025-02-01:08",
        "--dose",
        "2025-05-01:08",
        "--dose",
        "2025-03-01:20",
        "--dose",
        "2025-03-22:20",
        "--as-of",
        "2026-01-01",
    ]);
    let hpv = text
        .lines()
        .find(|l| l.starts_with("HPV "))
        .expect("an HPV row");
    assert!(hpv.contains("Not yet due"), "{hpv}");
    assert!(!text.contains("Up to date"), "{text}");
    assert!(
        text.contains("dose 3 given before 24 weeks of age: a 4th dose is needed"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn adult_with_a_complete_series_reads_complete_and_an_extra_dose_is_named() {
    // Four IPV doses as a child, a fifth at 20 years: extra.
    let text = forecast(&[
        "--dob",
        "2000-01-01",
        "--dose",
        "2000-03-01:10",
        "--dose",
        "2000-05-01:10",
        "--dose",
        "2000-07-01:10",
        "--dose",
        "2004-01-15:10",
        "--dose",
        "2020-01-15:10",
        "--as-of",
        "2025-06-01",
    ]);
    let polio = text
        .lines()
        .find(|l| l.starts_with("Polio "))
        .expect("a Polio row");
    assert!(polio.contains("Complete"), "{polio}");
    insta::assert_snapshot!(text);
}
