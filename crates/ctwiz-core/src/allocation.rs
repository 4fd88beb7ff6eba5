//! Allocations of scarce public vaccine: the state caps how many doses of a vaccine a
//! clinic may order within a period. An order that would go beyond the cap is refused,
//! naming what remains.

use crate::error::{CoreError, Result};
use crate::ids::{ClinicPin, Cvx};
use crate::ordering::{OrderStatus, VaccineOrder};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Doses of one vaccine one clinic may order from `first` to `last` (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub clinic: ClinicPin,
    pub cvx: Cvx,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub doses: i64,
}

impl Allocation {
    /// A checked allocation: a period that ends no earlier than it begins, zero or more
    /// doses (zero: none of this vaccine for the clinic in the period).
    pub fn new(
        clinic: ClinicPin,
        cvx: Cvx,
        first: NaiveDate,
        last: NaiveDate,
        doses: i64,
    ) -> Result<Allocation> {
        if last < first {
            return Err(CoreError::Rule(format!(
                "an allocation period cannot end ({last}) before it begins ({first})"
            )));
        }
        // Zero is an allocation (none this period); otherwise the quantity rules of stock.
        if doses != 0 {
            crate::inventory::check_doses(doses)?;
        }
        Ok(Allocation {
            clinic,
            cvx,
            first,
            last,
            doses,
        })
    }

    pub fn covers(&self, day: NaiveDate) -> bool {
        self.first <= day && day <= self.last
    }

    /// Doses of this vaccine the clinic's orders already take from the allocation: orders
    /// placed in the period and not rejected, at the approved quantity once decided.
    pub fn ordered(&self, orders: &[VaccineOrder]) -> i64 {
        orders
            .iter()
            .filter(|o| {
                o.clinic == self.clinic
                    && self.covers(o.created_on)
                    && o.status != OrderStatus::Rejected
            })
            .flat_map(|o| o.lines.iter())
            .filter(|l| l.cvx == self.cvx)
            .map(|l| l.approved.unwrap_or(l.requested))
            .sum()
    }

    /// Refuses `requested` more doses when they go beyond what remains.
    pub fn check(&self, orders: &[VaccineOrder], requested: i64) -> Result<()> {
        let used = self.ordered(orders);
        let remaining = (self.doses - used).max(0);
        if requested > remaining {
            return Err(CoreError::Rule(format!(
                "CVX {} is allocated: {} doses for clinic {} from {} to {}; {used} already ordered, {remaining} remain, and this order asks {requested}",
                self.cvx, self.doses, self.clinic, self.first, self.last
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ordering::OrderLine;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn order(on: &str, status: OrderStatus, requested: i64, approved: Option<i64>) -> VaccineOrder {
        VaccineOrder {
            id: None,
            clinic: ClinicPin::new("CT00001").unwrap(),
            program: crate::program::Program::Cvp,
            created_by: "t".into(),
            created_on: d(on),
            status,
            lines: vec![OrderLine {
                cvx: Cvx::new("213").unwrap(),
                requested,
                approved,
            }],
            decided_by: None,
            decision_note: None,
        }
    }

    #[test]
    fn orders_in_the_period_take_from_the_allocation() {
        let a = Allocation::new(
            ClinicPin::new("CT00001").unwrap(),
            Cvx::new("213").unwrap(),
            d("2026-12-01"),
            d("2026-12-31"),
            100,
        )
        .unwrap();
        let orders = [
            order("2026-12-02", OrderStatus::Pending, 30, None),
            order("2026-12-03", OrderStatus::Approved, 50, Some(20)),
            order("2026-12-04", OrderStatus::Rejected, 90, None),
            order("2026-11-30", OrderStatus::Received, 70, Some(70)),
        ];
        assert_eq!(a.ordered(&orders), 50);
        assert!(a.check(&orders, 50).is_ok());
        let e = a.check(&orders, 51).unwrap_err().to_string();
        assert!(
            e.contains("50 already ordered, 50 remain, and this order asks 51"),
            "{e}"
        );
        assert!(Allocation::new(
            a.clinic.clone(),
            a.cvx.clone(),
            d("2026-12-02"),
            d("2026-12-01"),
            5
        )
        .is_err());
        assert!(Allocation::new(
            a.clinic.clone(),
            a.cvx.clone(),
            d("2026-12-01"),
            d("2026-12-01"),
            -1
        )
        .is_err());
    }
}
