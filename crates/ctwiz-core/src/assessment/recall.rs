//! Reminder/recall: who is due or overdue (per the engine) in a window, with how to
//! reach the family. Inactive (including moved or gone elsewhere), opted-out and deceased
//! patients, and families who asked for no reminders (PD1-11 = 01), are never listed, and
//! nobody is asked for a vaccine group they are immune to, contraindicated for or exempt
//! from (the reason shows in their row when something else is due).

use super::coverage::Context;
use super::{excused, may_be_excused, ChildRef};
use crate::dose::{Dose, Observation};
use crate::patient::{Patient, PatientStatus};
use chrono::{Days, NaiveDate};
use ctwiz_forecast::SeriesStatus;
use serde::Serialize;

/// Whether a dose is coming due or already overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Urgency {
    /// Recommended date falls in the window.
    Due,
    /// Past-due date has passed.
    Overdue,
}

/// One vaccine group a patient should be reminded about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueGroup {
    pub vaccine_group: String,
    pub dose_number: u8,
    pub recommended: NaiveDate,
    pub past_due: Option<NaiveDate>,
    pub urgency: Urgency,
}

/// A patient to remind, with contact details for letters, labels and calls.
#[derive(Debug, Clone, Serialize)]
pub struct RecallEntry {
    pub child: ChildRef,
    pub guardian: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub due: Vec<DueGroup>,
    /// Vaccine groups of the query not asked, with the reason ("Varicella: evidence of
    /// immunity", "MMR: contraindicated", "Polio: exempt (religious exemption, ...)").
    pub not_asked: Vec<String>,
}

/// Which patients and vaccine groups a run covers.
#[derive(Debug, Clone)]
pub struct RecallQuery {
    pub as_of: NaiveDate,
    /// Remind about doses recommended in [from, to]; overdue doses are always included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only these vaccine groups (CDSi names); empty = all.
    pub vaccine_groups: Vec<String>,
    pub include_overdue: bool,
}

/// Whether the patient may be contacted at all.
/// How often a clinic is expected to run its reminder/recall list.
pub const RECALL_EVERY_DAYS: i64 = 30;

/// Whether a clinic's reminder/recall run is due: no notices recorded in the last
/// [`RECALL_EVERY_DAYS`] days (or ever).
pub fn recall_run_due(last_run: Option<NaiveDate>, today: NaiveDate) -> bool {
    last_run.is_none_or(|d| (today - d).num_days() >= RECALL_EVERY_DAYS)
}

pub fn reachable(p: &Patient) -> bool {
    p.status == PatientStatus::Active
        && !p.is_opted_out()
        && p.deceased_date.is_none()
        && p.publicity.as_ref().is_none_or(|x| x.allows_reminders())
}

/// The vaccine groups due or overdue per `q` for a patient (the groups the record lists,
/// as on the web, CLI and Z42), and the groups of the query not asked with the reason.
pub fn due_groups(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    q: &RecallQuery,
) -> (Vec<DueGroup>, Vec<(String, String)>) {
    let known =
        crate::forecast_input::patient_before(p, doses, observations, q.as_of + Days::new(1));
    let r = ctx.engine.forecast(&known, q.as_of);
    let asked = |g: &&ctwiz_forecast::VaccineGroupForecast| {
        q.vaccine_groups.is_empty()
            || q.vaccine_groups
                .iter()
                .any(|w| w.eq_ignore_ascii_case(&g.vaccine_group))
    };
    let not_asked: Vec<(String, String)> = if may_be_excused(doses, observations) {
        r.vaccine_groups
            .iter()
            .filter(asked)
            .filter_map(|g| {
                excused(ctx.codes, &r, doses, &g.vaccine_group, q.as_of)
                    .map(|w| (g.vaccine_group.to_string(), w))
            })
            .collect()
    } else {
        Vec::new()
    };
    let due: Vec<DueGroup> = r
        .vaccine_groups
        .iter()
        .filter(asked)
        .filter(|g| g.status == SeriesStatus::NotComplete)
        // The groups the patient's record lists (web, CLI, Z42 alike): no notice for a
        // vaccine given by shared decision only or on the adult schedule of a child.
        .filter(|g| {
            ctwiz_forecast::explain::relevance(ctx.engine.supporting_data(), &r, g, p.dob)
                == ctwiz_forecast::Relevance::Listed
        })
        .filter(|g| !not_asked.iter().any(|(n, _)| *n == g.vaccine_group))
        .filter_map(|g| {
            let f = g.forecast.as_ref()?;
            let overdue = f.past_due.is_some_and(|pd| pd <= q.as_of);
            let urgency = if overdue && q.include_overdue {
                Urgency::Overdue
            } else if f.recommended >= q.from && f.recommended <= q.to {
                Urgency::Due
            } else {
                return None;
            };
            Some(DueGroup {
                vaccine_group: g.vaccine_group.to_string(),
                dose_number: f.dose_number,
                recommended: f.recommended,
                past_due: f.past_due,
                urgency,
            })
        })
        .collect();
    (due, not_asked)
}

/// What a student still needs on `as_of`: the vaccine groups past due (by the same rule
/// as recall, whatever the family's reminder preference: a school nurse follows every
/// student), and the groups excused with the reason.
pub fn not_up_to_date(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    as_of: NaiveDate,
) -> (Vec<DueGroup>, Vec<(String, String)>) {
    let q = RecallQuery {
        as_of,
        from: as_of,
        to: as_of,
        vaccine_groups: Vec::new(),
        include_overdue: true,
    };
    let (due, excused) = due_groups(ctx, p, doses, observations, &q);
    let overdue = due
        .into_iter()
        .filter(|g| g.urgency == Urgency::Overdue)
        .collect();
    (overdue, excused)
}

/// The patient's recall entry, or `None` when nothing is due or they must not be contacted.
pub fn recall_entry(
    ctx: &Context<'_>,
    p: &Patient,
    doses: &[Dose],
    observations: &[Observation],
    q: &RecallQuery,
) -> Option<RecallEntry> {
    if !reachable(p) {
        return None;
    }
    let (due, not_asked) = due_groups(ctx, p, doses, observations, q);
    if due.is_empty() {
        return None;
    }
    let address = p
        .addresses
        .first()
        .map(|a| format!("{}, {}, {} {}", a.street, a.city, a.state, a.zip));
    Some(RecallEntry {
        child: ChildRef::of(p),
        guardian: p.guardians.first().map(|g| g.name.display()),
        address,
        phone: p
            .phones
            .first()
            .or_else(|| p.guardians.iter().find_map(|g| g.phone.as_ref()))
            .map(|x| x.formatted()),
        email: p.emails.first().map(|e| e.to_string()),
        due,
        not_asked: not_asked
            .into_iter()
            .map(|(g, w)| format!("{g}: {w}"))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::patient::Publicity;

    fn q(as_of: &str, from: &str, to: &str) -> RecallQuery {
        RecallQuery {
            as_of: date(as_of),
            from: date(from),
            to: date(to),
            vaccine_groups: vec![],
            include_overdue: true,
        }
    }

    #[test]
    fn overdue_child_is_listed_and_opt_outs_are_not() {
        let (engine, codes) = parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let mut p = child("2024-01-10");
        let e = recall_entry(
            &ctx,
            &p,
            &[],
            &[],
            &q("2024-09-01", "2024-09-01", "2024-09-30"),
        )
        .unwrap();
        assert!(
            e.due
                .iter()
                .any(|d| d.vaccine_group == "DTaP/Tdap/Td" && d.urgency == Urgency::Overdue),
            "{e:?}"
        );
        p.publicity = Some(Publicity {
            code: "01".into(),
            since: None,
        });
        assert!(recall_entry(
            &ctx,
            &p,
            &[],
            &[],
            &q("2024-09-01", "2024-09-01", "2024-09-30")
        )
        .is_none());
        p.publicity = None;
        p.opt_out(date("2024-05-01"), "parent request").unwrap();
        assert!(recall_entry(
            &ctx,
            &p,
            &[],
            &[],
            &q("2024-09-01", "2024-09-01", "2024-09-30")
        )
        .is_none());
    }

    #[test]
    fn group_filter_and_window() {
        let (engine, codes) = parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2024-01-10");
        let doses = on_time(&p);
        // At 11.5 months, MMR (recommended at 12 months) comes due in the next month.
        let mut query = q("2024-12-20", "2024-12-20", "2025-01-31");
        query.vaccine_groups = vec!["MMR".into()];
        let e = recall_entry(&ctx, &p, &doses[..doses.len() - 7], &[], &query).unwrap();
        assert_eq!(e.due.len(), 1);
        assert_eq!(e.due[0].urgency, Urgency::Due);
        query.to = date("2024-12-31");
        assert!(recall_entry(&ctx, &p, &doses[..doses.len() - 7], &[], &query).is_none());
    }

    /// A religious exemption from polio and a varicella disease history: neither group is
    /// asked; the row (the child is due for something else) says why.
    #[test]
    fn exempt_and_immune_groups_are_not_asked_and_the_row_says_why() {
        use crate::dose::{CompletionStatus, Observation, ObservationKind, RefusalReason};
        let (engine, codes) = parts();
        let ctx = Context {
            engine: &engine,
            codes: &codes,
        };
        let p = child("2024-01-10");
        let mut refused = at(&p, 61, "10");
        refused.completion = CompletionStatus::Refused;
        refused.refusal = Some(RefusalReason::ReligiousExemption);
        let history = Observation::new(
            ObservationKind::Immunity,
            "024",
            "History of varicella",
            date("2024-08-01"),
        )
        .unwrap();
        let query = q("2025-06-01", "2025-01-01", "2025-06-30");
        let plain = recall_entry(&ctx, &p, &[], &[], &query).unwrap();
        for g in ["Polio", "Varicella"] {
            assert!(plain.due.iter().any(|d| d.vaccine_group == g), "{plain:?}");
        }
        let e = recall_entry(&ctx, &p, &[refused], &[history], &query).unwrap();
        assert!(
            !e.due
                .iter()
                .any(|d| d.vaccine_group == "Polio" || d.vaccine_group == "Varicella"),
            "{e:?}"
        );
        assert!(e.due.iter().any(|d| d.vaccine_group == "MMR"), "{e:?}");
        assert_eq!(
            e.not_asked,
            vec![
                "Polio: exempt (religious exemption, 2024-03-11)",
                "Varicella: evidence of immunity"
            ]
        );
    }
}
