//! Development helper: `cargo run --release --example cdsi_run -- FILE.json [filter]`
//! runs a CDC test-case file and prints failures and the pass count.

use ctwiz_forecast::cdsi_cases::{parse_case_file, run_case};
use ctwiz_forecast::Engine;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: cdsi_run FILE.json [id-or-group-filter]")?;
    let filter = args.get(2).cloned();
    let text = std::fs::read_to_string(path)?;
    let file = parse_case_file(&text)?;
    let engine = Engine::bundled()?;
    let (mut passed, mut failed) = (0, 0);
    for case in &file.cases {
        if let Some(f) = &filter {
            if !case.id.contains(f.as_str()) && !case.vaccine_group.eq_ignore_ascii_case(f) {
                continue;
            }
        }
        let outcome = run_case(&engine, case);
        if outcome.passed {
            passed += 1;
        } else {
            failed += 1;
            print!("[{}] {}", case.vaccine_group, outcome.diff());
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(())
}
