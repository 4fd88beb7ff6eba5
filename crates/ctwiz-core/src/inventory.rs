//! Vaccine inventory: lots and the transactions that move stock. The rules here
//! (no negative stock, bounded quantities, no expired lots administered, received or
//! moved, public vaccine only at CVP clinics, known vaccine codes, quantity = sum of
//! transactions) hold for every store and door.

use crate::codes::CodeSets;
use crate::ids::{ClinicPin, Cvx, LotNumber, Mvx, Ndc};
use crate::org::Clinic;
use crate::program::Program;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Most doses one movement (receipt, transfer, wastage, return, adjustment, order line)
/// may move. A real shipment is far smaller; the bound keeps sums far from overflow.
pub const MAX_DOSES_PER_MOVEMENT: i64 = 100_000;
/// Largest physical count a reconciliation may record.
pub const MAX_COUNTED: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InventoryError {
    #[error("lot {lot}: {requested} doses requested but only {on_hand} on hand")]
    Insufficient {
        lot: String,
        on_hand: i64,
        requested: i64,
    },
    #[error("lot {lot} expired on {expired}; it cannot be {what} on {on}")]
    Expired {
        lot: String,
        expired: NaiveDate,
        on: NaiveDate,
        /// "administered", "received", "transferred".
        what: &'static str,
    },
    #[error("quantity must be positive, got {0}")]
    NonPositive(i64),
    #[error("at most {max} doses may move at once, got {doses}", max = MAX_DOSES_PER_MOVEMENT)]
    TooMany { doses: i64 },
    #[error("a physical count must be between 0 and {max}, got {counted}", max = MAX_COUNTED)]
    CountOutOfRange { counted: i64 },
    #[error("lot {lot}: the quantity would leave the range ctwiz can count")]
    Overflow { lot: String },
    #[error("{0} needs a reason")]
    ReasonRequired(&'static str),
    #[error("clinic {clinic} is private-only (not enrolled in CVP) and holds no public vaccine")]
    PublicAtPrivateClinic { clinic: ClinicPin },
    #[error("clinic {clinic} is not enrolled in {program} and holds none of its vaccine")]
    NotEnrolled { clinic: ClinicPin, program: Program },
    #[error("CVX {0} is not a known vaccine code")]
    UnknownCvx(Cvx),
    #[error("a transfer needs two different clinics (lot {lot} is already at {clinic})")]
    SameClinic { lot: String, clinic: ClinicPin },
    #[error("the computed quantity changed to {on_hand} while you counted; check the count")]
    CountedStale { lot: String, on_hand: i64 },
}

/// Whether `clinic` may hold stock of `funding`: public (state-supplied CVP) vaccine only
/// at clinics enrolled in CVP. The one rule for receipts, transfers and shipments.
pub fn may_hold(clinic: &Clinic, funding: StockFunding) -> Result<(), InventoryError> {
    match funding {
        StockFunding::Public(_) if !clinic.orders_public_vaccine() => {
            Err(InventoryError::PublicAtPrivateClinic {
                clinic: clinic.pin.clone(),
            })
        }
        StockFunding::Public(program) if !clinic.program.enrolled(program) => {
            Err(InventoryError::NotEnrolled {
                clinic: clinic.pin.clone(),
                program,
            })
        }
        _ => Ok(()),
    }
}

/// A CVX that inventory may hold or order: one of the code sets' vaccines.
pub fn known_vaccine(codes: &CodeSets, cvx: &Cvx) -> Result<(), InventoryError> {
    match codes.vaccine(cvx) {
        Some(_) => Ok(()),
        None => Err(InventoryError::UnknownCvx(cvx.clone())),
    }
}

/// Checks stock of `lot` arriving at `clinic` on `on` (a receipt, the receiving end of a
/// transfer, a shipment): a known vaccine, funding the clinic may hold, not expired.
pub fn check_arrival(
    lot: &Lot,
    clinic: &Clinic,
    codes: &CodeSets,
    on: NaiveDate,
) -> Result<(), InventoryError> {
    known_vaccine(codes, &lot.cvx)?;
    may_hold(clinic, lot.funding)?;
    if lot.is_expired(on) {
        return Err(lot.expired(on, "received"));
    }
    Ok(())
}

/// Checks a transfer of `lot` to clinic `to` on `on`: two different clinics, and the
/// arrival rules at the destination ([`check_arrival`]).
pub fn check_transfer(
    lot: &Lot,
    to: &Clinic,
    codes: &CodeSets,
    on: NaiveDate,
) -> Result<(), InventoryError> {
    if lot.clinic == to.pin {
        return Err(InventoryError::SameClinic {
            lot: lot.lot_number.to_string(),
            clinic: to.pin.clone(),
        });
    }
    if lot.is_expired(on) {
        return Err(lot.expired(on, "transferred"));
    }
    check_arrival(lot, to, codes, on)
}

/// Public vaccine is reconciled (every lot counted) each calendar month: due when the
/// clinic holds public doses and has not reconciled since the month began.
pub fn reconciliation_due(
    holds_public_doses: bool,
    last_reconciled: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    use chrono::Datelike;
    holds_public_doses
        && last_reconciled.is_none_or(|d| (d.year(), d.month()) < (today.year(), today.month()))
}

/// Checks a physical count against the quantity that was shown when counting
/// (`seen`, if the count came from a screen) and the quantity now (`on_hand`).
pub fn check_count_is_current(
    lot: &Lot,
    seen: Option<i64>,
    on_hand: i64,
) -> Result<(), InventoryError> {
    if seen.is_some_and(|v| v != on_hand) {
        return Err(InventoryError::CountedStale {
            lot: lot.lot_number.to_string(),
            on_hand,
        });
    }
    Ok(())
}

/// Who paid for the stock: each public program's (state-supplied CVP or CVFA) and
/// private stock are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StockFunding {
    Public(Program),
    Private,
}

impl StockFunding {
    pub const ALL: [StockFunding; 3] = [
        StockFunding::Public(Program::Cvp),
        StockFunding::Public(Program::Cvfa),
        StockFunding::Private,
    ];

    /// `cvp`, `cvfa` or `private`: how reports, exports and forms name it.
    pub fn key(self) -> &'static str {
        match self {
            StockFunding::Public(p) => p.key(),
            StockFunding::Private => "private",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StockFunding::Public(Program::Cvp) => "Public (CVP)",
            StockFunding::Public(Program::Cvfa) => "Public (CVFA)",
            StockFunding::Private => "Private",
        }
    }

    /// The public program whose stock this is, if any.
    pub fn program(self) -> Option<Program> {
        match self {
            StockFunding::Public(p) => Some(p),
            StockFunding::Private => None,
        }
    }

    /// Reads a key; `public` and `vfc`, the names used before CVFA stock existed, are CVP.
    pub fn parse(s: &str) -> Result<StockFunding, crate::error::CoreError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" | "cvp" | "vfc" => Ok(StockFunding::Public(Program::Cvp)),
            "cvfa" => Ok(StockFunding::Public(Program::Cvfa)),
            "private" => Ok(StockFunding::Private),
            _ => Err(crate::error::CoreError::Unknown {
                field: "funding",
                value: s.into(),
                valid: "cvp, cvfa, private".into(),
            }),
        }
    }
}

/// A lot held by one clinic. Quantity is not stored here: it is the sum of its transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub id: Option<i64>,
    pub clinic: ClinicPin,
    pub cvx: Cvx,
    pub ndc: Option<Ndc>,
    pub mvx: Option<Mvx>,
    pub lot_number: LotNumber,
    pub expiration: NaiveDate,
    pub funding: StockFunding,
}

impl Lot {
    pub fn is_expired(&self, on: NaiveDate) -> bool {
        on > self.expiration
    }

    fn expired(&self, on: NaiveDate, what: &'static str) -> InventoryError {
        InventoryError::Expired {
            lot: self.lot_number.to_string(),
            expired: self.expiration,
            on,
            what,
        }
    }
}

/// Reasons for wasted or returned doses (CDC VTrckS-style categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")] // stored and reported by the same keys as `key()`
pub enum WastageReason {
    Expired,
    /// Spoiled, e.g. temperature excursion or power failure.
    Spoiled,
    BrokenVial,
    DrawnNotAdministered,
    Recalled,
    Lost,
    Other,
}

impl WastageReason {
    pub const ALL: [WastageReason; 7] = [
        WastageReason::Expired,
        WastageReason::Spoiled,
        WastageReason::BrokenVial,
        WastageReason::DrawnNotAdministered,
        WastageReason::Recalled,
        WastageReason::Lost,
        WastageReason::Other,
    ];
    pub fn key(self) -> &'static str {
        match self {
            WastageReason::Expired => "expired",
            WastageReason::Spoiled => "spoiled",
            WastageReason::BrokenVial => "broken-vial",
            WastageReason::DrawnNotAdministered => "drawn-not-administered",
            WastageReason::Recalled => "recalled",
            WastageReason::Lost => "lost",
            WastageReason::Other => "other",
        }
    }
    pub fn parse(s: &str) -> crate::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.key() == s.trim().to_lowercase())
            .ok_or_else(|| crate::CoreError::Unknown {
                field: "wastage reason",
                value: s.into(),
                valid: Self::ALL.map(|r| r.key()).join(", "),
            })
    }
}

/// What moved stock, with its sign fixed by the kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Movement {
    Receive {
        doses: i64,
    },
    Administer {
        doses: i64,
    },
    TransferOut {
        doses: i64,
        to: ClinicPin,
    },
    TransferIn {
        doses: i64,
        from: ClinicPin,
    },
    Return {
        doses: i64,
        reason: WastageReason,
    },
    Waste {
        doses: i64,
        reason: WastageReason,
    },
    /// Correction of a data-entry error; may be either sign.
    Adjust {
        delta: i64,
        reason: String,
    },
    /// A dose drawn for a dose record goes back to the lot: the record was deleted as
    /// entered in error, corrected to another lot or vaccine, or repeated a dose event
    /// another record already drew (`crate::dose_stock`). The reason says which.
    GiveBack {
        doses: i64,
        reason: String,
    },
    /// Physical count replaces the computed quantity; the difference is recorded.
    Reconcile {
        counted: i64,
        computed: i64,
        reason: Option<String>,
    },
}

impl Movement {
    pub fn kind(&self) -> &'static str {
        match self {
            Movement::Receive { .. } => "receive",
            Movement::Administer { .. } => "administer",
            Movement::TransferOut { .. } => "transfer-out",
            Movement::TransferIn { .. } => "transfer-in",
            Movement::Return { .. } => "return",
            Movement::Waste { .. } => "waste",
            Movement::Adjust { .. } => "adjust",
            Movement::GiveBack { .. } => "give-back",
            Movement::Reconcile { .. } => "reconcile",
        }
    }

    /// Signed change to the lot's quantity. Bounded for movements [`apply`] accepts; a
    /// reconciliation against a (legacy) out-of-range quantity saturates.
    pub fn delta(&self) -> i64 {
        match self {
            Movement::Receive { doses }
            | Movement::TransferIn { doses, .. }
            | Movement::GiveBack { doses, .. } => *doses,
            Movement::Administer { doses }
            | Movement::TransferOut { doses, .. }
            | Movement::Return { doses, .. }
            | Movement::Waste { doses, .. } => -*doses,
            Movement::Adjust { delta, .. } => *delta,
            Movement::Reconcile {
                counted, computed, ..
            } => counted.saturating_sub(*computed),
        }
    }

    /// Verb for refusals: what could not be done with an expired lot.
    fn verb(&self) -> Option<&'static str> {
        match self {
            Movement::Administer { .. } => Some("administered"),
            Movement::Receive { .. } => Some("received"),
            Movement::TransferOut { .. } | Movement::TransferIn { .. } => Some("transferred"),
            // Expired stock is wasted, returned, adjusted and counted.
            _ => None,
        }
    }

    fn check_shape(&self) -> Result<(), InventoryError> {
        match self {
            Movement::Receive { doses }
            | Movement::Administer { doses }
            | Movement::TransferOut { doses, .. }
            | Movement::TransferIn { doses, .. }
            | Movement::Return { doses, .. }
            | Movement::Waste { doses, .. } => check_doses(*doses)?,
            Movement::Adjust { delta, reason } => {
                if *delta == 0 {
                    return Err(InventoryError::NonPositive(0));
                }
                if delta.unsigned_abs() > MAX_DOSES_PER_MOVEMENT as u64 {
                    return Err(InventoryError::TooMany { doses: *delta });
                }
                if reason.trim().is_empty() {
                    return Err(InventoryError::ReasonRequired("an adjustment"));
                }
            }
            Movement::GiveBack { doses, reason } => {
                check_doses(*doses)?;
                if reason.trim().is_empty() {
                    return Err(InventoryError::ReasonRequired("a dose given back"));
                }
            }
            Movement::Reconcile {
                counted,
                computed,
                reason,
            } => {
                if !(0..=MAX_COUNTED).contains(counted) {
                    return Err(InventoryError::CountOutOfRange { counted: *counted });
                }
                // A count that differs from the books must be explained.
                if counted != computed && reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    return Err(InventoryError::ReasonRequired(
                        "a reconciliation that differs from the computed quantity",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A dose count of one movement: 1..=[`MAX_DOSES_PER_MOVEMENT`].
pub fn check_doses(doses: i64) -> Result<(), InventoryError> {
    if doses <= 0 {
        return Err(InventoryError::NonPositive(doses));
    }
    if doses > MAX_DOSES_PER_MOVEMENT {
        return Err(InventoryError::TooMany { doses });
    }
    Ok(())
}

/// A recorded movement of one lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryTransaction {
    pub id: Option<i64>,
    pub lot_id: i64,
    pub movement: Movement,
    pub at: NaiveDateTime,
    pub by: String,
}

/// Checks `movement` against a lot with `on_hand` doses on date `on` and returns the
/// new quantity. This is the one place the stock invariants are decided.
pub fn apply(
    lot: &Lot,
    on_hand: i64,
    movement: &Movement,
    on: NaiveDate,
) -> Result<i64, InventoryError> {
    movement.check_shape()?;
    if let Some(what) = movement.verb().filter(|_| lot.is_expired(on)) {
        return Err(lot.expired(on, what));
    }
    let new = on_hand
        .checked_add(movement.delta())
        .ok_or_else(|| InventoryError::Overflow {
            lot: lot.lot_number.to_string(),
        })?;
    if new < 0 {
        return Err(InventoryError::Insufficient {
            lot: lot.lot_number.to_string(),
            on_hand,
            requested: -movement.delta(),
        });
    }
    Ok(new)
}

/// Quantity on hand as the sum of a lot's transactions; `None` if the sum leaves the
/// range of `i64` (only possible with data stored before movements were bounded).
pub fn on_hand<'a>(txs: impl IntoIterator<Item = &'a Movement>) -> Option<i64> {
    txs.into_iter()
        .try_fold(0i64, |sum, m| sum.checked_add(m.delta()))
}

#[cfg(test)]
mod reconciliation_due_tests {
    use super::reconciliation_due;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn monthly_when_holding_public_doses() {
        let today = d("2026-12-02");
        assert!(reconciliation_due(true, None, today));
        assert!(reconciliation_due(true, Some(d("2026-11-30")), today));
        assert!(!reconciliation_due(true, Some(d("2026-12-01")), today));
        assert!(reconciliation_due(true, Some(d("2025-12-15")), today));
        assert!(!reconciliation_due(false, None, today));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lot() -> Lot {
        Lot {
            id: Some(1),
            clinic: ClinicPin::new("C1").unwrap(),
            cvx: Cvx::new("20").unwrap(),
            ndc: None,
            mvx: None,
            lot_number: LotNumber::new("A1").unwrap(),
            expiration: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            funding: StockFunding::Public(Program::Cvp),
        }
    }
    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn stock_never_goes_negative() {
        let e = apply(&lot(), 2, &Movement::Administer { doses: 3 }, day(1, 1)).unwrap_err();
        assert!(e.to_string().contains("only 2 on hand"), "{e}");
        assert_eq!(
            apply(&lot(), 2, &Movement::Administer { doses: 2 }, day(1, 1)).unwrap(),
            0
        );
    }

    #[test]
    fn expired_lots_cannot_be_administered_but_can_be_returned() {
        let on = day(7, 1);
        assert!(matches!(
            apply(&lot(), 5, &Movement::Administer { doses: 1 }, on),
            Err(InventoryError::Expired { .. })
        ));
        assert_eq!(
            apply(
                &lot(),
                5,
                &Movement::Return {
                    doses: 5,
                    reason: WastageReason::Expired
                },
                on
            )
            .unwrap(),
            0
        );
        // Usable through the expiration date itself.
        assert!(apply(&lot(), 5, &Movement::Administer { doses: 1 }, day(6, 30)).is_ok());
    }

    #[test]
    fn reconciliation_differences_need_a_reason() {
        let m = Movement::Reconcile {
            counted: 8,
            computed: 10,
            reason: None,
        };
        assert!(matches!(
            apply(&lot(), 10, &m, day(1, 1)),
            Err(InventoryError::ReasonRequired(_))
        ));
        let m = Movement::Reconcile {
            counted: 8,
            computed: 10,
            reason: Some("two vials broken".into()),
        };
        assert_eq!(apply(&lot(), 10, &m, day(1, 1)).unwrap(), 8);
        let m = Movement::Reconcile {
            counted: 10,
            computed: 10,
            reason: None,
        };
        assert_eq!(apply(&lot(), 10, &m, day(1, 1)).unwrap(), 10);
    }

    #[test]
    fn quantities_are_bounded_and_sums_checked() {
        let huge = Movement::Receive { doses: i64::MAX };
        assert_eq!(
            apply(&lot(), 0, &huge, day(1, 1)),
            Err(InventoryError::TooMany { doses: i64::MAX })
        );
        let most = Movement::Receive {
            doses: MAX_DOSES_PER_MOVEMENT,
        };
        assert!(apply(&lot(), 0, &most, day(1, 1)).is_ok());
        // A legacy quantity near the limit: refused, not wrapped.
        assert!(matches!(
            apply(&lot(), i64::MAX - 1, &most, day(1, 1)),
            Err(InventoryError::Overflow { .. })
        ));
        let count = Movement::Reconcile {
            counted: MAX_COUNTED + 1,
            computed: 0,
            reason: Some("x".into()),
        };
        assert!(matches!(
            apply(&lot(), 0, &count, day(1, 1)),
            Err(InventoryError::CountOutOfRange { .. })
        ));
        assert_eq!(on_hand(&[huge.clone(), huge]), None);
    }

    #[test]
    fn arrivals_need_a_known_vaccine_a_cvp_clinic_for_public_stock_and_a_live_lot() {
        use crate::org::{County, ProgramType};
        let codes = CodeSets::embedded();
        let clinic = |pin: &str, p| {
            Clinic::new(ClinicPin::new(pin).unwrap(), "C", County::Hartford, p).unwrap()
        };
        let (cvp, private) = (
            clinic("C2", ProgramType::Cvp),
            clinic("C3", ProgramType::PrivateOnly),
        );
        assert!(check_arrival(&lot(), &cvp, &codes, day(1, 1)).is_ok());
        assert_eq!(
            check_transfer(&lot(), &private, &codes, day(1, 1)),
            Err(InventoryError::PublicAtPrivateClinic {
                clinic: private.pin.clone()
            })
        );
        let mut unknown = lot();
        unknown.cvx = Cvx::new("555").unwrap();
        assert_eq!(
            check_arrival(&unknown, &cvp, &codes, day(1, 1)),
            Err(InventoryError::UnknownCvx(unknown.cvx.clone()))
        );
        let e = check_transfer(&lot(), &cvp, &codes, day(7, 1)).unwrap_err();
        assert!(e.to_string().contains("cannot be transferred"), "{e}");
        assert!(matches!(
            apply(&lot(), 0, &Movement::Receive { doses: 1 }, day(7, 1)),
            Err(InventoryError::Expired {
                what: "received",
                ..
            })
        ));
        let home = clinic("C1", ProgramType::Cvp);
        assert!(matches!(
            check_transfer(&lot(), &home, &codes, day(1, 1)),
            Err(InventoryError::SameClinic { .. })
        ));
    }

    fn movement() -> impl Strategy<Value = Movement> {
        let pin = ClinicPin::new("C2").unwrap();
        prop_oneof![
            (-5i64..50).prop_map(|doses| Movement::Receive { doses }),
            (-5i64..20).prop_map(|doses| Movement::Administer { doses }),
            (1i64..20).prop_map(move |doses| Movement::TransferOut {
                doses,
                to: pin.clone()
            }),
            (1i64..10).prop_map(|doses| Movement::Waste {
                doses,
                reason: WastageReason::BrokenVial
            }),
            (-10i64..10).prop_map(|delta| Movement::Adjust {
                delta,
                reason: "count fix".into()
            }),
            (0i64..40, 0i64..40).prop_map(|(counted, computed)| Movement::Reconcile {
                counted,
                computed,
                reason: Some("count".into())
            }),
        ]
    }

    proptest! {
        /// Whatever sequence is attempted, accepted movements keep stock non-negative
        /// and the quantity always equals the sum of the accepted movements.
        #[test]
        fn quantity_is_the_sum_of_accepted_movements(ms in proptest::collection::vec(movement(), 0..60)) {
            let l = lot();
            let mut q = 0i64;
            let mut accepted: Vec<Movement> = Vec::new();
            for m in ms {
                // Reconciliation is always against the current computed quantity.
                let m = match m {
                    Movement::Reconcile { counted, reason, .. } => Movement::Reconcile { counted, computed: q, reason },
                    other => other,
                };
                if let Ok(nq) = apply(&l, q, &m, day(1, 1)) {
                    q = nq;
                    accepted.push(m);
                }
                prop_assert!(q >= 0);
                prop_assert_eq!(Some(q), on_hand(&accepted));
            }
        }
    }
}
