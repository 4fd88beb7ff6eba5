//! `ctwiz forecast` and `ctwiz cdsi-test`: argument parsing and rendering
//! around `ctwiz-forecast`. All CDSi logic lives in that crate; this file
//! only reads files, parses arguments and prints.

use crate::cdsi_cases::{cdsi_vaccine_group, judge_case, parse_case_file, CaseOutcome, TestCase};
use chrono::NaiveDate;
use ctwiz_forecast::{
    explain, AdministeredDose, Engine, ForecastResult, Observation, Patient, Sex, SupportingData,
};
use rayon::prelude::*;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `ctwiz forecast`: evaluate a history and forecast every vaccine group.
#[derive(clap::Args, Debug, Clone)]
pub struct ForecastArgs {
    /// Date of birth, YYYY-MM-DD.
    #[arg(long)]
    pub dob: NaiveDate,
    /// Sex: F, M or U.
    #[arg(long, default_value = "U")]
    pub sex: String,
    /// A dose as DATE:CVX[:MVX], e.g. 2024-01-02:10 or 2024-01-02:120:PMC (repeatable).
    #[arg(long = "dose", value_name = "DATE:CVX[:MVX]")]
    pub doses: Vec<String>,
    /// A CDSi observation code, optionally CODE:DATE (repeatable), e.g. 160.
    #[arg(long = "observation", value_name = "CODE[:DATE]")]
    pub observations: Vec<String>,
    /// Assessment date (default: today).
    #[arg(long = "as-of")]
    pub as_of: Option<NaiveDate>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// A directory holding a newer CDSi supporting-data release (XML files).
    #[arg(long = "supporting-data", value_name = "DIR")]
    pub supporting_data: Option<PathBuf>,
}

/// `ctwiz cdsi-test`: run a CDC CDSi test-case file and report.
#[derive(clap::Args, Debug, Clone)]
pub struct CdsiTestArgs {
    /// Test-case JSON file (format of shared/cdsi/testcases).
    pub file: PathBuf,
    /// A directory holding a newer CDSi supporting-data release (XML files).
    #[arg(long = "supporting-data", value_name = "DIR")]
    pub supporting_data: Option<PathBuf>,
    /// Only the cases whose id contains TEXT or whose vaccine group is TEXT.
    #[arg(long = "case", value_name = "TEXT")]
    pub filter: Option<String>,
    /// Print each selected case's history and the engine's series-by-series result.
    #[arg(long)]
    pub verbose: bool,
}

/// `ctwiz bench forecast`: forecast a synthetic population (the `ctwiz seed`
/// generator, in memory) and print patient forecasts per second.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchForecastArgs {
    /// Number of synthetic children (ages 0–18, full histories).
    #[arg(long, default_value_t = 20_000)]
    pub children: u64,
    /// Worker threads (1 = single core).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Assessment date (default: today).
    #[arg(long = "as-of")]
    pub as_of: Option<NaiveDate>,
}

/// Runs `ctwiz bench forecast`.
pub fn run_bench_forecast(args: BenchForecastArgs) -> Result<(), Box<dyn Error>> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let cfg = ctwiz_core::synth::SynthConfig {
        children: args.children,
        clinics: 10,
        seed: args.seed,
        as_of,
    };
    let engine = Engine::bundled()?;
    let patients: Vec<Patient> = (0..args.children)
        .map(|i| {
            let c = ctwiz_core::synth::child(&cfg, i);
            ctwiz_core::forecast_input::patient(&c.patient, &c.doses, &[])
        })
        .collect();
    let doses: usize = patients.iter().map(|p| p.doses.len()).sum();
    let due_groups = |p: &Patient| {
        let r = engine.forecast(p, as_of);
        r.vaccine_groups
            .iter()
            .filter(|g| g.forecast.is_some())
            .count()
    };
    // Heap allocations per forecast, counted on this thread over a sample
    // before the timed run (which it also warms up).
    let sample = &patients[..patients.len().min(ALLOCATION_SAMPLE)];
    let (_, allocations) =
        crate::alloc_count::count(|| sample.iter().map(due_groups).sum::<usize>());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.max(1))
        .build()?;
    let start = std::time::Instant::now();
    let due: usize = pool.install(|| patients.par_iter().map(due_groups).sum());
    let secs = start.elapsed().as_secs_f64().max(f64::EPSILON);
    println!(
        "{} patient forecasts ({:.1} doses each) in {secs:.3} s on {} thread(s): {:.0} patient forecasts/second ({due} vaccine groups due)",
        patients.len(),
        doses as f64 / patients.len().max(1) as f64,
        args.threads.max(1),
        patients.len() as f64 / secs
    );
    println!(
        "{:.1} heap allocations per forecast (counted over {} forecasts on one thread)",
        allocations as f64 / sample.len().max(1) as f64,
        sample.len()
    );
    Ok(())
}

/// How many patients `ctwiz bench forecast` counts allocations over.
const ALLOCATION_SAMPLE: usize = 1_000;

/// Builds the engine from the bundled data or from a release directory.
pub fn load_engine(dir: Option<&Path>) -> Result<Engine, Box<dyn Error>> {
    let Some(dir) = dir else {
        return Ok(Engine::bundled()?);
    };
    let schedule =
        std::fs::read_to_string(dir.join("ScheduleSupportingData.xml")).map_err(|e| {
            format!(
                "cannot read {}: {e}",
                dir.join("ScheduleSupportingData.xml").display()
            )
        })?;
    let mut antigen_texts = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("AntigenSupportingData") && n.ends_with(".xml"))
        })
        .collect();
    entries.sort();
    if entries.is_empty() {
        return Err(format!("no AntigenSupportingData*.xml files in {}", dir.display()).into());
    }
    for p in &entries {
        antigen_texts.push(
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
        );
    }
    let refs: Vec<&str> = antigen_texts.iter().map(String::as_str).collect();
    Ok(Engine::new(Arc::new(SupportingData::from_xml_texts(
        &schedule, &refs,
    )?)))
}

fn parse_sex(text: &str) -> Result<Sex, String> {
    match text.trim().to_ascii_uppercase().as_str() {
        "F" | "FEMALE" => Ok(Sex::Female),
        "M" | "MALE" => Ok(Sex::Male),
        "U" | "UNKNOWN" | "" => Ok(Sex::Unknown),
        other => Err(format!("--sex must be F, M or U, not {other:?}")),
    }
}

/// Parses `DATE:CVX[:MVX]`.
pub fn parse_dose(text: &str) -> Result<AdministeredDose, String> {
    let mut parts = text.split(':');
    let date = parts.next().unwrap_or("");
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| format!("--dose {text:?}: the date must be YYYY-MM-DD"))?;
    let cvx = parts
        .next()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| format!("--dose {text:?}: expected DATE:CVX[:MVX]"))?;
    let mut dose = AdministeredDose::new(date, cvx);
    if let Some(mvx) = parts.next().map(str::trim).filter(|m| !m.is_empty()) {
        dose.mvx = Some(mvx.to_string());
    }
    if parts.next().is_some() {
        return Err(format!("--dose {text:?}: expected DATE:CVX[:MVX]"));
    }
    Ok(dose)
}

fn parse_observation(text: &str) -> Result<Observation, String> {
    let (code, date) = match text.split_once(':') {
        Some((c, d)) => (
            c,
            Some(
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("--observation {text:?}: the date must be YYYY-MM-DD"))?,
            ),
        ),
        None => (text, None),
    };
    Ok(Observation {
        code: code.trim().to_string(),
        date,
    })
}

/// Runs `ctwiz forecast`.
pub fn run_forecast(args: ForecastArgs) -> Result<(), Box<dyn Error>> {
    let engine = load_engine(args.supporting_data.as_deref())?;
    let mut patient = Patient::new(args.dob, parse_sex(&args.sex)?);
    for d in &args.doses {
        patient.doses.push(parse_dose(d)?);
    }
    for o in &args.observations {
        patient.observations.push(parse_observation(o)?);
    }
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let result = engine.forecast(&patient, as_of);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!(
            "{}",
            render_table(engine.supporting_data(), &patient, &result)
        );
    }
    Ok(())
}

/// `dose N earliest D recommended D past due D`, or `-` without a forecast.
fn forecast_line(f: Option<&ctwiz_forecast::ForecastDates>) -> String {
    f.map_or("-".to_string(), |f| {
        format!(
            "dose {} earliest {} recommended {} past due {}",
            f.dose_number,
            f.earliest,
            f.recommended,
            opt_date(f.past_due)
        )
    })
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

/// Renders the evaluations and the vaccine-group forecast as text tables,
/// with each group's status as a nurse reads it on the assessment date and
/// the reason in words for every dose that does not count or is extra
/// (`ctwiz_forecast::explain`, the wording the web page shows too).
pub fn render_table(data: &SupportingData, patient: &Patient, result: &ForecastResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "Assessment date {}", result.assessment_date);
    if !patient.doses.is_empty() {
        let _ = writeln!(out, "\nDose evaluations");
        let _ = writeln!(
            out,
            "{:<4} {:<10} {:<5} {:<14} {:<11} {:<6} reasons",
            "#", "date", "cvx", "antigen", "status", "target"
        );
        for (i, dose) in patient.doses.iter().enumerate() {
            if result.unknown_vaccines.contains(&i) {
                let _ = writeln!(
                    out,
                    "{:<4} {:<10} {:<5} {:<14} {:<11}",
                    i + 1,
                    dose.date,
                    dose.cvx,
                    "-",
                    "unknown CVX"
                );
                continue;
            }
            for a in &result.antigens {
                let Some(best) = a.best() else { continue };
                for e in best.doses.iter().filter(|e| e.dose_index == i) {
                    let reasons: Vec<&str> = e.reasons.iter().map(|r| r.text()).collect();
                    let _ = writeln!(
                        out,
                        "{:<4} {:<10} {:<5} {:<14} {:<11} {:<6} {}",
                        i + 1,
                        e.date,
                        e.cvx.to_string(),
                        a.antigen.as_str(),
                        e.status.as_str(),
                        e.target_dose.map_or("-".to_string(), |t| t.to_string()),
                        reasons.join("; ")
                    );
                }
            }
        }
    }
    let as_of = result.assessment_date;
    let _ = writeln!(out, "\nForecast by vaccine group");
    let _ = writeln!(
        out,
        "{:<22} {:<15} {:<4} {:<10} {:<11} {:<10} {:<10} vaccines",
        "vaccine group", "status", "dose", "earliest", "recommended", "past due", "latest"
    );
    // The groups that apply to the patient (explain::relevance), as the web page and Z42
    // list them; the others are named below with why.
    let mut not_listed: Vec<(explain::Relevance, &str)> = Vec::new();
    for g in &result.vaccine_groups {
        let relevance = explain::relevance(data, result, g, patient.dob);
        if relevance != explain::Relevance::Listed {
            not_listed.push((relevance, g.vaccine_group.as_str()));
            continue;
        }
        let status = g.due_status(as_of).label();
        match &g.forecast {
            Some(f) => {
                let vaccines: Vec<String> = f
                    .vaccines
                    .iter()
                    .map(|v| format!("{} ({})", v.vaccine_type, v.cvx))
                    .collect();
                let _ = writeln!(
                    out,
                    "{:<22} {:<15} {:<4} {:<10} {:<11} {:<10} {:<10} {}",
                    g.vaccine_group.as_str(),
                    status,
                    f.dose_number,
                    f.earliest,
                    f.recommended,
                    opt_date(f.past_due),
                    opt_date(f.latest),
                    vaccines.join(", ")
                );
            }
            None => {
                let _ = writeln!(out, "{:<22} {:<15}", g.vaccine_group.as_str(), status);
            }
        }
    }
    not_listed.sort();
    for chunk in not_listed.chunk_by(|a, b| a.0 == b.0) {
        let names: Vec<&str> = chunk.iter().map(|(_, name)| *name).collect();
        let _ = writeln!(
            out,
            "Not listed, {}: {}",
            chunk[0].0.label(),
            names.join(", ")
        );
    }
    let notes: Vec<(&str, explain::DoseNote)> = result
        .vaccine_groups
        .iter()
        .flat_map(|g| {
            explain::dose_notes(data, result, &g.vaccine_group)
                .into_iter()
                .map(move |n| (g.vaccine_group.as_str(), n))
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nDoses that do not count or are extra");
        for (group, n) in notes {
            let _ = writeln!(out, "{group:<22} {}", n.text);
        }
    }
    out
}

/// Runs `ctwiz cdsi-test`: prints each failing case with its diff and ends
/// with `N passed, M failed`. Failing cases are a report, not an error; only
/// unreadable input is.
pub fn run_cdsi_test(args: CdsiTestArgs) -> Result<(), Box<dyn Error>> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let file = parse_case_file(&text).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let engine = load_engine(args.supporting_data.as_deref())?;
    let selected: Vec<&TestCase> = file
        .cases
        .iter()
        .filter(|c| {
            args.filter
                .as_deref()
                .is_none_or(|f| c.id.contains(f) || c.vaccine_group.eq_ignore_ascii_case(f))
        })
        .collect();
    let outcomes: Vec<(CaseOutcome, Option<String>)> = selected
        .par_iter()
        .map(|c| {
            let result = engine.forecast(&c.patient(), c.assessment_date);
            let detail = args.verbose.then(|| render_case_detail(c, &result));
            (judge_case(c, &result), detail)
        })
        .collect();
    let mut passed = 0usize;
    let mut failed = 0usize;
    for (o, detail) in &outcomes {
        if let Some(d) = detail {
            print!("{d}");
        }
        if o.passed {
            passed += 1;
        } else {
            failed += 1;
            print!("FAIL {}", o.diff());
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(())
}

/// `cdsi-test --verbose`: the case's history and, for each antigen of its
/// vaccine group, every series with its doses, statuses and forecast.
fn render_case_detail(case: &TestCase, result: &ForecastResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "CASE {} {} (dob {}, sex {}, assessed {})",
        case.id, case.name, case.dob, case.sex, case.assessment_date
    );
    for d in &case.doses {
        let _ = writeln!(
            out,
            "  dose {} {} CVX {} MVX {} expected {}",
            d.dose_index,
            d.date_administered,
            d.cvx,
            d.mvx.as_deref().unwrap_or("-"),
            d.evaluation_status.as_deref().unwrap_or("-")
        );
    }
    for o in &case.observations {
        let _ = writeln!(
            out,
            "  observation {} {} {}",
            o.code,
            o.text.as_deref().unwrap_or(""),
            opt_date(o.date)
        );
    }
    let Some(group) = result.vaccine_group(cdsi_vaccine_group(&case.vaccine_group)) else {
        let _ = writeln!(out, "  vaccine group {:?} is unknown", case.vaccine_group);
        return out;
    };
    for a in group.antigens.iter().filter_map(|a| result.antigen(a)) {
        let _ = writeln!(
            out,
            "  antigen {}: {} (best series {})",
            a.antigen,
            a.status.as_str(),
            a.best_series.map_or("-".to_string(), |b| b.to_string())
        );
        for (i, s) in a.series.iter().enumerate() {
            let _ = writeln!(
                out,
                "    [{i}] {} (group {}): {}, score {}, {} valid, next {}",
                s.name,
                s.series_group,
                s.status.as_str(),
                s.score,
                s.valid_doses,
                forecast_line(s.forecast.as_ref())
            );
            for d in &s.doses {
                let reasons: Vec<&str> = d.reasons.iter().map(|r| r.text()).collect();
                let _ = writeln!(
                    out,
                    "        dose {} {} CVX {}: {} {} target {}",
                    d.dose_index + 1,
                    d.date,
                    d.cvx,
                    d.status.as_str(),
                    reasons.join("; "),
                    d.target_dose.map_or("-".to_string(), |t| t.to_string())
                );
            }
        }
    }
    for sg in &group.series_groups {
        let _ = writeln!(
            out,
            "  series group {} ({:?}): {}: {}",
            sg.series_group,
            sg.series_type,
            sg.status.as_str(),
            forecast_line(sg.forecast.as_ref())
        );
    }
    let _ = writeln!(
        out,
        "  group {}: {}",
        group.status.as_str(),
        forecast_line(group.forecast.as_ref())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dose_arguments() {
        let d = parse_dose("2024-01-02:120:PMC").expect("valid dose");
        assert_eq!(d.cvx, "120");
        assert_eq!(d.mvx.as_deref(), Some("PMC"));
        assert!(parse_dose("2024-01-02").is_err());
        assert!(parse_dose("02/01/2024:10").is_err());
        assert!(parse_dose("2024-01-02:10:PMC:x").is_err());
    }

    #[test]
    fn renders_a_table_for_a_small_history() {
        let engine = Engine::bundled().expect("bundled data");
        let dob = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let patient =
            Patient::new(dob, Sex::Female).with_dose(parse_dose("2024-03-01:110").expect("dose"));
        let as_of = NaiveDate::from_ymd_opt(2024, 4, 1).expect("date");
        let table = render_table(
            engine.supporting_data(),
            &patient,
            &engine.forecast(&patient, as_of),
        );
        assert!(table.contains("Polio"));
        assert!(table.contains("Valid"));
    }
}
