//! Property tests: the engine never panics, and evaluation is monotone.

use chrono::{Days, NaiveDate};
use ctwiz_forecast::{AdministeredDose, Engine, Observation, Patient, SeriesStatus, Sex};
use proptest::prelude::*;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::bundled().expect("bundled supporting data parses"))
}

/// Common childhood and adult CVX codes plus a few that are unknown.
const CVX: &[&str] = &[
    "08", "10", "20", "21", "03", "94", "110", "120", "133", "215", "216", "83", "62", "165",
    "114", "136", "88", "141", "116", "119", "187", "208", "309", "115", "113", "09", "43", "44",
    "49", "48", "17", "106", "107", "33", "02", "998", "999", "0", "abc", "", "-1",
];

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(1950, 1, 1).expect("valid date")
}

fn day(offset: u32) -> NaiveDate {
    base()
        .checked_add_days(Days::new(u64::from(offset)))
        .expect("in range")
}

prop_compose! {
    fn arb_dose()(offset in 0u32..40_000, cvx in prop::sample::select(CVX), mvx in prop::option::of(prop::sample::select(&["PMC", "MSD", "SKB", "PFR", "x"][..])), expired in any::<bool>(), sub_potent in prop::bool::weighted(0.05)) -> AdministeredDose {
        let mut d = AdministeredDose::new(day(offset), cvx);
        d.mvx = mvx.map(str::to_string);
        if expired {
            d.lot_expiration = Some(day(offset.saturating_sub(3)));
        }
        d.sub_potent = sub_potent;
        d
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any history — random dates and codes, doses before birth, duplicates,
    /// unknown CVX, random observations — yields a result, never a panic.
    #[test]
    fn never_panics(
        dob in 0u32..30_000,
        assess in 0u32..45_000,
        sex in prop::sample::select(&[Sex::Female, Sex::Male, Sex::Unknown][..]),
        mut doses in prop::collection::vec(arb_dose(), 0..25),
        dup in any::<bool>(),
        obs in prop::collection::vec(0u16..400, 0..4),
    ) {
        if dup && !doses.is_empty() {
            let first = doses[0].clone();
            doses.push(first);
        }
        let patient = Patient {
            dob: day(dob),
            sex,
            doses,
            observations: obs.iter().map(|c| Observation::new(format!("{c:03}"))).collect(),
        };
        let result = engine().forecast(&patient, day(assess));
        // Unknown codes are reported, not dropped silently.
        for (i, d) in patient.doses.iter().enumerate() {
            let known = ctwiz_forecast::Cvx::parse(&d.cvx)
                .is_some_and(|c| engine().supporting_data().cvx.contains_key(&c));
            if !known && d.date <= day(assess) {
                prop_assert!(result.unknown_vaccines.contains(&i));
            }
        }
        for g in &result.vaccine_groups {
            if let Some(f) = &g.forecast {
                prop_assert!(f.recommended >= f.earliest);
                if let Some(p) = f.past_due {
                    prop_assert!(p >= f.earliest);
                }
            }
        }
    }

    /// Appending a later dose never undoes a complete patient series: doses are
    /// evaluated in date order, so earlier evaluations cannot change and a dose
    /// after completion is extraneous.
    #[test]
    fn a_later_dose_never_makes_a_complete_series_incomplete(
        dob in 0u32..20_000,
        doses in prop::collection::vec(arb_dose(), 1..15),
        extra in arb_dose(),
        gap in 0u32..2_000,
    ) {
        let dob_date = day(dob);
        let mut patient = Patient::new(dob_date, Sex::Female);
        patient.doses = doses;
        let last = patient.doses.iter().map(|d| d.date).max().unwrap_or(dob_date);
        let extra_date = last.checked_add_days(Days::new(u64::from(gap) + 1)).expect("in range");
        let assess = extra_date;
        let before = engine().forecast(&patient, assess);
        let mut extra = extra;
        extra.date = extra_date;
        patient.doses.push(extra);
        let after = engine().forecast(&patient, assess);
        for (a, b) in before.antigens.iter().zip(&after.antigens) {
            for (sa, sb) in a.series.iter().zip(&b.series) {
                prop_assert_eq!(&sa.name, &sb.name);
                prop_assert!(sb.valid_doses >= sa.valid_doses, "{}: valid doses fell", sa.name);
                if sa.status == SeriesStatus::Complete {
                    prop_assert_eq!(sb.status, SeriesStatus::Complete, "{} was complete", &sa.name);
                }
            }
        }
    }
}
