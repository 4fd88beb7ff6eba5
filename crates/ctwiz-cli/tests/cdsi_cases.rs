//! Runs every shared CDC CDSi test case through the real door, `ctwiz
//! cdsi-test FILE` (the binary, as a process), and fails if the number of
//! passing cases in a file drops below the recorded floor. Raise the floors
//! as the engine improves; the goal is every case.

use std::path::PathBuf;
use std::process::Command;

/// (file name, minimum passing cases)
const FLOORS: &[(&str, usize)] = &[
    ("healthy-v4.45.json", 861),
    ("underlying-conditions-v4.6.json", 273),
];

fn testcase_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cdsi/testcases")
}

/// Runs `ctwiz cdsi-test` on one file; returns (passed, failed, stdout).
fn cdsi_test(path: &std::path::Path, extra: &[&str]) -> (usize, usize, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ctwiz"))
        .arg("cdsi-test")
        .arg(path)
        .args(extra)
        .output()
        .expect("the ctwiz binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ctwiz cdsi-test {} failed: {}{}",
        path.display(),
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    // The last line is `N passed, M failed`.
    let last = stdout.lines().last().unwrap_or_default();
    let mut numbers = last
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<usize>().expect("a count"));
    match (numbers.next(), numbers.next()) {
        (Some(p), Some(f)) if last.ends_with("failed") => (p, f, stdout),
        _ => panic!("unexpected summary line {last:?} in:\n{stdout}"),
    }
}

#[test]
fn cdc_cdsi_test_cases_do_not_regress() {
    let dir = testcase_dir();
    assert!(
        dir.is_dir(),
        "the shared CDC test cases are missing: expected directory {} (the workspace's sibling `shared/cdsi/testcases`)",
        dir.display()
    );
    let mut problems = Vec::new();
    for (name, floor) in FLOORS {
        let (passed, failed, stdout) = cdsi_test(&dir.join(name), &[]);
        println!("{name}: {passed} passed, {failed} failed (floor {floor})");
        if passed < *floor {
            let sample: String = stdout.lines().take(30).collect::<Vec<_>>().join("\n");
            problems.push(format!(
                "{name}: only {passed} cases pass, below the recorded floor of {floor}. First failures:\n{sample}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn one_case_can_be_run_verbosely() {
    let path = testcase_dir().join("healthy-v4.45.json");
    let (passed, failed, stdout) = cdsi_test(&path, &["--case", "2013-0003", "--verbose"]);
    assert_eq!((passed, failed), (1, 0), "{stdout}");
    assert!(stdout.contains("CASE 2013-0003"), "{stdout}");
    assert!(stdout.contains("antigen Diphtheria"), "{stdout}");
    assert!(stdout.contains("dose 3 earliest 2025-12-12"), "{stdout}");
}
