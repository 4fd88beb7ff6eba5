//! Vaccine inventory: lots and the transactions that move stock. The rules here
//! (no negative stock, no expired lots administered, quantity = sum of transactions)
//! hold for every store and frontend.

use crate::ids::{ClinicPin, Cvx, LotNumber, Mvx, Ndc};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InventoryError {
    #[error("lot {lot}: {requested} doses requested but only {on_hand} on hand")]
    Insufficient {
        lot: String,
        on_hand: i64,
        requested: i64,
    },
    #[error("lot {lot} expired on {expired}; it cannot be administered on {on}")]
    Expired {
        lot: String,
        expired: NaiveDate,
        on: NaiveDate,
    },
    #[error("quantity must be positive, got {0}")]
    NonPositive(i64),
    #[error("{0} needs a reason")]
    ReasonRequired(&'static str),
}

/// Who paid for the stock: public (state-supplied CVP) and private stock are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StockFunding {
    Public,
    Private,
}

impl StockFunding {
    pub fn key(self) -> &'static str {
        match self {
            StockFunding::Public => "public",
            StockFunding::Private => "private",
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
            Movement::Reconcile { .. } => "reconcile",
        }
    }

    /// Signed change to the lot's quantity.
    pub fn delta(&self) -> i64 {
        match self {
            Movement::Receive { doses } | Movement::TransferIn { doses, .. } => *doses,
            Movement::Administer { doses }
            | Movement::TransferOut { doses, .. }
            | Movement::Return { doses, .. }
            | Movement::Waste { doses, .. } => -*doses,
            Movement::Adjust { delta, .. } => *delta,
            Movement::Reconcile {
                counted, computed, ..
            } => counted - computed,
        }
    }

    fn check_shape(&self) -> Result<(), InventoryError> {
        match self {
            Movement::Receive { doses }
            | Movement::Administer { doses }
            | Movement::TransferOut { doses, .. }
            | Movement::TransferIn { doses, .. }
            | Movement::Return { doses, .. }
            | Movement::Waste { doses, .. } => {
                if *doses <= 0 {
                    return Err(InventoryError::NonPositive(*doses));
                }
            }
            Movement::Adjust { delta, reason } => {
                if *delta == 0 {
                    return Err(InventoryError::NonPositive(0));
                }
                if reason.trim().is_empty() {
                    return Err(InventoryError::ReasonRequired("an adjustment"));
                }
            }
            Movement::Reconcile {
                counted,
                computed,
                reason,
            } => {
                if *counted < 0 {
                    return Err(InventoryError::NonPositive(*counted));
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
    if matches!(movement, Movement::Administer { .. }) && lot.is_expired(on) {
        return Err(InventoryError::Expired {
            lot: lot.lot_number.to_string(),
            expired: lot.expiration,
            on,
        });
    }
    let new = on_hand + movement.delta();
    if new < 0 {
        return Err(InventoryError::Insufficient {
            lot: lot.lot_number.to_string(),
            on_hand,
            requested: -movement.delta(),
        });
    }
    Ok(new)
}

/// Quantity on hand as the sum of a lot's transactions.
pub fn on_hand<'a>(txs: impl IntoIterator<Item = &'a Movement>) -> i64 {
    txs.into_iter().map(Movement::delta).sum()
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
            funding: StockFunding::Public,
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
                prop_assert_eq!(q, on_hand(&accepted));
            }
        }
    }
}
