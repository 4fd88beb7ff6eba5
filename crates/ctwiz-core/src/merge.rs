//! Merging two records of the same person (deduplication): which of the duplicate's
//! doses are already on the survivor, and how the two sets of demographics combine.
//!
//! The store applies these rules inside one transaction; they are pure so they can be
//! tested (and reasoned about) without a database.

use crate::dose::Dose;
use crate::error::{CoreError, Result};
use crate::ids::DoseId;
use crate::patient::{Patient, Sex};

/// Whether two dose records describe the same immunization event: same date and CVX,
/// and the same lot number when both carry one. A dose reported once by each of two
/// providers (or twice by one) is one event for forecasting and coverage.
pub fn same_dose_event(a: &Dose, b: &Dose) -> bool {
    if a.date != b.date || a.cvx != b.cvx {
        return false;
    }
    match (&a.lot, &b.lot) {
        (Some(x), Some(y)) => x.as_str().eq_ignore_ascii_case(y.as_str()),
        _ => true,
    }
}

/// What happens to the duplicate's doses in a merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoseMergePlan {
    /// Distinct doses: moved to the survivor as they are.
    pub moved: Vec<DoseId>,
    /// Doses the survivor already has, each with the survivor's dose it repeats. They are
    /// moved too but marked deleted (kept for audit, never counted twice).
    pub repeated: Vec<(DoseId, DoseId)>,
}

/// Decides, for each stored dose of the duplicate, whether it is new to the survivor or
/// repeats one of the survivor's doses ([`same_dose_event`]). Doses without an id
/// (never stored) are ignored. Every stored dose of the duplicate lands in exactly one list.
pub fn plan_dose_merge(survivor: &[Dose], duplicate: &[Dose]) -> DoseMergePlan {
    let mut plan = DoseMergePlan::default();
    for d in duplicate {
        let Some(id) = d.id else { continue };
        match survivor
            .iter()
            .find(|s| s.id.is_some() && same_dose_event(s, d))
            .and_then(|s| s.id)
        {
            Some(kept) => plan.repeated.push((id, kept)),
            None => plan.moved.push(id),
        }
    }
    plan
}

/// Refuses merges that must not happen automatically: a record into itself, or
/// involving an opted-out record (the family's choice has to be settled first, since an
/// opted-out record keeps no doses or contacts).
pub fn check_merge(survivor: &Patient, duplicate: &Patient) -> Result<()> {
    if survivor.id.is_some() && survivor.id == duplicate.id {
        return Err(CoreError::Rule(
            "a patient cannot be merged into itself".into(),
        ));
    }
    for (role, p) in [("survivor", survivor), ("duplicate", duplicate)] {
        if p.opt_out.is_some() {
            return Err(CoreError::Rule(format!(
                "the {role} record{} has opted out of the registry; settle the opt-out before merging",
                p.id.map(|i| format!(" ({i})")).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// The survivor's demographics completed from the duplicate: the survivor's values win;
/// its empty fields are filled from the duplicate; lists (addresses, phones, e-mails,
/// guardians, MRNs, races, other identifiers) gain the duplicate's entries they lack. A
/// record is confidential if either was, and a recorded death is never dropped.
pub fn merge_demographics(survivor: &Patient, duplicate: &Patient) -> Patient {
    fn union<T: PartialEq + Clone>(into: &mut Vec<T>, from: &[T]) {
        for x in from {
            if !into.contains(x) {
                into.push(x.clone());
            }
        }
    }
    let mut p = survivor.clone();
    if p.name.middle.is_none() {
        p.name.middle = duplicate.name.middle.clone();
    }
    if p.name.suffix.is_none() {
        p.name.suffix = duplicate.name.suffix.clone();
    }
    if p.mothers_maiden_name.is_none() {
        p.mothers_maiden_name = duplicate.mothers_maiden_name.clone();
    }
    if p.sex == Sex::Unknown {
        p.sex = duplicate.sex;
    }
    union(&mut p.addresses, &duplicate.addresses);
    union(&mut p.phones, &duplicate.phones);
    union(&mut p.emails, &duplicate.emails);
    union(&mut p.guardians, &duplicate.guardians);
    union(&mut p.mrns, &duplicate.mrns);
    union(&mut p.races, &duplicate.races);
    union(&mut p.identifiers, &duplicate.identifiers);
    if p.ethnicity.is_none() {
        p.ethnicity = duplicate.ethnicity;
    }
    if p.birth_order.is_none() {
        p.birth_order = duplicate.birth_order;
    }
    // One report of a multiple birth is kept: it keeps the co-twin's records apart.
    p.multiple_birth = match (p.multiple_birth, duplicate.multiple_birth) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (x, y) => x.or(y),
    };
    if p.deceased_date.is_none() && duplicate.deceased_date.is_some() {
        p.deceased_date = duplicate.deceased_date;
        p.status = duplicate.status;
    }
    p.confidential |= duplicate.confidential;
    if p.publicity.is_none() {
        p.publicity = duplicate.publicity.clone();
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dose::InformationSource;
    use crate::ids::{ClinicPin, Cvx, LotNumber, PatientId, Phone};
    use crate::patient::{Mrn, PersonName};
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, d).expect("valid day")
    }

    fn dose(id: i64, cvx: &str, d: u32, lot: Option<&str>) -> Dose {
        let mut x = Dose::new(
            Cvx::new(cvx).expect("cvx"),
            day(d),
            InformationSource::NewRecord,
        );
        x.id = Some(DoseId(id));
        x.lot = lot.map(|l| LotNumber::new(l).expect("lot"));
        x
    }

    fn patient(id: i64, given: &str) -> Patient {
        let mut p = Patient::new(
            PersonName::new("Rivera", given).expect("name"),
            day(1),
            Sex::Female,
        )
        .expect("patient");
        p.id = Some(PatientId(id));
        p
    }

    #[test]
    fn same_event_needs_date_and_cvx_and_agreeing_lots() {
        assert!(same_dose_event(
            &dose(1, "08", 2, None),
            &dose(2, "08", 2, Some("A1"))
        ));
        assert!(same_dose_event(
            &dose(1, "08", 2, Some("a1")),
            &dose(2, "08", 2, Some("A1"))
        ));
        assert!(!same_dose_event(
            &dose(1, "08", 2, Some("B2")),
            &dose(2, "08", 2, Some("A1"))
        ));
        assert!(!same_dose_event(
            &dose(1, "08", 2, None),
            &dose(2, "08", 3, None)
        ));
        assert!(!same_dose_event(
            &dose(1, "08", 2, None),
            &dose(2, "10", 2, None)
        ));
    }

    #[test]
    fn plan_separates_repeats_from_new_doses() {
        let survivor = [dose(1, "08", 2, None), dose(2, "10", 9, None)];
        let duplicate = [dose(7, "08", 2, Some("L")), dose(8, "10", 10, None)];
        let plan = plan_dose_merge(&survivor, &duplicate);
        assert_eq!(plan.moved, vec![DoseId(8)]);
        assert_eq!(plan.repeated, vec![(DoseId(7), DoseId(1))]);
    }

    #[test]
    fn survivor_wins_and_empty_fields_are_filled() {
        let pin = ClinicPin::new("C1").expect("pin");
        let mut s = patient(1, "Luz");
        s.sex = Sex::Unknown;
        s.mrns.push(Mrn::new(pin.clone(), "A").expect("mrn"));
        let mut d = patient(2, "Lucia");
        d.name.middle = Some("Maria".into());
        d.mothers_maiden_name = Some("Ortiz".into());
        d.phones.push(Phone::new("860-555-0100").expect("phone"));
        d.mrns.push(Mrn::new(pin.clone(), "A").expect("mrn"));
        d.mrns.push(Mrn::new(pin, "B").expect("mrn"));
        d.confidential = true;
        d.mark_deceased(day(20));
        let m = merge_demographics(&s, &d);
        assert_eq!(m.id, s.id);
        assert_eq!(m.name.given, "Luz");
        assert_eq!(m.name.middle.as_deref(), Some("Maria"));
        assert_eq!(m.mothers_maiden_name.as_deref(), Some("Ortiz"));
        assert_eq!(m.sex, Sex::Female);
        assert_eq!(m.phones.len(), 1);
        assert_eq!(m.mrns.len(), 2, "MRNs are not duplicated");
        assert!(m.confidential);
        assert_eq!(m.deceased_date, Some(day(20)));
        assert_eq!(m.multiple_birth, None);
        // A report of a multiple birth on either record is kept.
        let mut twin = d.clone();
        twin.multiple_birth = Some(true);
        let mut single = s.clone();
        single.multiple_birth = Some(false);
        assert_eq!(
            merge_demographics(&single, &twin).multiple_birth,
            Some(true)
        );
        assert_eq!(
            merge_demographics(&twin, &single).multiple_birth,
            Some(true)
        );
        assert_eq!(merge_demographics(&s, &single).multiple_birth, Some(false));
        assert!(m.validate(day(28)).is_ok());
    }

    #[test]
    fn merges_that_are_refused() {
        let s = patient(1, "Luz");
        assert!(check_merge(&s, &s.clone()).is_err());
        let mut d = patient(2, "Luz");
        assert!(check_merge(&s, &d).is_ok());
        d.opt_out(day(3), "parent's request").expect("opt out");
        let e = check_merge(&s, &d).unwrap_err().to_string();
        assert!(e.contains("opted out"), "{e}");
    }

    proptest! {
        /// Every stored dose of the duplicate is either moved or recorded as a repeat of a
        /// survivor's dose with the same date and vaccine: a merge never loses a distinct dose.
        #[test]
        fn no_distinct_dose_is_lost(
            s in prop::collection::vec((0usize..3, 1u32..6, prop::option::of(0usize..2)), 0..8),
            d in prop::collection::vec((0usize..3, 1u32..6, prop::option::of(0usize..2)), 0..8),
        ) {
            const CVX: [&str; 3] = ["08", "10", "20"];
            const LOT: [&str; 2] = ["A1", "B2"];
            let mk = |base: i64, v: &[(usize, u32, Option<usize>)]| -> Vec<Dose> {
                v.iter().enumerate().map(|(i, (c, dd, l))| {
                    dose(base + i as i64, CVX[*c], *dd, l.map(|l| LOT[l]))
                }).collect()
            };
            let survivor = mk(1, &s);
            let duplicate = mk(100, &d);
            let plan = plan_dose_merge(&survivor, &duplicate);
            prop_assert_eq!(plan.moved.len() + plan.repeated.len(), duplicate.len());
            for (dup, kept) in &plan.repeated {
                let a = duplicate.iter().find(|x| x.id == Some(*dup)).expect("dup dose");
                let b = survivor.iter().find(|x| x.id == Some(*kept)).expect("kept dose");
                prop_assert!(same_dose_event(a, b));
            }
            for id in &plan.moved {
                let a = duplicate.iter().find(|x| x.id == Some(*id)).expect("moved dose");
                prop_assert!(!survivor.iter().any(|b| same_dose_event(a, b)));
            }
        }
    }
}
