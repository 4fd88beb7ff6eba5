//! The lot usage report: per lot, what came in and went out over a period, the doses
//! drawn for dose records against the doses the records say were given from the lot, and
//! the difference, with the dose records behind it.
//!
//! A pure function of the lots, their movements and the dose records that drew from them
//! or name them; the store gathers those (`InventoryStore::lot_usage_data`). Movements
//! count by the day they were recorded, except draws and give-backs for a dose record,
//! which count by the dose's date, the same day the record itself counts.

use crate::dose::Dose;
use crate::dose_stock::draws_from_stock;
use crate::ids::{DoseId, PatientId};
use crate::inventory::{Lot, Movement};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// One recorded movement of a lot, with the dose record it was for.
#[derive(Debug, Clone)]
pub struct LotMovement {
    pub lot_id: i64,
    pub movement: Movement,
    pub at: NaiveDateTime,
    pub dose: Option<DoseId>,
}

/// A dose record that drew from a lot or names one of the clinic's lots.
#[derive(Debug, Clone)]
pub struct DoseRecord {
    pub dose: Dose,
    pub patient: PatientId,
    pub live: bool,
    /// A coordinator recorded that it was not given from the clinic's stock.
    pub not_from_stock: bool,
}

/// A dose record behind a lot's difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Involved {
    pub dose: DoseId,
    pub patient: PatientId,
    pub date: NaiveDate,
    /// Doses drawn from this lot for the record, net of give-backs.
    pub drawn: i64,
    /// Doses the record says were given from this lot (1 for a live record given from
    /// it, else 0).
    pub given: i64,
    pub note: &'static str,
}

/// One lot's line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotUsage {
    pub lot_id: i64,
    pub lot: Lot,
    pub received: i64,
    pub transferred_in: i64,
    pub transferred_out: i64,
    pub returned: i64,
    pub wasted: i64,
    /// Adjustments and reconciliations, signed.
    pub adjusted: i64,
    /// Doses drawn for dose records, net of doses given back.
    pub decrements: i64,
    /// Doses given back (deleted or corrected records, merged repeats).
    pub given_back: i64,
    /// Live dose records given from the lot.
    pub administered: i64,
    /// `decrements - administered`: zero when every dose given was drawn once.
    pub difference: i64,
    /// Draws recorded without a dose record (before doses were linked to stock).
    pub unlinked_decrements: i64,
    pub on_hand: i64,
    pub involved: Vec<Involved>,
}

/// The lot a live record was given from: where its draw is (a record that drew stays
/// accounted whatever it says since, e.g. a history record that took over a merged
/// repeat's draw), else, for a record given from the clinic's stock, the lot among `lots`
/// (its clinic's, same number and vaccine) it names.
fn lot_of_record(
    rec: &DoseRecord,
    drawn: &BTreeMap<i64, i64>,
    lots: &[(i64, &Lot)],
) -> Option<i64> {
    if !rec.live {
        return None;
    }
    if let Some((lot, _)) = drawn.iter().find(|(_, n)| **n > 0) {
        return Some(*lot);
    }
    if rec.not_from_stock || !draws_from_stock(&rec.dose) {
        return None;
    }
    lots.iter()
        .find(|(_, l)| {
            Some(&l.clinic) == rec.dose.clinic.as_ref()
                && Some(&l.lot_number) == rec.dose.lot.as_ref()
                && l.cvx == rec.dose.cvx
        })
        .map(|(id, _)| *id)
}

/// The report over `from..=to` for `lots` (id, lot, quantity on hand now).
pub fn lot_usage(
    lots: &[(i64, Lot, i64)],
    movements: &[LotMovement],
    records: &[DoseRecord],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<LotUsage> {
    let in_range = |d: NaiveDate| from <= d && d <= to;
    let dose_date: BTreeMap<DoseId, NaiveDate> = records
        .iter()
        .filter_map(|r| Some((r.dose.id?, r.dose.date)))
        .collect();
    let mut rows: BTreeMap<i64, LotUsage> = lots
        .iter()
        .map(|(id, lot, on_hand)| {
            let row = LotUsage {
                lot_id: *id,
                lot: lot.clone(),
                received: 0,
                transferred_in: 0,
                transferred_out: 0,
                returned: 0,
                wasted: 0,
                adjusted: 0,
                decrements: 0,
                given_back: 0,
                administered: 0,
                difference: 0,
                unlinked_decrements: 0,
                on_hand: *on_hand,
                involved: Vec::new(),
            };
            (*id, row)
        })
        .collect();
    // Net draws per dose record and lot (all time: a record's draws follow it).
    let mut drawn: BTreeMap<DoseId, BTreeMap<i64, i64>> = BTreeMap::new();
    for m in movements {
        let Some(row) = rows.get_mut(&m.lot_id) else {
            continue;
        };
        let draw = matches!(
            m.movement,
            Movement::Administer { .. } | Movement::GiveBack { .. }
        );
        if let (true, Some(d)) = (draw, m.dose) {
            *drawn.entry(d).or_default().entry(m.lot_id).or_default() -= m.movement.delta();
        }
        let day = match (draw, m.dose.and_then(|d| dose_date.get(&d))) {
            (true, Some(date)) => *date,
            _ => m.at.date(),
        };
        if !in_range(day) {
            continue;
        }
        let delta = m.movement.delta();
        match &m.movement {
            Movement::Receive { doses } => row.received += doses,
            Movement::TransferIn { doses, .. } => row.transferred_in += doses,
            Movement::TransferOut { doses, .. } => row.transferred_out += doses,
            Movement::Return { doses, .. } => row.returned += doses,
            Movement::Waste { doses, .. } => row.wasted += doses,
            Movement::Adjust { .. } | Movement::Reconcile { .. } => row.adjusted += delta,
            Movement::Administer { doses } => {
                row.decrements += doses;
                if m.dose.is_none() {
                    row.unlinked_decrements += doses;
                }
            }
            Movement::GiveBack { doses, .. } => {
                row.decrements -= doses;
                row.given_back += doses;
            }
        }
    }
    let lot_refs: Vec<(i64, &Lot)> = lots.iter().map(|(id, l, _)| (*id, l)).collect();
    let empty = BTreeMap::new();
    for rec in records {
        let Some(id) = rec.dose.id else { continue };
        if !in_range(rec.dose.date) {
            continue;
        }
        let draws = drawn.get(&id).unwrap_or(&empty);
        let given_from = lot_of_record(rec, draws, &lot_refs);
        let mut touched: Vec<i64> = draws.keys().copied().chain(given_from).collect();
        touched.sort_unstable();
        touched.dedup();
        for lot in touched {
            let Some(row) = rows.get_mut(&lot) else {
                continue;
            };
            let given = i64::from(given_from == Some(lot));
            let n = draws.get(&lot).copied().unwrap_or(0);
            row.administered += given;
            if n != given {
                let note = match (rec.live, given, n) {
                    (_, 1, 0) => "given from the lot but not drawn (open inventory exception)",
                    (false, _, _) => "deleted but its draw was not given back",
                    _ => "drawn more than once",
                };
                row.involved.push(Involved {
                    dose: id,
                    patient: rec.patient,
                    date: rec.dose.date,
                    drawn: n,
                    given,
                    note,
                });
            }
        }
    }
    rows.into_values()
        .map(|mut r| {
            r.difference = r.decrements - r.administered;
            r
        })
        .collect()
}

impl LotUsage {
    /// Column names of [`LotUsage::cells`] (CSV, JSON, terminal table).
    pub const COLUMNS: [&'static str; 18] = [
        "clinic",
        "lot",
        "cvx",
        "funding",
        "expiration",
        "received",
        "transferred_in",
        "transferred_out",
        "returned",
        "wasted",
        "adjusted",
        "decrements",
        "given_back",
        "administered",
        "difference",
        "unlinked_decrements",
        "on_hand",
        "dose_records_involved",
    ];

    /// One row of the report; the dose records behind a difference in the last cell.
    pub fn cells(&self) -> Vec<String> {
        let n = |v: i64| v.to_string();
        vec![
            self.lot.clinic.to_string(),
            self.lot.lot_number.to_string(),
            self.lot.cvx.to_string(),
            self.lot.funding.key().to_string(),
            self.lot.expiration.to_string(),
            n(self.received),
            n(self.transferred_in),
            n(self.transferred_out),
            n(self.returned),
            n(self.wasted),
            n(self.adjusted),
            n(self.decrements),
            n(self.given_back),
            n(self.administered),
            n(self.difference),
            n(self.unlinked_decrements),
            n(self.on_hand),
            self.involved
                .iter()
                .map(Involved::describe)
                .collect::<Vec<_>>()
                .join("; "),
        ]
    }
}

impl Involved {
    /// "dose 12 of patient 3 on 2026-01-11: drawn 0, given 1 (note)".
    pub fn describe(&self) -> String {
        format!(
            "dose {} of patient {} on {}: drawn {}, given {} ({})",
            self.dose.0, self.patient.0, self.date, self.drawn, self.given, self.note
        )
    }
}
