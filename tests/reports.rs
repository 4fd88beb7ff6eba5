//! Reports end to end over a fixed synthetic population: the store streams the cohort,
//! the assessment runners count, and the results are pinned with insta snapshots so any
//! change in counting rules (or in the engine's evaluations) shows up as a reviewed diff.

use chrono::Days;
use chrono::NaiveDate;
use ctwiz_core::assessment::birthday;
use ctwiz_core::assessment::coverage::{assess, Measure, CHILDHOOD_GROUPS};
use ctwiz_core::assessment::coverage::{Context, Series};
use ctwiz_core::assessment::recall::RecallEntry;
use ctwiz_core::assessment::recall::RecallQuery;
use ctwiz_core::assessment::{run, Cohort};
use ctwiz_core::codes::CodeSets;
use ctwiz_core::dose::{
    CompletionStatus, Dose, InformationSource, Observation, ObservationKind, RefusalReason,
};
use ctwiz_core::ids::{ClinicPin, Cvx};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_core::patient::{Mrn, Patient, PatientStatus, PersonName, Sex};
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_forecast::Engine;
use ctwiz_store::{DoseStore, OrgStore, PatientStore, SqliteStore};
use serde_json::json;
use std::collections::BTreeMap;

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
        within: None,
        places: None,
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
            "not_asked": cov.behind.iter().filter(|a| !a.not_due.is_empty()).count(),
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
    let comp = run::compliancy(&ctx, &[8, 20], &young, stream(&s, &young)).unwrap();
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
    let recall = run::recall(&ctx, &q, &all, stream(&s, &all)).unwrap();
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

/// Each count-named childhood measure (4+ DTaP, 3+ Polio, 1+ MMR, 3+ HepB, 1+ Varicella,
/// 4+ PCV) against the plain count of doses of its vaccine group given before the 2nd
/// birthday, child by child over the seeded population (which records no immunity): a
/// measure that credits a child with fewer doses than its number says fails here.
#[test]
fn no_count_named_measure_exceeds_the_doses_given_before_the_second_birthday() {
    let s = population();
    let engine = Engine::bundled().unwrap();
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };
    let counted = [
        (Measure::DTaP4, "DTaP/Tdap/Td", 4),
        (Measure::Polio3, "Polio", 3),
        (Measure::Mmr1, "MMR", 1),
        (Measure::HepB3, "HepB", 3),
        (Measure::Var1, "Varicella", 1),
        (Measure::Pcv4, "Pneumococcal", 4),
    ];
    let two = cohort(24, 35);
    let mut children = 0;
    let mut met = BTreeMap::new();
    s.for_each_chunk(Some(two.dob_range()), 500, &mut |chunk| {
        for (p, doses, observations) in chunk.iter().filter(|(p, _, _)| two.includes(p)) {
            children += 1;
            let a = assess(&ctx, Series::Childhood, p, doses, observations, as_of());
            let second = birthday(p.dob, 2);
            for (m, group, n) in counted {
                let given = doses
                    .iter()
                    .filter(|d| d.was_given() && d.date < second)
                    .filter(|d| {
                        codes
                            .vaccine(&d.cvx)
                            .is_some_and(|v| v.vaccine_groups.iter().any(|g| g == group))
                    })
                    .count();
                let ok = a.met.iter().any(|(x, ok)| *x == m && *ok);
                assert!(
                    !ok || given >= n,
                    "child {:?} meets {} with {given} {group} dose(s) before the 2nd birthday",
                    p.id,
                    m.label()
                );
                *met.entry(m.label()).or_insert(0) += ok as u32;
            }
        }
        Ok(())
    })
    .unwrap();
    assert!(children > 100, "the cohort is the seeded 2-year-olds");
    // The check is not vacuous: every measure is met by some child and missed by another.
    for (label, n) in met {
        assert!(n > 0 && n < children, "{label}: {n} of {children}");
    }
}

const HAND_AS_OF: &str = "2026-06-30";
const HAND_DOB: &str = "2024-03-15";
const INFANT_DOB: &str = "2025-06-15";

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dose_at(days: u64, cvx: &str) -> Dose {
    Dose::new(
        Cvx::new(cvx).unwrap(),
        day(HAND_DOB) + Days::new(days),
        InformationSource::HistoricalUnspecified,
    )
}

/// The routine schedule through 18 months, on time (HepB, DTaP, IPV, PRP-OMP Hib, PCV,
/// MMR, varicella, HepA).
fn on_time() -> Vec<Dose> {
    let mut v = Vec::new();
    for (days, cvxs) in [
        (0, &["08"][..]),
        (61, &["20", "10", "49", "133", "08", "116"][..]),
        (122, &["20", "10", "49", "133", "116"][..]),
        (183, &["20", "10", "133", "08", "116"][..]),
        (366, &["49", "133", "03", "21", "83"][..]),
        (458, &["20"][..]),
        (548, &["83"][..]),
    ] {
        for c in cvxs {
            v.push(dose_at(days, c));
        }
    }
    v
}

/// The schedule without the doses of `cvx` given at the listed ages (all when empty).
fn without(cvx: &str, at: &[u64]) -> Vec<Dose> {
    on_time()
        .into_iter()
        .filter(|d| {
            d.cvx.as_str() != cvx
                || !(at.is_empty()
                    || at.contains(&(d.date - day(HAND_DOB)).num_days().unsigned_abs()))
        })
        .collect()
}

/// The same schedule for a child born on `INFANT_DOB`, up to the 6-month visit (an
/// infant past the 8-month milestone on `HAND_AS_OF`, before the 20-month one).
fn infant(doses: Vec<Dose>) -> Vec<Dose> {
    let shift = Days::new((day(INFANT_DOB) - day(HAND_DOB)).num_days() as u64);
    doses
        .into_iter()
        .filter(|d| d.date <= day(HAND_DOB) + Days::new(183))
        .map(|mut d| {
            d.date = d.date + shift;
            d
        })
        .collect()
}

fn observation(kind: ObservationKind, code: &str, text: &str, on: &str) -> Observation {
    Observation::new(kind, code, text, day(on)).unwrap()
}

/// One hand-built child per rule, each the only child of a clinic named after the rule,
/// so every report's per-clinic figures and lists read as per-rule results.
fn hand_built() -> SqliteStore {
    let s = SqliteStore::open_in_memory().unwrap();
    let mut children: Vec<(&str, Patient, Vec<Dose>, Vec<Observation>)> = Vec::new();
    let mut add = |rule: &'static str, doses: Vec<Dose>, observations: Vec<Observation>| {
        let pin = ClinicPin::new(rule).unwrap();
        let dob = if rule.starts_with("INFANT-") {
            INFANT_DOB
        } else {
            HAND_DOB
        };
        let mut p = Patient::new(
            PersonName::new("Child", rule).unwrap(),
            day(dob),
            Sex::Female,
        )
        .unwrap();
        p.mrns.push(Mrn::new(pin.clone(), "1").unwrap());
        children.push((rule, p, doses, observations));
    };
    add("ON-TIME", on_time(), vec![]);
    // Varicella disease history before the 2nd birthday, no varicella and no MMR dose.
    add(
        "VAR-IMMUNE",
        without("21", &[])
            .into_iter()
            .filter(|d| d.cvx.as_str() != "03")
            .collect(),
        vec![observation(
            ObservationKind::Immunity,
            "024",
            "Healthcare provider verified history of varicella",
            "2025-01-20",
        )],
    );
    // A contraindication to MMR (family history of altered immunocompetence) and no MMR.
    add(
        "MMR-CONTRA",
        without("03", &[]),
        vec![observation(
            ObservationKind::Contraindication,
            "012",
            "Family history of altered immunocompetence",
            "2024-10-01",
        )],
    );
    // PCV started at 12 months: 2 doses after the 1st birthday complete the series for age.
    add(
        "PCV-CATCH-UP",
        without("133", &[])
            .into_iter()
            .chain([dose_at(366, "133"), dose_at(430, "133")])
            .collect(),
        vec![],
    );
    // HepB at birth, 4 weeks and 23 weeks: the third is before 24 weeks of age.
    add(
        "HEPB-EARLY",
        without("08", &[])
            .into_iter()
            .chain([dose_at(0, "08"), dose_at(28, "08"), dose_at(161, "08")])
            .collect(),
        vec![],
    );
    // MMR at 11 months, before the 1st birthday, and none after.
    add(
        "MMR-EARLY",
        without("03", &[])
            .into_iter()
            .chain([dose_at(330, "03")])
            .collect(),
        vec![],
    );
    // DTaP #3 18 days after #2 (minimum interval 4 weeks): 3 valid doses of 4 given.
    add(
        "DTAP-TOO-SOON",
        without("20", &[122])
            .into_iter()
            .filter(|d| !(d.cvx.as_str() == "20" && d.date == day(HAND_DOB) + Days::new(183)))
            .chain([dose_at(122, "20"), dose_at(140, "20")])
            .collect(),
        vec![],
    );
    // Hib ActHIB (PRP-T) at 2, 4, 6 months and no booster: 3 doses are not enough.
    add(
        "HIB-PRPT-3",
        without("49", &[])
            .into_iter()
            .chain([dose_at(61, "48"), dose_at(122, "48"), dose_at(183, "48")])
            .collect(),
        vec![],
    );
    // Religious exemption from polio recorded at 2 months, no polio dose.
    let mut refused = dose_at(61, "10");
    refused.completion = CompletionStatus::Refused;
    refused.refusal = Some(RefusalReason::ReligiousExemption);
    add(
        "POLIO-EXEMPT",
        without("10", &[]).into_iter().chain([refused]).collect(),
        vec![],
    );
    // Infants at the 8-month milestone (12 months old on the report date).
    add("INFANT-ON-TIME", infant(on_time()), vec![]);
    // DTaP #3 never given: past due at 8 months.
    add("INFANT-DTAP-2", infant(without("20", &[183])), vec![]);
    // No rotavirus at all: the series can no longer be started after 15 weeks, so the
    // group is aged out, not past due, and does not make the child behind.
    add("INFANT-NO-ROTA", infant(without("116", &[])), vec![]);
    // Hepatitis B immunity (anti-HBs serology) recorded, only the birth dose given.
    add(
        "INFANT-HEPB-IMMUNE",
        infant(without("08", &[61, 183])),
        vec![observation(
            ObservationKind::Immunity,
            "019",
            "Laboratory evidence of immunity or confirmation of hepatitis B disease",
            "2025-08-01",
        )],
    );
    // Unvaccinated children the reports must leave out of recall and denominators.
    for rule in ["OPTED-OUT", "DECEASED", "MOVED"] {
        add(rule, vec![], vec![]);
    }
    for (rule, mut p, doses, observations) in children {
        s.add_clinic(
            &Clinic::new(
                ClinicPin::new(rule).unwrap(),
                rule,
                County::Hartford,
                ProgramType::Cvp,
            )
            .unwrap(),
        )
        .unwrap();
        match rule {
            "OPTED-OUT" => p.opt_out(day("2025-01-01"), "parent request").unwrap(),
            "DECEASED" => p.mark_deceased(day("2025-02-01")),
            "MOVED" => p.status = PatientStatus::MovedOrGoneElsewhere,
            _ => {}
        }
        let id = s.create_patient_with_doses(&p, &doses).unwrap();
        for o in &observations {
            s.add_observation(id, o).unwrap();
        }
    }
    s
}

fn hand_cohort(min: u32, max: u32) -> Cohort {
    Cohort {
        as_of: day(HAND_AS_OF),
        min_age_months: min,
        max_age_months: max,
        clinics: None,
        within: None,
        places: None,
    }
}

/// Every report over the hand-built children, pinned: which measures each rule's child
/// meets, what the clean-up list asks and why it asks nothing else, compliancy at 8 and
/// 20 months, and the recall rows with the groups not asked and their reasons.
#[test]
fn hand_built_children_in_every_report() {
    let s = hand_built();
    let engine = Engine::bundled().unwrap();
    let codes = CodeSets::embedded();
    let ctx = Context {
        engine: &engine,
        codes: &codes,
    };
    let clinic = |c: &Option<ClinicPin>| c.as_ref().map(|c| c.to_string()).unwrap_or_default();

    let two = hand_cohort(24, 35);
    let cov = run::coverage(&ctx, Series::Childhood, &two, stream(&s, &two)).unwrap();
    let per_rule: serde_json::Map<_, _> = cov
        .by_clinic
        .iter()
        .map(|(k, v)| {
            let met: Vec<&str> = Series::Childhood
                .measures()
                .iter()
                .filter(|m| v.met.get(m).copied().unwrap_or(0) == 1)
                .map(|m| m.label())
                .collect();
            (k.clone(), json!(met))
        })
        .collect();
    insta::assert_json_snapshot!(
        "hand_built_coverage",
        json!({
            "cohort": cov.total.children,
            "measures_met_by_rule": per_rule,
        })
    );
    insta::assert_json_snapshot!(
        "hand_built_cleanup",
        json!({
        "listed": cov.behind.iter().map(|a| json!({
            "rule": clinic(&a.child.clinic),
            "missing": a.missing,
            "not_asked": a.not_due,
            "missed_opportunities": a.missed_opportunities,
        })).collect::<Vec<_>>(),
        })
    );

    let young = hand_cohort(8, 31);
    let comp = run::compliancy(&ctx, &[8, 20], &young, stream(&s, &young)).unwrap();
    let by_rule: serde_json::Map<_, _> = comp
        .by_clinic
        .iter()
        .map(|(k, per)| {
            let at: serde_json::Map<_, _> = per
                .iter()
                .map(|(m, c)| (format!("{m} months"), json!(c.up_to_date == 1)))
                .collect();
            (k.clone(), json!(at))
        })
        .collect();
    insta::assert_json_snapshot!(
        "hand_built_compliancy",
        json!({ "up_to_date_by_rule": by_rule })
    );

    let all = hand_cohort(0, 215);
    let q = RecallQuery {
        as_of: day(HAND_AS_OF),
        from: day(HAND_AS_OF),
        to: day("2026-07-31"),
        vaccine_groups: CHILDHOOD_GROUPS.map(String::from).to_vec(),
        include_overdue: true,
    };
    let recall: Vec<RecallEntry> = run::recall(&ctx, &q, &all, stream(&s, &all)).unwrap();
    insta::assert_json_snapshot!("hand_built_recall", json!(recall
        .iter()
        .map(|e| json!({
            "rule": clinic(&e.child.clinic),
            "due": e.due.iter().map(|d| format!("{} #{} {:?}", d.vaccine_group, d.dose_number, d.urgency)).collect::<Vec<_>>(),
            "not_asked": e.not_asked,
        }))
        .collect::<Vec<_>>()));
    // Nobody is asked for what they are immune to, contraindicated for or exempt from.
    for e in &recall {
        for d in &e.due {
            assert!(
                !e.not_asked
                    .iter()
                    .any(|n| n.starts_with(&format!("{}:", d.vaccine_group))),
                "{e:?}"
            );
        }
        let rule = clinic(&e.child.clinic);
        assert!(
            !["OPTED-OUT", "DECEASED", "MOVED"].contains(&rule.as_str()),
            "{rule} listed"
        );
    }
    for rule in ["OPTED-OUT", "DECEASED", "MOVED"] {
        assert!(
            !cov.by_clinic.contains_key(rule),
            "{rule} counted in coverage"
        );
        assert!(
            !comp.by_clinic.contains_key(rule),
            "{rule} counted in compliancy"
        );
    }
}
