//! A dose's effect on stock, through its whole life: the pure rules.
//!
//! An administered dose the clinic gave from a lot it names draws one dose from that lot
//! ([`draws_from_stock`], [`source_lot`]); when the lot cannot be found in the clinic's
//! stock the dose is still recorded and an [`ExceptionKind`] says why it was not drawn.
//! A clinic that keeps no stock in ctwiz has nothing to reconcile: its doses draw nothing
//! and raise no exception ([`dose_source`], [`ClinicStock::NotKept`]).
//! Deleting the dose gives it back ([`DeletedVaccine`]) unless the vaccine was drawn up and
//! lost, which is wastage; a correction of lot or vaccine gives back the old draw and draws
//! again; a merge keeps one draw per dose event ([`repeat_on_merge`]). The store applies
//! these in the transaction that changes the dose (`ctwiz_store::usecase::dose_stock`).

use crate::dose::{Dose, FundingSource, InformationSource};
use crate::error::CoreError;
use crate::inventory::{Lot, StockFunding};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A dose the clinic gives on `date` from `lot`, which it picked from its stock: the
/// lot's vaccine, product and expiration, and its program's funding source.
pub fn dose_from_lot(lot: &Lot, date: NaiveDate) -> Dose {
    let mut d = Dose::new(lot.cvx.clone(), date, InformationSource::NewRecord);
    d.mvx = lot.mvx.clone();
    d.ndc = lot.ndc.clone();
    d.lot = Some(lot.lot_number.clone());
    d.lot_expiration = Some(lot.expiration);
    d.funding = Some(match lot.funding {
        StockFunding::Public(p) => p.funding(),
        StockFunding::Private => FundingSource::Private,
    });
    d
}

/// Refuses drawing a public program's lot for someone the program does not serve: CVP
/// vaccine for an adult, CVFA vaccine for a child (age on the day of the dose). Private
/// stock serves anyone. Applies where a user picks the lot; a dose reported after the
/// fact is a fact and still draws from the lot it names.
pub fn check_lot_serves(lot: &Lot, dob: NaiveDate, on: NaiveDate) -> Result<(), CoreError> {
    match lot.funding.program() {
        Some(p) => p.check_serves(crate::age::whole_years(dob, on)),
        None => Ok(()),
    }
}

/// Whether `d` came out of its clinic's own stock: given (complete or partial) by the
/// reporting clinic itself (a new record, RXA-9 = 00), naming a lot.
pub fn draws_from_stock(d: &Dose) -> bool {
    d.source.is_administered() && d.was_given() && d.lot.is_some() && d.clinic.is_some()
}

/// Whether a change from `before` to `after` touches stock (vaccine, lot, clinic, or
/// whether the dose draws at all); a date or route fix does not.
pub fn stock_changed(before: &Dose, after: &Dose) -> bool {
    draws_from_stock(before) != draws_from_stock(after)
        || before.cvx != after.cvx
        || before.lot != after.lot
        || before.clinic != after.clinic
}

/// Why an administered dose from the clinic's stock could not be drawn from a lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExceptionKind {
    /// No lot with this number (and vaccine) anywhere in ctwiz.
    UnknownLot,
    /// The lot number is held by another clinic, not the reporting one.
    OtherClinicLot,
    /// The clinic holds the lot, but none of it is left.
    NoStock,
    /// The clinic holds the lot, but it had expired on the dose's date.
    ExpiredLot,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 4] = [
        ExceptionKind::UnknownLot,
        ExceptionKind::OtherClinicLot,
        ExceptionKind::NoStock,
        ExceptionKind::ExpiredLot,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ExceptionKind::UnknownLot => "unknown-lot",
            ExceptionKind::OtherClinicLot => "other-clinic-lot",
            ExceptionKind::NoStock => "no-stock",
            ExceptionKind::ExpiredLot => "expired-lot",
        }
    }

    /// What a coordinator reads.
    pub fn label(self) -> &'static str {
        match self {
            ExceptionKind::UnknownLot => "lot not in the clinic's inventory",
            ExceptionKind::OtherClinicLot => "lot held by another clinic",
            ExceptionKind::NoStock => "no stock left in the lot",
            ExceptionKind::ExpiredLot => "lot expired on the dose's date",
        }
    }

    pub fn parse(s: &str) -> crate::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.key() == s.trim())
            .ok_or_else(|| crate::CoreError::Unknown {
                field: "inventory exception kind",
                value: s.into(),
                valid: Self::ALL.map(|k| k.key()).join(", "),
            })
    }
}

/// The lot `d` is drawn from among `at_clinic`, the reporting clinic's lots with the
/// dose's lot number (each with its quantity on hand): one of the dose's vaccine, not
/// expired on the dose's date, with a dose left (the fullest such lot, so public and
/// private lots sharing a number draw where the stock is). `held_elsewhere` says whether
/// another clinic holds a lot with that number, which names the exception when the
/// clinic holds none.
pub fn source_lot<'a>(
    d: &Dose,
    at_clinic: impl IntoIterator<Item = (&'a Lot, i64)>,
    held_elsewhere: bool,
) -> Result<&'a Lot, ExceptionKind> {
    let same: Vec<(&Lot, i64)> = at_clinic
        .into_iter()
        .filter(|(l, _)| l.cvx == d.cvx && Some(&l.lot_number) == d.lot.as_ref())
        .collect();
    if same.is_empty() {
        return Err(if held_elsewhere {
            ExceptionKind::OtherClinicLot
        } else {
            ExceptionKind::UnknownLot
        });
    }
    let live: Vec<(&Lot, i64)> = same
        .into_iter()
        .filter(|(l, _)| !l.is_expired(d.date))
        .collect();
    if live.is_empty() {
        return Err(ExceptionKind::ExpiredLot);
    }
    live.into_iter()
        .filter(|(_, on_hand)| *on_hand >= 1)
        .max_by_key(|(_, on_hand)| *on_hand)
        .map(|(l, _)| l)
        .ok_or(ExceptionKind::NoStock)
}

/// The reporting clinic's stock in ctwiz, as far as one dose from its stock needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClinicStock<I> {
    /// The clinic has never held a lot in ctwiz: it keeps its stock elsewhere.
    NotKept,
    /// The clinic holds (or has held) lots here: `numbered` are its lots with the dose's
    /// lot number, each with its quantity on hand; `held_elsewhere` says whether another
    /// clinic holds a lot with that number.
    Kept { numbered: I, held_elsewhere: bool },
}

/// What an administered dose from the clinic's stock does to the stock ctwiz keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoseSource<'a> {
    /// One dose is drawn from this lot.
    Lot(&'a Lot),
    /// Nothing is drawn; the clinic reconciles the dose as an inventory exception.
    Exception(ExceptionKind),
    /// Nothing is drawn and nothing is raised: an IIS asks a clinic to reconcile its doses
    /// against the stock it keeps in the IIS, and this clinic keeps none here.
    NotTracked,
}

/// Where administered dose `d` from its clinic's stock comes from: at a clinic that keeps
/// stock in ctwiz, the lot [`source_lot`] picks, or an inventory exception for every dose
/// no lot can supply (each resolved on its own); at a clinic that has never held a lot in
/// ctwiz, nowhere ([`DoseSource::NotTracked`]).
pub fn dose_source<'a, I: IntoIterator<Item = (&'a Lot, i64)>>(
    d: &Dose,
    stock: ClinicStock<I>,
) -> DoseSource<'a> {
    match stock {
        ClinicStock::NotKept => DoseSource::NotTracked,
        ClinicStock::Kept {
            numbered,
            held_elsewhere,
        } => match source_lot(d, numbered, held_elsewhere) {
            Ok(lot) => DoseSource::Lot(lot),
            Err(kind) => DoseSource::Exception(kind),
        },
    }
}

/// What became of the vaccine of a deleted dose record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeletedVaccine {
    /// The record was wrong (entered in error, wrong patient, duplicate): the dose is
    /// still in the lot and goes back to it.
    #[default]
    BackToStock,
    /// The vaccine was drawn up and lost (not given): the draw becomes wastage
    /// (`WastageReason::DrawnNotAdministered`).
    DrawnUpAndLost,
}

impl DeletedVaccine {
    pub fn key(self) -> &'static str {
        match self {
            DeletedVaccine::BackToStock => "back-to-stock",
            DeletedVaccine::DrawnUpAndLost => "drawn-up-and-lost",
        }
    }

    pub fn parse(s: &str) -> crate::Result<Self> {
        [DeletedVaccine::BackToStock, DeletedVaccine::DrawnUpAndLost]
            .into_iter()
            .find(|k| k.key() == s.trim())
            .ok_or_else(|| crate::CoreError::Unknown {
                field: "what became of the vaccine",
                value: s.into(),
                valid: "back-to-stock, drawn-up-and-lost".into(),
            })
    }
}

/// What a merge does with the draw of a repeated dose (the duplicate record's copy of a
/// dose event the survivor already has, kept deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatDraw {
    /// Neither copy drew stock: nothing to do.
    Nothing,
    /// Only the repeat drew: the draw now belongs to the kept dose (the event happened
    /// once and was drawn once).
    MoveToKept,
    /// Both copies drew: one event drew twice, the repeat's draw goes back.
    GiveBack,
}

/// [`RepeatDraw`] for a repeat that drew `repeat_drawn` doses when the kept dose drew
/// `kept_drawn`.
pub fn repeat_on_merge(kept_drawn: i64, repeat_drawn: i64) -> RepeatDraw {
    match (kept_drawn > 0, repeat_drawn > 0) {
        (_, false) => RepeatDraw::Nothing,
        (false, true) => RepeatDraw::MoveToKept,
        (true, true) => RepeatDraw::GiveBack,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClinicPin, Cvx, LotNumber};
    use crate::program::Program;
    use chrono::NaiveDate;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }
    fn lot(id: i64, number: &str, cvx: &str, exp: NaiveDate, funding: StockFunding) -> Lot {
        Lot {
            id: Some(id),
            clinic: ClinicPin::new("C1").unwrap(),
            cvx: Cvx::new(cvx).unwrap(),
            ndc: None,
            mvx: None,
            lot_number: LotNumber::new(number).unwrap(),
            expiration: exp,
            funding,
        }
    }
    fn given(number: &str, cvx: &str, on: NaiveDate) -> Dose {
        let mut d = Dose::new(Cvx::new(cvx).unwrap(), on, InformationSource::NewRecord);
        d.lot = Some(LotNumber::new(number).unwrap());
        d.clinic = Some(ClinicPin::new("C1").unwrap());
        d
    }

    #[test]
    fn only_doses_the_clinic_gave_from_a_named_lot_draw() {
        let d = given("A1", "20", day(3, 1));
        assert!(draws_from_stock(&d));
        let mut h = d.clone();
        h.source = InformationSource::HistoricalUnspecified;
        assert!(!draws_from_stock(&h));
        let mut no_lot = d.clone();
        no_lot.lot = None;
        assert!(!draws_from_stock(&no_lot));
        let mut refused = d.clone();
        refused.completion = crate::dose::CompletionStatus::Refused;
        assert!(!draws_from_stock(&refused));
        let mut moved = d.clone();
        moved.date = day(3, 2);
        assert!(!stock_changed(&d, &moved), "a date fix leaves stock alone");
        moved.lot = Some(LotNumber::new("B2").unwrap());
        assert!(stock_changed(&d, &moved));
    }

    #[test]
    fn the_source_lot_or_the_reason_there_is_none() {
        let exp = day(6, 30);
        let public = lot(1, "A1", "20", exp, StockFunding::Public(Program::Cvp));
        let private = lot(2, "A1", "20", exp, StockFunding::Private);
        let d = given("A1", "20", day(3, 1));
        // The fuller of two lots sharing the number.
        let got = source_lot(&d, [(&public, 2), (&private, 5)], false).unwrap();
        assert_eq!(got.id, Some(2));
        assert_eq!(
            source_lot(&d, [(&public, 0), (&private, 0)], false),
            Err(ExceptionKind::NoStock)
        );
        // Given on the expiration date: usable; the day after: expired.
        assert!(source_lot(&given("A1", "20", exp), [(&public, 1)], false).is_ok());
        assert_eq!(
            source_lot(&given("A1", "20", day(7, 1)), [(&public, 1)], false),
            Err(ExceptionKind::ExpiredLot)
        );
        assert_eq!(
            source_lot(&d, std::iter::empty(), true),
            Err(ExceptionKind::OtherClinicLot)
        );
        assert_eq!(
            source_lot(&d, std::iter::empty(), false),
            Err(ExceptionKind::UnknownLot)
        );
        // A lot of another vaccine under the same number is not this dose's lot.
        let mmr = lot(3, "A1", "03", exp, StockFunding::Public(Program::Cvp));
        assert_eq!(
            source_lot(&d, [(&mmr, 9)], false),
            Err(ExceptionKind::UnknownLot)
        );
        for k in ExceptionKind::ALL {
            assert_eq!(ExceptionKind::parse(k.key()).unwrap(), k);
        }
        assert!(ExceptionKind::parse("nope").is_err());
    }

    #[test]
    fn a_clinic_that_keeps_no_stock_here_has_nothing_to_reconcile() {
        let held = lot(
            1,
            "A1",
            "20",
            day(6, 30),
            StockFunding::Public(Program::Cvp),
        );
        let d = given("A1", "20", day(3, 1));
        fn kept(numbered: Vec<(&Lot, i64)>, held_elsewhere: bool) -> ClinicStock<Vec<(&Lot, i64)>> {
            ClinicStock::Kept {
                numbered,
                held_elsewhere,
            }
        }
        // Never held a lot here: no draw and no exception, whatever the lot number names.
        assert_eq!(
            dose_source(&d, ClinicStock::<Vec<(&Lot, i64)>>::NotKept),
            DoseSource::NotTracked
        );
        // Keeps stock here: the lot, or one exception per dose as before.
        assert_eq!(
            dose_source(&d, kept(vec![(&held, 3)], false)),
            DoseSource::Lot(&held)
        );
        assert_eq!(
            dose_source(&d, kept(vec![(&held, 0)], false)),
            DoseSource::Exception(ExceptionKind::NoStock)
        );
        assert_eq!(
            dose_source(&d, kept(Vec::new(), false)),
            DoseSource::Exception(ExceptionKind::UnknownLot)
        );
        assert_eq!(
            dose_source(&d, kept(Vec::new(), true)),
            DoseSource::Exception(ExceptionKind::OtherClinicLot)
        );
    }

    #[test]
    fn a_merge_keeps_one_draw_per_dose_event() {
        assert_eq!(repeat_on_merge(0, 0), RepeatDraw::Nothing);
        assert_eq!(repeat_on_merge(1, 0), RepeatDraw::Nothing);
        assert_eq!(repeat_on_merge(0, 1), RepeatDraw::MoveToKept);
        assert_eq!(repeat_on_merge(1, 1), RepeatDraw::GiveBack);
        assert_eq!(
            DeletedVaccine::parse("drawn-up-and-lost").unwrap(),
            DeletedVaccine::DrawnUpAndLost
        );
        assert!(DeletedVaccine::parse("gone").is_err());
    }

    #[test]
    fn a_picked_lot_carries_its_program_and_serves_only_its_ages() {
        let exp = NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let child = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let adult = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
        let cvp = lot(1, "A1", "20", exp, StockFunding::Public(Program::Cvp));
        let cvfa = lot(2, "B1", "20", exp, StockFunding::Public(Program::Cvfa));
        let private = lot(3, "C1", "20", exp, StockFunding::Private);
        let d = dose_from_lot(&cvfa, on);
        assert_eq!(d.funding, Some(FundingSource::PublicNonVfc));
        assert_eq!(d.lot.as_ref().map(|l| l.as_str()), Some("B1"));
        assert_eq!(d.lot_expiration, Some(exp));
        assert_eq!(dose_from_lot(&cvp, on).funding, Some(FundingSource::Public));
        assert_eq!(
            dose_from_lot(&private, on).funding,
            Some(FundingSource::Private)
        );
        assert!(check_lot_serves(&cvp, child, on).is_ok());
        assert!(check_lot_serves(&cvfa, adult, on).is_ok());
        assert!(check_lot_serves(&private, adult, on).is_ok());
        let e = check_lot_serves(&cvp, adult, on).unwrap_err();
        assert!(e.to_string().contains("CVP vaccine is for children"), "{e}");
        let e = check_lot_serves(&cvfa, child, on).unwrap_err();
        assert!(e.to_string().contains("CVFA vaccine is for adults"), "{e}");
        // An 18-year-old still gets CVP vaccine; on the 19th birthday CVFA.
        let eighteen = NaiveDate::from_ymd_opt(2007, 6, 2).unwrap();
        assert!(check_lot_serves(&cvp, eighteen, on).is_ok());
        assert!(check_lot_serves(&cvfa, NaiveDate::from_ymd_opt(2007, 6, 1).unwrap(), on).is_ok());
    }
}
