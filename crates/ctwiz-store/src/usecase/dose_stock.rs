//! A dose's effect on stock, applied in the transaction that changes the dose: the one
//! place every door's dose changes reach stock (web and CLI through `usecase::doses` and
//! `usecase::dedup`, HL7 VXU RXA-21 A/U/D, SOAP, MLLP and batch import through
//! `ctwiz_hl7::interface`). The rules are `ctwiz_core::dose_stock`'s; this module reads
//! the stock they need and writes the movements and exceptions they decide.
//!
//! Every draw and give-back names its dose record (`inventory_transactions.dose_id`), so a
//! record's net draw is known at any time and follows the record through correction,
//! deletion and merge.

use crate::error::Result;
use crate::traits::{ExceptionResolution, Interface, InventoryStore, NewException};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::dose::Dose;
use ctwiz_core::dose_stock::{
    dose_source, draws_from_stock, stock_changed, ClinicStock, DeletedVaccine, DoseSource,
    ExceptionKind, RepeatDraw,
};
use ctwiz_core::ids::DoseId;
use ctwiz_core::inventory::{Movement, WastageReason};

/// Who changed the dose, through which door, when: the movements' and exceptions' trail.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub by: &'a str,
    pub interface: Interface,
    pub at: NaiveDateTime,
}

/// What recording a dose did to stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawn {
    /// Not an administered dose from the clinic's stock.
    NotFromStock,
    /// One dose drawn from this lot.
    Lot(i64),
    /// Recorded as an inventory exception of this kind (nothing drawn).
    Exception(ExceptionKind),
    /// Nothing drawn and no exception: the clinic keeps no stock in ctwiz, so there is
    /// nothing to reconcile the dose against (`DoseSource::NotTracked`).
    NotTracked,
}

/// Stock for dose record `d` (stored: it has an id), just recorded. With `chosen` (a lot
/// of the clinic the user picked), one dose is drawn from it and the stock rules may
/// refuse. Otherwise an administered dose from the clinic's stock draws from the lot it
/// names, or is recorded as an inventory exception when the clinic cannot draw it from
/// that lot, or touches nothing when the clinic keeps no stock in ctwiz
/// (`ctwiz_core::dose_stock::dose_source`): the dose itself is never refused for stock it
/// names.
pub fn record<S: InventoryStore + ?Sized>(
    s: &S,
    d: &Dose,
    chosen: Option<i64>,
    by: Change<'_>,
) -> Result<Drawn> {
    let id = stored_id(d)?;
    if let Some(lot) = chosen {
        draw(s, lot, id, d, by)?;
        return Ok(Drawn::Lot(lot));
    }
    let (true, Some(clinic), Some(number)) = (draws_from_stock(d), &d.clinic, &d.lot) else {
        return Ok(Drawn::NotFromStock);
    };
    // A clinic that never held a lot here: no lot to look up (one index seek decides).
    let lots = if s.holds_any_lot(clinic)? {
        Some(s.lots_numbered(number)?)
    } else {
        None
    };
    let (held, other): (Vec<_>, Vec<_>) =
        lots.iter().flatten().partition(|l| &l.lot.clinic == clinic);
    let stock = if lots.is_some() {
        ClinicStock::Kept {
            numbered: held.iter().map(|l| (&l.lot, l.on_hand)),
            held_elsewhere: held.is_empty() && !other.is_empty(),
        }
    } else {
        ClinicStock::NotKept
    };
    match dose_source(d, stock) {
        DoseSource::NotTracked => Ok(Drawn::NotTracked),
        DoseSource::Lot(lot) => {
            let lot = lot
                .id
                .ok_or_else(|| crate::StoreError::Corrupt("lot without id".into()))?;
            draw(s, lot, id, d, by)?;
            Ok(Drawn::Lot(lot))
        }
        DoseSource::Exception(kind) => {
            s.raise_exception(&NewException {
                dose: id,
                clinic: clinic.clone(),
                kind,
                cvx: d.cvx.clone(),
                lot_number: number.clone(),
                by: by.by.to_string(),
                interface: by.interface,
                at: by.at,
            })?;
            Ok(Drawn::Exception(kind))
        }
    }
}

fn stored_id(d: &Dose) -> Result<DoseId> {
    d.id.ok_or_else(|| crate::StoreError::Conflict("the dose is not stored yet".into()))
}

fn draw<S: InventoryStore + ?Sized>(
    s: &S,
    lot: i64,
    id: DoseId,
    d: &Dose,
    by: Change<'_>,
) -> Result<i64> {
    s.record_dose_movement(
        lot,
        id,
        &Movement::Administer { doses: 1 },
        d.date,
        by.by,
        by.at,
    )
}

/// Stock for dose record `d`, just deleted for `reason`: what it drew goes back to the
/// lot as its own movement naming the reason, and, when the vaccine was drawn up and
/// lost, is wasted (`DrawnNotAdministered`); its open exceptions close.
pub fn delete<S: InventoryStore + ?Sized>(
    s: &S,
    d: &Dose,
    reason: &str,
    vaccine: DeletedVaccine,
    by: Change<'_>,
) -> Result<()> {
    let id = stored_id(d)?;
    give_back(
        s,
        id,
        d.date,
        &format!("dose {} deleted: {reason}", id.0),
        vaccine,
        by,
    )?;
    close_open(s, id, &format!("dose deleted: {reason}"), by)
}

fn give_back<S: InventoryStore + ?Sized>(
    s: &S,
    id: DoseId,
    on: NaiveDate,
    reason: &str,
    vaccine: DeletedVaccine,
    by: Change<'_>,
) -> Result<()> {
    for (lot, doses) in s.dose_draws(id)? {
        if doses <= 0 {
            continue;
        }
        let back = Movement::GiveBack {
            doses,
            reason: reason.to_string(),
        };
        s.record_dose_movement(lot, id, &back, on, by.by, by.at)?;
        if vaccine == DeletedVaccine::DrawnUpAndLost {
            let waste = Movement::Waste {
                doses,
                reason: WastageReason::DrawnNotAdministered,
            };
            s.record_dose_movement(lot, id, &waste, on, by.by, by.at)?;
        }
    }
    Ok(())
}

fn close_open<S: InventoryStore + ?Sized>(
    s: &S,
    id: DoseId,
    note: &str,
    by: Change<'_>,
) -> Result<()> {
    for e in s.open_exceptions_of_dose(id)? {
        let how = ExceptionResolution::DoseChanged {
            note: note.to_string(),
        };
        s.resolve_exception(e, &how, by.by, by.at)?;
    }
    Ok(())
}

/// Stock for dose record `before`, just corrected to `after`: when the vaccine, lot or
/// clinic changed, the old draw goes back (naming the correction) and the corrected
/// record draws again as if just recorded ([`record`]); its old exceptions close.
pub fn correct<S: InventoryStore + ?Sized>(
    s: &S,
    before: &Dose,
    after: &Dose,
    reason: &str,
    by: Change<'_>,
) -> Result<Drawn> {
    let id = stored_id(before)?;
    if !stock_changed(before, after) {
        return Ok(Drawn::NotFromStock);
    }
    let why = format!("dose {} corrected: {reason}", id.0);
    give_back(s, id, before.date, &why, DeletedVaccine::BackToStock, by)?;
    close_open(s, id, &why, by)?;
    let mut now = after.clone();
    now.id = Some(id);
    record(s, &now, None, by)
}

/// Stock for a merge that kept dose record `repeat` deleted as a repeat of `kept` (one
/// dose event on two records): one draw per event, as `draw` decided from both doses'
/// draws at the merge (`ctwiz_core::dose_stock::repeat_on_merge`).
pub fn merged_repeat<S: InventoryStore + ?Sized>(
    s: &S,
    kept: &Dose,
    repeat: DoseId,
    draw: RepeatDraw,
    by: Change<'_>,
) -> Result<()> {
    let k = stored_id(kept)?;
    let why = format!("dose {} repeats dose {} (patient merge)", repeat.0, k.0);
    match draw {
        RepeatDraw::Nothing => {}
        RepeatDraw::MoveToKept => {
            s.move_dose_draws(repeat, k)?;
            close_open(s, k, &why, by)?;
        }
        RepeatDraw::GiveBack => {
            give_back(s, repeat, kept.date, &why, DeletedVaccine::BackToStock, by)?
        }
    }
    close_open(s, repeat, &why, by)
}

/// Stock for an unmerge that made dose record `repeat` live again on its own record, the
/// merge having settled it as a repeat of `kept` with `draw`: the reverse of
/// [`merged_repeat`]. A draw moved to the kept dose comes back to the repeat; a draw given
/// back is drawn again (from the lot the repeat names, or an inventory exception, as when
/// it was first recorded).
pub fn unmerged_repeat<S: InventoryStore + ?Sized>(
    s: &S,
    repeat: &Dose,
    kept: DoseId,
    draw: RepeatDraw,
    by: Change<'_>,
) -> Result<()> {
    let r = stored_id(repeat)?;
    match draw {
        RepeatDraw::Nothing => {}
        RepeatDraw::MoveToKept => s.move_dose_draws(kept, r)?,
        RepeatDraw::GiveBack => {
            record(s, repeat, None, by)?;
        }
    }
    Ok(())
}
