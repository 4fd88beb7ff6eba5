//! Runs every shared CDC CDSi test case through `ctwiz-forecast` and fails if
//! the number of passing cases in a file drops below the recorded floor.
//! Raise the floors as the engine improves; the goal is every case.

use ctwiz_forecast::cdsi_cases::{parse_case_file, run_all};
use ctwiz_forecast::Engine;
use std::path::PathBuf;

/// (file name, minimum passing cases)
const FLOORS: &[(&str, usize)] = &[
    ("healthy-v4.45.json", 861),
    ("underlying-conditions-v4.6.json", 271),
];

fn testcase_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cdsi/testcases")
}

#[test]
fn cdc_cdsi_test_cases_do_not_regress() {
    let dir = testcase_dir();
    assert!(
        dir.is_dir(),
        "the shared CDC test cases are missing: expected directory {} (the workspace's sibling `shared/cdsi/testcases`)",
        dir.display()
    );
    let engine = Engine::bundled().expect("bundled supporting data parses");
    let mut problems = Vec::new();
    for (name, floor) in FLOORS {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read test-case file {}: {e}", path.display()));
        let file = parse_case_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let summary = run_all(&engine, &file);
        println!(
            "{name}: {} passed, {} failed (floor {floor})",
            summary.passed, summary.failed
        );
        if summary.passed < *floor {
            let sample: String = summary.failures.iter().take(5).map(|f| f.diff()).collect();
            problems.push(format!(
                "{name}: only {} cases pass, below the recorded floor of {floor}. First failures:\n{sample}",
                summary.passed
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
