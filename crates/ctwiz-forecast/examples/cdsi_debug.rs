//! Development helper: `cargo run --example cdsi_debug -- FILE.json CASE_ID`
//! prints the case and the engine's series-by-series result for its group.

use ctwiz_forecast::cdsi_cases::{cdsi_vaccine_group, judge_case, parse_case_file};
use ctwiz_forecast::Engine;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(id)) = (args.get(1), args.get(2)) else {
        return Err("usage: cdsi_debug FILE.json CASE_ID".into());
    };
    let file = parse_case_file(&std::fs::read_to_string(path)?)?;
    let engine = Engine::bundled()?;
    let case = file
        .cases
        .iter()
        .find(|c| &c.id == id)
        .ok_or("no such case")?;
    println!(
        "{} {} dob {} sex {} assess {}",
        case.id, case.name, case.dob, case.sex, case.assessment_date
    );
    for d in &case.doses {
        println!(
            "  dose {} {} cvx {} mvx {:?} expect {:?}",
            d.dose_index, d.date_administered, d.cvx, d.mvx, d.evaluation_status
        );
    }
    for o in &case.observations {
        println!("  obs {} {:?} {:?}", o.code, o.text, o.date);
    }
    println!("  expected {:?}", case.expected_forecasts.first());
    let result = engine.forecast(&case.patient(), case.assessment_date);
    let group = result
        .vaccine_group(cdsi_vaccine_group(&case.vaccine_group))
        .ok_or("no group")?;
    for a in &group.antigens {
        let Some(ar) = result.antigen(a) else {
            continue;
        };
        println!(
            "ANTIGEN {} status {:?} best {:?}",
            ar.antigen, ar.status, ar.best_series
        );
        for (i, s) in ar.series.iter().enumerate() {
            println!(
                "  [{i}] {} grp {} {:?} score {} valid {} fc {:?}",
                s.name,
                s.series_group,
                s.status,
                s.score,
                s.valid_doses,
                s.forecast
                    .as_ref()
                    .map(|f| (f.dose_number, f.earliest, f.recommended, f.past_due))
            );
            for d in &s.doses {
                println!(
                    "       dose#{} {} cvx {} {:?} {:?} target {:?}",
                    d.dose_index + 1,
                    d.date,
                    d.cvx,
                    d.status,
                    d.reasons,
                    d.target_dose
                );
            }
        }
    }
    println!(
        "GROUP {:?} {:?}",
        group.status,
        group
            .forecast
            .as_ref()
            .map(|f| (f.dose_number, f.earliest, f.recommended, f.past_due))
    );
    println!("{}", judge_case(case, &result).diff());
    Ok(())
}
