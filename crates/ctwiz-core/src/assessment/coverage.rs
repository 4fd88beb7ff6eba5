//! Coverage (AFIX-style) assessment: the 4:3:1:3:3:1:4 series by the second birthday,
//! each antigen alone, adolescent and flu coverage, missed opportunities, and the list of
//! children behind (which is also the two-year-old clean-up list).
//!
//! Each measure counts exactly what its label says; the definitions and their sources are
//! in docs/reports.md. Only doses the engine evaluates as **valid** count (e.g. HepB #3
//! before 24 weeks of age does not), and only doses given before the second birthday
//! count for the childhood series. A "complete for age" view (which credits a shorter
//! catch-up series) is a separate measure, never folded into a count-named one.

use super::{birthday, excused, may_be_excused, percent, ChildRef};
use crate::codes::CodeSets;
use crate::dose::{Dose, Observation};
use crate::patient::Patient;
use chrono::{Datelike, Days, NaiveDate};
use ctwiz_forecast::{Engine, EvaluationStatus, ForecastResult, SeriesStatus};
use serde::Serialize;
use std::collections::BTreeMap;

/// One coverage measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Measure {
    /// ≥4 valid DTaP/DT doses by 24 months.
    DTaP4,
    /// ≥3 valid polio doses by 24 months.
    Polio3,
    /// ≥1 valid MMR dose given on or after the 1st birthday, by 24 months.
    Mmr1,
    /// HepB series complete by 24 months: ≥3 valid doses, the 3rd (or a later) one given
    /// at 24 weeks of age or older.
    HepB3,
    /// Hib complete for age by 24 months (product-dependent): 3 valid doses when every
    /// valid dose is PRP-OMP (PedvaxHIB), 4 otherwise, or a series CDSi calls complete
    /// (late starters need fewer).
    HibFull,
    /// ≥1 valid varicella dose or evidence of immunity recorded by 24 months.
    Var1,
    /// ≥4 valid PCV doses by 24 months (a count: a catch-up series CDSi calls complete
    /// with fewer doses is [`Measure::PcvCompleteForAge`], not this).
    Pcv4,
    /// All seven above: 4:3:1:3:3:1:4.
    Combined4313314,
    /// PCV complete for age by 24 months: 4 valid doses or a catch-up series the engine
    /// calls complete (e.g. 2 doses after 12 months). Not part of 4:3:1:3:3:1:4.
    PcvCompleteForAge,
    /// ≥1 Tdap at 10 years or older.
    Tdap1,
    /// ≥1 valid MenACWY dose at 10 years or older.
    MenAcwy1,
    /// ≥1 valid HPV dose.
    HpvStarted,
    /// HPV series complete.
    HpvComplete,
    /// ≥1 influenza dose this season (July–June).
    FluSeason,
}

impl Measure {
    pub fn label(self) -> &'static str {
        match self {
            Measure::DTaP4 => "4+ DTaP",
            Measure::Polio3 => "3+ Polio",
            Measure::Mmr1 => "1+ MMR",
            Measure::HepB3 => "3+ HepB",
            Measure::HibFull => "Hib complete for age",
            Measure::Var1 => "1+ Varicella",
            Measure::Pcv4 => "4+ PCV",
            Measure::Combined4313314 => "4:3:1:3:3:1:4",
            Measure::PcvCompleteForAge => "PCV complete for age",
            Measure::Tdap1 => "1+ Tdap",
            Measure::MenAcwy1 => "1+ MenACWY",
            Measure::HpvStarted => "1+ HPV",
            Measure::HpvComplete => "HPV UTD",
            Measure::FluSeason => "Flu this season",
        }
    }
}

/// Which set of measures to assess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Series {
    /// The 4:3:1:3:3:1:4 series by the 2nd birthday (cohort typically 24–35 months).
    Childhood,
    /// Tdap, MenACWY, HPV (cohort typically 13–17 years).
    Adolescent,
    /// Seasonal influenza (anyone 6 months and older).
    Flu,
}

impl Series {
    pub const ALL: [Series; 3] = [Series::Childhood, Series::Adolescent, Series::Flu];

    /// Stable key for forms and command lines.
    pub fn key(self) -> &'static str {
        match self {
            Series::Childhood => "childhood",
            Series::Adolescent => "adolescent",
            Series::Flu => "flu",
        }
    }

    pub fn parse(s: &str) -> Option<Series> {
        Series::ALL.into_iter().find(|x| x.key() == s)
    }

    /// The cohort's age band in months when the user names none: the AFIX 2-year-olds
    /// (24–35 months), adolescents 13–17 years, everyone from 6 months for flu.
    pub fn default_ages(self) -> (u32, u32) {
        match self {
            Series::Childhood => (24, 35),
            Series::Adolescent => (156, 215),
            Series::Flu => (6, 215),
        }
    }

    pub fn measures(self) -> &'static [Measure] {
        use Measure::*;
        match self {
            Series::Childhood => &[
                DTaP4,
                Polio3,
                Mmr1,
                HepB3,
                HibFull,
                Var1,
                Pcv4,
                Combined4313314,
                PcvCompleteForAge,
            ],
            Series::Adolescent => &[Tdap1, MenAcwy1, HpvStarted, HpvComplete],
            Series::Flu => &[FluSeason],
        }
    }
    /// The measure that decides "up to date" for the series.
    pub fn headline(self) -> Measure {
        match self {
            Series::Childhood => Measure::Combined4313314,
            Series::Adolescent => Measure::HpvComplete,
            Series::Flu => Measure::FluSeason,
        }
    }
}

/// Vaccine groups of the childhood series, as CDSi names them.
pub const CHILDHOOD_GROUPS: [&str; 7] = [
    "DTaP/Tdap/Td",
    "Polio",
    "MMR",
    "HepB",
    "Hib",
    "Varicella",
    "Pneumococcal",
];

/// What the engine and code sets an assessment needs, shared read-only across threads.
pub struct Context<'a> {
    pub engine: &'a Engine,
    pub codes: &'a CodeSets,
}

/// One child's result.
#[derive(Debug, Clone, Serialize)]
pub struct ChildAssessment {
    pub child: ChildRef,
    pub met: Vec<(Measure, bool)>,
    /// Labels of the measures not met (what the clinic must find or give).
    pub missing: Vec<&'static str>,
    /// Measures not met for which no dose is to be asked, with the reason ("1+ MMR:
    /// contraindicated", "1+ Varicella: evidence of immunity", "4+ PCV: complete for age
    /// (catch-up), no dose due"), as known on the report date.
    pub not_due: Vec<String>,
    pub up_to_date: bool,
    /// Visits where a due childhood vaccine was not given although others were.
    pub missed_opportunities: u32,
}

fn valid_in_best(r: &ForecastResult, antigen: &str) -> usize {
    r.antigen(antigen)
        .and_then(|a| a.best())
        .map_or(0, |s| s.valid_doses)
}

fn status(r: &ForecastResult, antigen: &str) -> Option<SeriesStatus> {
    r.antigen(antigen).map(|a| a.status)
}

fn complete(s: Option<SeriesStatus>) -> bool {
    matches!(s, Some(SeriesStatus::Complete | SeriesStatus::Immune))
}

/// Valid doses of `antigen` whose CVX satisfies `cvx_ok`, given on or after `from`.
fn valid_doses_where(
    r: &ForecastResult,
    antigen: &str,
    from: NaiveDate,
    cvx_ok: impl Fn(u16) -> bool,
) -> usize {
    r.antigen(antigen).and_then(|a| a.best()).map_or(0, |s| {
        s.doses
            .iter()
            .filter(|d| d.status == EvaluationStatus::Valid && d.date >= from && cvx_ok(d.cvx.0))
            .count()
    })
}

fn childhood(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    as_of: NaiveDate,
) -> (Vec<(Measure, bool)>, NaiveDate) {
    // Evaluate on the day before the 2nd birthday with the doses given by then.
    let second = birthday(p.dob, 2);
    let eval = (second - Days::new(1)).min(as_of);
    let before = crate::forecast_input::patient_before(p, doses, observations, eval + Days::new(1));
    let r = ctx.engine.forecast(&before, eval);
    let first = birthday(p.dob, 1);
    let week_24 = p.dob + Days::new(24 * 7);
    let hib_valid = valid_in_best(&r, "Hib");
    let hib_omp_only = r.antigen("Hib").and_then(|a| a.best()).is_some_and(|s| {
        s.doses
            .iter()
            .filter(|d| d.status == EvaluationStatus::Valid)
            .all(|d| d.cvx.0 == 49)
    });
    let met = vec![
        (Measure::DTaP4, valid_in_best(&r, "Diphtheria") >= 4),
        (Measure::Polio3, valid_in_best(&r, "Polio") >= 3),
        (
            Measure::Mmr1,
            valid_doses_where(&r, "Measles", first, |_| true) >= 1,
        ),
        // In the CDSi 4-dose series (birth dose + combination vaccine) a third dose before
        // 24 weeks is valid; the measure still asks for a 3rd or later one at 24 weeks.
        (Measure::HepB3, hepb_complete(&r, week_24)),
        (
            Measure::HibFull,
            complete(status(&r, "Hib")) || hib_valid >= 4 || (hib_omp_only && hib_valid >= 3),
        ),
        (
            Measure::Var1,
            valid_in_best(&r, "Varicella") >= 1
                || status(&r, "Varicella") == Some(SeriesStatus::Immune),
        ),
        (Measure::Pcv4, valid_in_best(&r, "Pneumococcal") >= 4),
    ];
    let all = met.iter().all(|(_, m)| *m);
    let mut met = met;
    met.push((Measure::Combined4313314, all));
    met.push((
        Measure::PcvCompleteForAge,
        valid_in_best(&r, "Pneumococcal") >= 4 || complete(status(&r, "Pneumococcal")),
    ));
    (met, eval)
}

/// ≥3 valid HepB doses, the 3rd or a later one given on or after `week_24`.
fn hepb_complete(r: &ForecastResult, week_24: NaiveDate) -> bool {
    let mut valid: Vec<NaiveDate> = r
        .antigen("HepB")
        .and_then(|a| a.best())
        .map(|s| {
            s.doses
                .iter()
                .filter(|d| d.status == EvaluationStatus::Valid)
                .map(|d| d.date)
                .collect()
        })
        .unwrap_or_default();
    valid.sort_unstable();
    valid.iter().skip(2).any(|d| *d >= week_24)
}

/// The vaccine group each childhood measure asks for.
pub fn group_of(m: Measure) -> Option<&'static str> {
    Some(match m {
        Measure::DTaP4 => "DTaP/Tdap/Td",
        Measure::Polio3 => "Polio",
        Measure::Mmr1 => "MMR",
        Measure::HepB3 => "HepB",
        Measure::HibFull => "Hib",
        Measure::Var1 => "Varicella",
        Measure::Pcv4 | Measure::PcvCompleteForAge => "Pneumococcal",
        Measure::Tdap1 => "DTaP/Tdap/Td",
        Measure::MenAcwy1 => "Meningococcal",
        Measure::HpvStarted | Measure::HpvComplete => "HPV",
        Measure::FluSeason => "Influenza",
        Measure::Combined4313314 => return None,
    })
}

fn adolescent(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    as_of: NaiveDate,
) -> Vec<(Measure, bool)> {
    let before =
        crate::forecast_input::patient_before(p, doses, observations, as_of + Days::new(1));
    let r = ctx.engine.forecast(&before, as_of);
    let tenth = birthday(p.dob, 10);
    // Tdap products: CVX 115 (Tdap); valid for pertussis at 10+ years.
    let tdap = valid_doses_where(&r, "Pertussis", tenth, |c| c == 115) >= 1;
    let men = valid_doses_where(&r, "Meningococcal", tenth, |_| true) >= 1;
    vec![
        (Measure::Tdap1, tdap),
        (Measure::MenAcwy1, men),
        (Measure::HpvStarted, valid_in_best(&r, "HPV") >= 1),
        (Measure::HpvComplete, complete(status(&r, "HPV"))),
    ]
}

/// The influenza season (July 1 – June 30) that contains `d`.
pub fn flu_season(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start_year = if d.month() >= 7 {
        d.year()
    } else {
        d.year() - 1
    };
    let start = NaiveDate::from_ymd_opt(start_year, 7, 1).unwrap_or(d);
    let end = NaiveDate::from_ymd_opt(start_year + 1, 6, 30).unwrap_or(d);
    (start, end)
}

fn flu(ctx: &Context<'_>, doses: &[Dose], as_of: NaiveDate) -> Vec<(Measure, bool)> {
    let (start, _) = flu_season(as_of);
    let got = doses.iter().any(|d| {
        d.was_given()
            && d.date >= start
            && d.date <= as_of
            && ctx
                .codes
                .vaccine(&d.cvx)
                .is_some_and(|v| v.vaccine_groups.iter().any(|g| g == "Influenza"))
    });
    vec![(Measure::FluSeason, got)]
}

/// Visits before `eval` at which some childhood vaccine was due (recommended date reached,
/// allowed to be given, not excused by an exemption) but not given, while something else was.
fn missed_opportunities(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    eval: NaiveDate,
) -> u32 {
    let mut visits: Vec<NaiveDate> = doses
        .iter()
        .filter(|d| d.was_given() && d.date <= eval)
        .map(|d| d.date)
        .collect();
    visits.sort_unstable();
    visits.dedup();
    let mut missed = 0;
    for v in visits {
        let before = crate::forecast_input::patient_before(p, doses, observations, v);
        let r = ctx.engine.forecast(&before, v);
        let given: Vec<&str> = doses
            .iter()
            .filter(|d| d.date == v && d.was_given())
            .filter_map(|d| ctx.codes.vaccine(&d.cvx))
            .flat_map(|c| c.vaccine_groups.iter().map(String::as_str))
            .collect();
        let due_not_given = CHILDHOOD_GROUPS.iter().any(|g| {
            r.vaccine_group(g).is_some_and(|vg| {
                vg.status == SeriesStatus::NotComplete
                    && vg
                        .forecast
                        .as_ref()
                        .is_some_and(|f| f.recommended <= v && f.earliest <= v)
                    && !given.contains(g)
            }) && excused(ctx.codes, &r, doses, g, v).is_none()
        });
        missed += due_not_given as u32;
    }
    missed
}

/// Assesses one child for `series` as of `as_of`.
pub fn assess(
    ctx: &Context<'_>,
    series: Series,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    as_of: NaiveDate,
) -> ChildAssessment {
    let (met, missed) = match series {
        Series::Childhood => {
            let (met, eval) = childhood(ctx, p, doses, observations, as_of);
            let utd = met
                .iter()
                .any(|(m, ok)| *m == Measure::Combined4313314 && *ok);
            // Only children behind are worth the extra forecasts per visit.
            let missed = if utd {
                0
            } else {
                missed_opportunities(ctx, p, doses, observations, eval)
            };
            (met, missed)
        }
        Series::Adolescent => (adolescent(ctx, p, doses, observations, as_of), 0),
        Series::Flu => (flu(ctx, doses, as_of), 0),
    };
    let headline = series.headline();
    let (missing, not_due) = unmet(ctx, p, doses, observations, as_of, &met);
    ChildAssessment {
        child: ChildRef::of(p),
        up_to_date: met.iter().any(|(m, ok)| *m == headline && *ok),
        missing,
        not_due,
        met,
        missed_opportunities: missed,
    }
}

/// The measures not met, split into what the clinic must find or give and what is not
/// to be asked (immunity, contraindication or exemption on record by `as_of`, or a PCV
/// catch-up series already complete for age).
fn unmet(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    as_of: NaiveDate,
    met: &[(Measure, bool)],
) -> (Vec<&'static str>, Vec<String>) {
    let is_met = |m: Measure| met.iter().any(|(x, ok)| *x == m && *ok);
    let unmet: Vec<Measure> = met
        .iter()
        .filter(|(m, ok)| {
            !ok && !matches!(m, Measure::Combined4313314 | Measure::PcvCompleteForAge)
        })
        .map(|(m, _)| *m)
        .collect();
    if unmet.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let now = may_be_excused(doses, observations).then(|| {
        let known =
            crate::forecast_input::patient_before(p, doses, observations, as_of + Days::new(1));
        ctx.engine.forecast(&known, as_of)
    });
    let mut missing = Vec::new();
    let mut not_due = Vec::new();
    for m in unmet {
        let reason = now
            .as_ref()
            .and_then(|r| group_of(m).and_then(|g| excused(ctx.codes, r, doses, g, as_of)));
        match reason {
            Some(why) => not_due.push(format!("{}: {why}", m.label())),
            None if m == Measure::Pcv4 && is_met(Measure::PcvCompleteForAge) => not_due.push(
                format!("{}: complete for age (catch-up), no dose due", m.label()),
            ),
            None => missing.push(m.label()),
        }
    }
    (missing, not_due)
}

/// Counts for one group of children (the whole cohort, a clinic or a county).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub children: u64,
    pub met: BTreeMap<Measure, u64>,
    pub with_missed_opportunities: u64,
}

impl Counts {
    fn add(&mut self, a: &ChildAssessment) {
        self.children += 1;
        for (m, ok) in &a.met {
            *self.met.entry(*m).or_default() += *ok as u64;
        }
        self.with_missed_opportunities += (a.missed_opportunities > 0) as u64;
    }
    fn merge(&mut self, o: Counts) {
        self.children += o.children;
        for (m, n) in o.met {
            *self.met.entry(m).or_default() += n;
        }
        self.with_missed_opportunities += o.with_missed_opportunities;
    }
    /// Percentage of children meeting `m`.
    pub fn rate(&self, m: Measure) -> f64 {
        percent(self.met.get(&m).copied().unwrap_or(0), self.children)
    }
}

/// The report: totals, per clinic and per county, and the children behind.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub series: Series,
    pub as_of: NaiveDate,
    pub total: Counts,
    pub by_clinic: BTreeMap<String, Counts>,
    pub by_county: BTreeMap<String, Counts>,
    /// By town, health department or district, and IAP area (empty when the cohort has
    /// no towns table to place children with).
    pub by_town: BTreeMap<String, Counts>,
    pub by_health_department: BTreeMap<String, Counts>,
    pub by_iap: BTreeMap<String, Counts>,
    /// Children not up to date, with what is missing and what is not asked and why
    /// (the clean-up list).
    pub behind: Vec<ChildAssessment>,
}

impl CoverageReport {
    pub fn new(series: Series, as_of: NaiveDate) -> Self {
        CoverageReport {
            series,
            as_of,
            total: Counts::default(),
            by_clinic: BTreeMap::new(),
            by_county: BTreeMap::new(),
            by_town: BTreeMap::new(),
            by_health_department: BTreeMap::new(),
            by_iap: BTreeMap::new(),
            behind: Vec::new(),
        }
    }

    /// Adds a child placed in towns as well (see [`CoverageReport::by_town`]).
    pub fn add_at(&mut self, a: ChildAssessment, at: Option<crate::place::Location<'_>>) {
        if let Some(at) = at {
            let unknown = || "(unknown)".to_string();
            let put = |m: &mut BTreeMap<String, Counts>, k: Option<&str>| {
                m.entry(k.map_or_else(unknown, str::to_string))
                    .or_default()
                    .add(&a)
            };
            put(&mut self.by_town, at.town);
            put(&mut self.by_health_department, at.health_department);
            put(&mut self.by_iap, at.iap_area);
        }
        self.add(a);
    }

    pub fn add(&mut self, a: ChildAssessment) {
        self.total.add(&a);
        let clinic = a
            .child
            .clinic
            .as_ref()
            .map_or("(none)".to_string(), |c| c.to_string());
        self.by_clinic.entry(clinic).or_default().add(&a);
        let county = a
            .child
            .county
            .map_or("(unknown)".to_string(), |c| c.to_string());
        self.by_county.entry(county).or_default().add(&a);
        if !a.up_to_date {
            self.behind.push(a);
        }
    }

    /// Combines two partial reports of the same series and date (parallel runs).
    pub fn merge(&mut self, o: CoverageReport) {
        self.total.merge(o.total);
        for (k, c) in o.by_clinic {
            self.by_clinic.entry(k).or_default().merge(c);
        }
        for (mine, theirs) in [
            (&mut self.by_county, o.by_county),
            (&mut self.by_town, o.by_town),
            (&mut self.by_health_department, o.by_health_department),
            (&mut self.by_iap, o.by_iap),
        ] {
            for (k, c) in theirs {
                mine.entry(k).or_default().merge(c);
            }
        }
        self.behind.extend(o.behind);
    }

    /// Sorts the behind list by clinic, name and birth date, for stable output.
    pub fn finish(mut self) -> Self {
        self.behind.sort_by(|a, b| {
            (&a.child.clinic, &a.child.name, a.child.dob, a.child.id).cmp(&(
                &b.child.clinic,
                &b.child.name,
                b.child.dob,
                b.child.id,
            ))
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    fn ctx_parts() -> (Engine, CodeSets) {
        (
            Engine::bundled().expect("bundled data"),
            CodeSets::embedded(),
        )
    }

    #[test]
    fn on_time_child_is_up_to_date_by_two() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let a = assess(
            &ctx,
            Series::Childhood,
            &p,
            &on_time(&p),
            &[],
            date("2025-06-01"),
        );
        assert!(a.up_to_date, "{:?}", a.missing);
        assert!(a.missing.is_empty());
    }

    #[test]
    fn hepb_dose_three_before_24_weeks_does_not_count() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let mut doses: Vec<Dose> = on_time(&p)
            .into_iter()
            .filter(|d| d.cvx.as_str() != "08")
            .collect();
        // HepB at birth, 4 weeks and 23 weeks: the third is too young (minimum 24 weeks).
        doses.extend([at(&p, 0, "08"), at(&p, 28, "08"), at(&p, 161, "08")]);
        let a = assess(&ctx, Series::Childhood, &p, &doses, &[], date("2025-06-01"));
        assert_eq!(a.missing, vec!["3+ HepB"]);
        assert!(!a.up_to_date);
    }

    #[test]
    fn doses_after_the_second_birthday_do_not_count() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let mut doses: Vec<Dose> = on_time(&p)
            .into_iter()
            .filter(|d| d.cvx.as_str() != "03")
            .collect();
        doses.push(at(&p, 800, "03")); // MMR at 26 months
        let a = assess(&ctx, Series::Childhood, &p, &doses, &[], date("2025-06-01"));
        assert_eq!(a.missing, vec!["1+ MMR"]);
    }

    /// Evidence of immunity is part of the engine's input in reports too (as on the
    /// patient page and in Z42), but only when it was known by the 2nd birthday.
    #[test]
    fn varicella_immunity_counts_when_known_by_the_second_birthday() {
        use crate::dose::ObservationKind;
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let doses: Vec<Dose> = on_time(&p)
            .into_iter()
            .filter(|d| d.cvx.as_str() != "21")
            .collect();
        let history = |on: &str| Observation {
            kind: ObservationKind::Immunity,
            code: "024".into(),
            text: "Healthcare provider verified history of varicella".into(),
            date: date(on),
        };
        // (observations, Var1 met, missing, not asked): immunity recorded after the 2nd
        // birthday does not meet the measure, but the clean-up list no longer asks for it.
        type Case = (Vec<Observation>, bool, Vec<&'static str>, Vec<&'static str>);
        let cases: [Case; 3] = [
            (vec![], false, vec!["1+ Varicella"], vec![]),
            (vec![history("2024-06-01")], true, vec![], vec![]),
            (
                vec![history("2025-03-01")],
                false,
                vec![],
                vec!["1+ Varicella: evidence of immunity"],
            ),
        ];
        for (observations, var1, missing, not_due) in cases {
            let a = assess(
                &ctx,
                Series::Childhood,
                &p,
                &doses,
                &observations,
                date("2025-06-01"),
            );
            assert_eq!(a.missing, missing, "{observations:?}");
            assert_eq!(a.not_due, not_due, "{observations:?}");
            assert!(a.met.contains(&(Measure::Var1, var1)), "{observations:?}");
        }
    }

    #[test]
    fn missed_opportunity_when_mmr_due_but_not_given() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        // At the 12-month visit only Hib and PCV were given; MMR and varicella were due.
        let doses: Vec<Dose> = on_time(&p)
            .into_iter()
            .filter(|d| !matches!(d.cvx.as_str(), "03" | "21"))
            .collect();
        let a = assess(&ctx, Series::Childhood, &p, &doses, &[], date("2025-06-01"));
        assert!(a.missed_opportunities >= 1, "{a:?}");
    }

    /// NIS-Teen: Tdap and MenACWY count from the 10th birthday; HPV UTD is the CDSi
    /// series (2 doses 5+ months apart when started before the 15th birthday).
    #[test]
    fn adolescent_measures_count_from_the_tenth_birthday() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2010-01-10");
        let years = |y: u64| y * 365 + y / 4;
        let early = vec![at(&p, years(9), "115"), at(&p, years(9), "136")];
        let a = assess(
            &ctx,
            Series::Adolescent,
            &p,
            &early,
            &[],
            date("2025-06-01"),
        );
        assert_eq!(
            a.missing,
            vec!["1+ Tdap", "1+ MenACWY", "1+ HPV", "HPV UTD"],
            "{a:?}"
        );
        let mut on_time = early.clone();
        on_time.extend([
            at(&p, years(11), "115"),
            at(&p, years(11), "136"),
            at(&p, years(11), "165"),
        ]);
        let a = assess(
            &ctx,
            Series::Adolescent,
            &p,
            &on_time,
            &[],
            date("2025-06-01"),
        );
        assert_eq!(a.missing, vec!["HPV UTD"], "{a:?}");
        on_time.push(at(&p, years(11) + 183, "165"));
        let a = assess(
            &ctx,
            Series::Adolescent,
            &p,
            &on_time,
            &[],
            date("2025-06-01"),
        );
        assert!(a.missing.is_empty() && a.up_to_date, "{a:?}");
    }

    /// 4+ PCV is a count; a catch-up series complete for age is its own measure, and the
    /// clean-up list says why it asks for no PCV dose.
    #[test]
    fn pcv_catch_up_is_complete_for_age_but_not_four_doses() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let mut doses: Vec<Dose> = on_time(&p)
            .into_iter()
            .filter(|d| d.cvx.as_str() != "133")
            .collect();
        doses.extend([at(&p, 366, "133"), at(&p, 430, "133")]);
        let a = assess(&ctx, Series::Childhood, &p, &doses, &[], date("2025-06-01"));
        assert!(a.met.contains(&(Measure::Pcv4, false)), "{a:?}");
        assert!(a.met.contains(&(Measure::PcvCompleteForAge, true)), "{a:?}");
        assert!(!a.up_to_date);
        assert!(a.missing.is_empty(), "{a:?}");
        assert_eq!(
            a.not_due,
            vec!["4+ PCV: complete for age (catch-up), no dose due"]
        );
    }

    #[test]
    fn flu_counts_this_season_only() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2020-01-10");
        let last_season = at(&p, 0, "150");
        let mut d = last_season.clone();
        d.date = date("2025-03-01");
        let a = assess(&ctx, Series::Flu, &p, &[d.clone()], &[], date("2025-10-01"));
        assert!(!a.up_to_date);
        d.date = date("2025-09-15");
        let a = assess(&ctx, Series::Flu, &p, &[d], &[], date("2025-10-01"));
        assert!(a.up_to_date);
    }

    #[test]
    fn report_counts_and_merges() {
        let (engine, codes) = ctx_parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2023-01-10");
        let mut r1 = CoverageReport::new(Series::Childhood, date("2025-06-01"));
        r1.add(assess(
            &ctx,
            Series::Childhood,
            &p,
            &on_time(&p),
            &[],
            date("2025-06-01"),
        ));
        let mut r2 = CoverageReport::new(Series::Childhood, date("2025-06-01"));
        r2.add(assess(
            &ctx,
            Series::Childhood,
            &p,
            &[],
            &[],
            date("2025-06-01"),
        ));
        r1.merge(r2);
        let r = r1.finish();
        assert_eq!(r.total.children, 2);
        assert_eq!(r.total.rate(Measure::Combined4313314), 50.0);
        assert_eq!(r.behind.len(), 1);
        assert_eq!(r.by_clinic["C1"].children, 2);
    }
}
