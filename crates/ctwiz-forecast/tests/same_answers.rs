//! The engine's answers, pinned: the JSON of every forecast of the fixed
//! patient sets (2,000 synthetic children, the 861 CDC healthy cases and the
//! 288 underlying-conditions cases; `tests/support/patient_sets.rs`) hashes to
//! the recorded digests. Speed work must leave every byte unchanged.
//!
//! When a change is *meant* to change answers (a CDSi reading, a new
//! supporting-data release), check the new answers (`ctwiz cdsi-test`), then
//! record the digests this test prints. To find which forecasts changed, run
//! it with `FORECAST_JSON_DUMP=DIR` before and after the change: it writes
//! one JSON line per forecast to `DIR/<set>.jsonl`, ready for `diff`.

#[path = "support/patient_sets.rs"]
mod patient_sets;

use ctwiz_forecast::Engine;
use patient_sets::{cdc_patients, synthetic, testcase_dir, Case};
use std::io::Write;

/// (set, forecasts, FNV-1a 64 digest of their JSON lines)
const RECORDED: &[(&str, usize, u64)] = &[
    ("synthetic", 2_000, 0xdc5c511a4d212701),
    ("healthy", 861, 0x59d4eb78c3ecb207),
    ("underlying-conditions", 288, 0x5c0c76ade0fe51b9),
];

/// FNV-1a, 64 bits: a stable digest (unlike std's hasher, fixed forever).
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn digest(engine: &Engine, name: &str, set: &[Case]) -> u64 {
    let mut dump = std::env::var_os("FORECAST_JSON_DUMP").map(|dir| {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("the dump directory can be created");
        std::io::BufWriter::new(
            std::fs::File::create(dir.join(format!("{name}.jsonl")))
                .expect("the dump file can be created"),
        )
    });
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for (patient, as_of) in set {
        let json = serde_json::to_string(&engine.forecast(patient, *as_of))
            .expect("a forecast serializes");
        hash = fnv1a(hash, json.as_bytes());
        hash = fnv1a(hash, b"\n");
        if let Some(out) = dump.as_mut() {
            writeln!(out, "{json}").expect("the dump is writable");
        }
    }
    hash
}

#[test]
fn every_forecast_json_is_unchanged() {
    assert!(
        testcase_dir().is_dir(),
        "the shared CDC test cases are missing: expected directory {}",
        testcase_dir().display()
    );
    let engine = Engine::bundled().expect("bundled supporting data parses");
    let sets = [
        ("synthetic", synthetic()),
        (
            "healthy",
            cdc_patients("healthy-v4.45.json").expect("the healthy cases are readable"),
        ),
        (
            "underlying-conditions",
            cdc_patients("underlying-conditions-v4.6.json")
                .expect("the underlying-conditions cases are readable"),
        ),
    ];
    let mut changed = Vec::new();
    for ((name, set), &(recorded_name, count, recorded)) in sets.iter().zip(RECORDED) {
        assert_eq!(*name, recorded_name);
        assert_eq!(set.len(), count, "{name}: the set's size changed");
        let got = digest(&engine, name, set);
        println!("(\"{name}\", {count}, {got:#018x}),");
        if got != recorded {
            changed.push(format!("{name}: {got:#018x}, recorded {recorded:#018x}"));
        }
    }
    assert!(
        changed.is_empty(),
        "the forecasts' JSON changed (see this file's doc for how to find and accept it):\n{}",
        changed.join("\n")
    );
}
