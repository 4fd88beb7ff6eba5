//! Reports end to end over a fixed synthetic population: the store streams the cohort,
//! the assessment runners count, and the results are pinned with insta snapshots so any
//! change in counting rules (or in the engine's evaluations) shows up as a reviewed diff.

use chrono::NaiveDate;
use ctwiz_core::assessment::coverage::{Context, Series};
use ctwiz_core::assessment::recall::RecallQuery;
use ctwiz_core::assessment::{run, Cohort};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_forecast::Engine;
use ctwiz_store::{OrgStore, PatientStore, SqliteStore};
use serde_json::json;

const AS_OF: &str = "2026-06-30";

fn as_of() -> NaiveDate {
    NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap()
}

/// 4,000 children over 6 clinics, seed 42: the same population every run.
fn population() -> SqliteStore {
    let cfg = SynthConfig {
        children: 4000,
        clinics: 6,
        seed: 42,
        as_of: as_of(),
    };
    let s = SqliteStore::open_in_memory().unwrap();
    for c in synth::clinics(&cfg) {
        s.add_clinic(&c).unwrap();
    }
    let batch: Vec<_> = (0..cfg.children)
        .flat_map(|i| {
            let c = synth::child(&cfg, i);
            std::iter::once((c.patient, c.doses)).chain(c.duplicate)
        })
        .collect();
    s.create_patients_with_doses(&batch).unwrap();
    s
}

fn cohort(min: u32, max: u32) -> Cohort {
    Cohort {
        as_of: as_of(),
        min_age_months: min,
        max_age_months: max,
        clinics: None,
        counties: None,
    }
}

fn stream<'a>(
    s: &'a SqliteStore,
    c: &'a Cohort,
) -> impl FnOnce(&mut dyn FnMut(run::Chunk)) -> ctwiz_store::Result<()> + 'a {
    move |f| {
        s.for_each_chunk(Some(c.dob_range()), 500, &mut |chunk| {
            f(chunk);
            Ok(())
        })
    }
}

#[test]
fn coverage_compliancy_cleanup_and_recall_snapshots() {
    let s = population();
    let engine = Engine::bundled().unwrap();
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };

    let two = cohort(24, 35);
    let cov = run::coverage(&ctx, Series::Childhood, &two, stream(&s, &two)).unwrap();
    let rates: Vec<_> = Series::Childhood
        .measures()
        .iter()
        .map(|m| json!({"measure": m.label(), "met": cov.total.met.get(m), "percent": cov.total.rate(*m)}))
        .collect();
    let by_county: serde_json::Map<_, _> = cov
        .by_county
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                json!({"children": v.children, "utd_percent": v.rate(series_headline())}),
            )
        })
        .collect();
    insta::assert_json_snapshot!(
        "coverage_childhood",
        json!({
            "cohort": cov.total.children,
            "rates": rates,
            "with_missed_opportunities": cov.total.with_missed_opportunities,
            "by_county": by_county,
            "behind": cov.behind.len(),
            "first_behind": cov.behind.iter().take(3).map(|a| json!({"id": a.child.id, "missing": a.missing})).collect::<Vec<_>>(),
        })
    );
    // The clean-up list is the children not up to date, and the counts agree.
    assert_eq!(
        cov.behind.len() as u64,
        cov.total.children - cov.total.met[&series_headline()]
    );

    let teens = cohort(156, 215);
    let adol = run::coverage(&ctx, Series::Adolescent, &teens, stream(&s, &teens)).unwrap();
    insta::assert_json_snapshot!(
        "coverage_adolescent",
        json!({
            "cohort": adol.total.children,
            "percent": Series::Adolescent.measures().iter().map(|m| json!([m.label(), adol.total.rate(*m)])).collect::<Vec<_>>(),
        })
    );

    let young = cohort(8, 31);
    let comp = run::compliancy(&engine, &[8, 20], &young, stream(&s, &young)).unwrap();
    insta::assert_json_snapshot!(
        "compliancy",
        json!({
            "total": comp.total.iter().map(|(m, c)| json!({"months": m, "children": c.children, "utd": c.up_to_date, "percent": c.rate()})).collect::<Vec<_>>(),
            "clinics": comp.by_clinic.len(),
        })
    );

    let all = cohort(0, 215);
    let q = RecallQuery {
        as_of: as_of(),
        from: as_of(),
        to: NaiveDate::from_ymd_opt(2026, 7, 31).unwrap(),
        vaccine_groups: vec!["MMR".into(), "DTaP/Tdap/Td".into()],
        include_overdue: true,
    };
    let recall = run::recall(&engine, &q, &all, stream(&s, &all)).unwrap();
    assert!(recall.iter().all(|e| e
        .due
        .iter()
        .all(|d| d.vaccine_group == "MMR" || d.vaccine_group == "DTaP/Tdap/Td")));
    insta::assert_json_snapshot!(
        "recall",
        json!({
            "patients": recall.len(),
            "first": recall.iter().take(3).map(|e| json!({"id": e.child.id, "due": e.due})).collect::<Vec<_>>(),
        })
    );
}

fn series_headline() -> ctwiz_core::assessment::coverage::Measure {
    Series::Childhood.headline()
}
