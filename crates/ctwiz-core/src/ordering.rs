//! Public vaccine ordering, per program (CVP, CVFA): a clinic asks, the state decides, a
//! shipment arrives.
//! Also the stock alerts (expiring lots, low stock) shown in the notification bell.

use crate::error::{CoreError, Result};
use crate::ids::{ClinicPin, Cvx};
use crate::inventory::{check_doses, InventoryError, Lot, StockFunding, MAX_DOSES_PER_MOVEMENT};
use crate::org::Clinic;
use crate::program::Program;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Waiting for a state decision.
    Pending,
    /// Approved as asked, or with quantities changed by the state; an expected shipment.
    Approved,
    Rejected,
    /// The shipment arrived and its lots were received into inventory.
    Received,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Approved,
        OrderStatus::Rejected,
        OrderStatus::Received,
    ];
    pub fn key(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Approved => "approved",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Received => "received",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|x| x.key() == s.trim().to_lowercase())
            .ok_or_else(|| CoreError::Unknown {
                field: "order status",
                value: s.into(),
                valid: Self::ALL.map(|x| x.key()).join(", "),
            })
    }
}

/// One vaccine on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub cvx: Cvx,
    pub requested: i64,
    /// Set by the state's decision (may differ from `requested`).
    pub approved: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaccineOrder {
    pub id: Option<i64>,
    pub clinic: ClinicPin,
    /// The program whose vaccine is ordered: its shipment is received as that program's
    /// stock, and the clinic must be enrolled in it with a current agreement.
    pub program: Program,
    pub created_by: String,
    pub created_on: NaiveDate,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
}

impl VaccineOrder {
    /// A new pending order of `program`'s vaccine. Only clinics enrolled in the program
    /// order its vaccine; every line needs a positive quantity and each vaccine appears
    /// once.
    pub fn new(
        clinic: &Clinic,
        program: Program,
        by: &str,
        on: NaiveDate,
        lines: Vec<(Cvx, i64)>,
    ) -> Result<Self> {
        if !clinic.orders_public_vaccine() {
            return Err(CoreError::Rule(format!(
                "clinic {} is private-only (not enrolled in CVP or CVFA) and cannot order public vaccine",
                clinic.pin
            )));
        }
        clinic
            .program
            .check_enrolled(clinic.pin.as_str(), program)?;
        if lines.is_empty() {
            return Err(CoreError::Rule(
                "an order needs at least one vaccine".into(),
            ));
        }
        let mut out: Vec<OrderLine> = Vec::with_capacity(lines.len());
        for (cvx, q) in lines {
            check_doses(q)?;
            if out.iter().any(|l| l.cvx == cvx) {
                return Err(CoreError::Rule(format!(
                    "CVX {cvx} appears twice on the order"
                )));
            }
            out.push(OrderLine {
                cvx,
                requested: q,
                approved: None,
            });
        }
        Ok(VaccineOrder {
            id: None,
            clinic: clinic.pin.clone(),
            program,
            created_by: by.into(),
            created_on: on,
            status: OrderStatus::Pending,
            lines: out,
            decided_by: None,
            decision_note: None,
        })
    }

    /// The state approves, optionally changing quantities (`changes`: CVX → approved doses;
    /// 0 drops the line). Changing quantities needs a note for the clinic.
    pub fn approve(&mut self, by: &str, changes: &[(Cvx, i64)], note: Option<&str>) -> Result<()> {
        self.expect_status(OrderStatus::Pending, "approve")?;
        for (cvx, q) in changes {
            if *q < 0 {
                return Err(CoreError::invalid(
                    "approved quantity",
                    q.to_string(),
                    "must not be negative",
                ));
            }
            if *q > MAX_DOSES_PER_MOVEMENT {
                return Err(InventoryError::TooMany { doses: *q }.into());
            }
            if !self.lines.iter().any(|l| &l.cvx == cvx) {
                return Err(CoreError::Rule(format!(
                    "CVX {cvx} is not on order {}",
                    self.id.unwrap_or(0)
                )));
            }
        }
        let modified = changes.iter().any(|(cvx, q)| {
            self.lines
                .iter()
                .any(|l| &l.cvx == cvx && l.requested != *q)
        });
        if modified && note.is_none_or(|n| n.trim().is_empty()) {
            return Err(CoreError::Rule(
                "changing quantities needs a note for the clinic".into(),
            ));
        }
        for l in &mut self.lines {
            l.approved = Some(
                changes
                    .iter()
                    .find(|(c, _)| c == &l.cvx)
                    .map_or(l.requested, |(_, q)| *q),
            );
        }
        if self.lines.iter().all(|l| l.approved == Some(0)) {
            return Err(CoreError::Rule(
                "approving zero doses of everything is a rejection; reject instead".into(),
            ));
        }
        self.status = OrderStatus::Approved;
        self.decided_by = Some(by.into());
        self.decision_note = note.map(str::to_string);
        Ok(())
    }

    pub fn reject(&mut self, by: &str, reason: &str) -> Result<()> {
        self.expect_status(OrderStatus::Pending, "reject")?;
        if reason.trim().is_empty() {
            return Err(CoreError::Rule("rejecting an order needs a reason".into()));
        }
        self.status = OrderStatus::Rejected;
        self.decided_by = Some(by.into());
        self.decision_note = Some(reason.trim().into());
        Ok(())
    }

    /// Marks the shipment received; the lots themselves are received into inventory.
    pub fn mark_received(&mut self) -> Result<()> {
        self.expect_status(OrderStatus::Approved, "receive")?;
        self.status = OrderStatus::Received;
        Ok(())
    }

    fn expect_status(&self, s: OrderStatus, what: &str) -> Result<()> {
        if self.status != s {
            return Err(CoreError::Rule(format!(
                "cannot {what} order {}: it is {}, not {}",
                self.id.unwrap_or(0),
                self.status.key(),
                s.key()
            )));
        }
        Ok(())
    }
}

/// Suggested doses to order: enough for `months_of_supply` at the recent monthly usage,
/// less what is on hand, rounded up to whole boxes of `box_size`.
pub fn suggested_quantity(
    doses_used: i64,
    months_observed: u32,
    on_hand: i64,
    months_of_supply: u32,
    box_size: i64,
) -> i64 {
    if months_observed == 0 || box_size <= 0 {
        return 0;
    }
    let per_month = doses_used.max(0) as f64 / months_observed as f64;
    // Float-to-int casts saturate; an order line may not exceed one movement's bound.
    let need = ((per_month * months_of_supply as f64).ceil() as i64)
        .saturating_sub(on_hand.max(0))
        .min(MAX_DOSES_PER_MOVEMENT);
    if need <= 0 {
        0
    } else {
        let boxes =
            (need.saturating_add(box_size - 1) / box_size).min(MAX_DOSES_PER_MOVEMENT / box_size);
        boxes * box_size
    }
}

/// How ordering suggestions are sized: usage over `months_observed` months, stock for
/// `months_of_supply` months, rounded up to boxes of `box_size` doses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupplyPolicy {
    pub months_observed: u32,
    pub months_of_supply: u32,
    pub box_size: i64,
}

impl Default for SupplyPolicy {
    /// Three months of usage, two months of supply, boxes of ten.
    fn default() -> Self {
        SupplyPolicy {
            months_observed: 3,
            months_of_supply: 2,
            box_size: 10,
        }
    }
}

/// What to suggest ordering of one vaccine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderSuggestion {
    pub cvx: Cvx,
    /// Doses administered from inventory in the observed months.
    pub used: i64,
    /// Unexpired public doses on hand.
    pub on_hand: i64,
    pub suggested: i64,
}

/// One suggestion per vaccine the clinic holds lots of `program`'s stock of, from its
/// lots with their quantities and `used(cvx, since)`, the doses administered since a date.
pub fn order_suggestions<E>(
    lots: &[(&Lot, i64)],
    program: Program,
    today: NaiveDate,
    policy: SupplyPolicy,
    mut used: impl FnMut(&Cvx, NaiveDate) -> std::result::Result<i64, E>,
) -> std::result::Result<Vec<OrderSuggestion>, E> {
    let since = today
        .checked_sub_months(chrono::Months::new(policy.months_observed))
        .unwrap_or(today);
    let stock = StockFunding::Public(program);
    let mut cvxs: Vec<&Cvx> = lots
        .iter()
        .filter(|(l, _)| l.funding == stock)
        .map(|(l, _)| &l.cvx)
        .collect();
    cvxs.sort();
    cvxs.dedup();
    cvxs.into_iter()
        .map(|cvx| {
            let used = used(cvx, since)?;
            // Only the program's unexpired stock offsets its order.
            let on_hand = lots
                .iter()
                .filter(|(l, _)| &l.cvx == cvx && l.funding == stock && !l.is_expired(today))
                .fold(0i64, |t, (_, q)| t.saturating_add(*q));
            Ok(OrderSuggestion {
                cvx: cvx.clone(),
                used,
                on_hand,
                suggested: suggested_quantity(
                    used,
                    policy.months_observed,
                    on_hand,
                    policy.months_of_supply,
                    policy.box_size,
                ),
            })
        })
        .collect()
}

/// A stock alert for the notification bell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StockAlert {
    Expired {
        lot: String,
        cvx: Cvx,
        on: NaiveDate,
        doses: i64,
    },
    ExpiresSoon {
        lot: String,
        cvx: Cvx,
        on: NaiveDate,
        days: i64,
        doses: i64,
    },
    LowStock {
        cvx: Cvx,
        doses: i64,
    },
}

impl StockAlert {
    pub fn message(&self) -> String {
        match self {
            StockAlert::Expired {
                lot,
                cvx,
                on,
                doses,
            } => {
                format!("Lot {lot} (CVX {cvx}) expired on {on} with {doses} doses left: return or waste it")
            }
            StockAlert::ExpiresSoon {
                lot,
                cvx,
                on,
                days,
                doses,
            } => {
                format!("Lot {lot} (CVX {cvx}) expires on {on}, in {days} days, with {doses} doses left")
            }
            StockAlert::LowStock { cvx, doses } => {
                format!("Low stock of CVX {cvx}: {doses} doses left")
            }
        }
    }
}

/// How long a rejected order stays on the bell (there is no "seen" mark).
pub const REJECTION_NOTICE_DAYS: u64 = 30;

/// Whether the ordering clinic has something to do about `o` on `today`: an approved
/// shipment to receive, or a rejection of the last [`REJECTION_NOTICE_DAYS`].
pub fn needs_clinic_attention(o: &VaccineOrder, today: NaiveDate) -> bool {
    let recent = today - chrono::Days::new(REJECTION_NOTICE_DAYS);
    o.status == OrderStatus::Approved
        || (o.status == OrderStatus::Rejected && o.created_on >= recent)
}

/// Total unexpired doses of a vaccine below which the bell warns of low stock.
pub const LOW_STOCK: i64 = 10;
/// Lots expiring within this many days are announced on the bell.
pub const EXPIRY_WARNING_DAYS: i64 = 90;

/// Alerts for a clinic's lots on `today`: expired lots with stock, lots expiring within
/// [`EXPIRY_WARNING_DAYS`], and vaccines whose total stock is below [`LOW_STOCK`] doses.
pub fn stock_alerts(lots: &[(Lot, i64)], today: NaiveDate) -> Vec<StockAlert> {
    let low_stock = LOW_STOCK;
    let mut out = Vec::new();
    let mut totals: Vec<(Cvx, i64)> = Vec::new();
    for (lot, on_hand) in lots {
        match totals.iter_mut().find(|(c, _)| c == &lot.cvx) {
            // Saturating: a legacy out-of-range quantity must not stop the alerts.
            Some((_, t)) => *t = t.saturating_add(if lot.is_expired(today) { 0 } else { *on_hand }),
            None => totals.push((
                lot.cvx.clone(),
                if lot.is_expired(today) { 0 } else { *on_hand },
            )),
        }
        if *on_hand <= 0 {
            continue;
        }
        let days = (lot.expiration - today).num_days();
        if lot.is_expired(today) {
            out.push(StockAlert::Expired {
                lot: lot.lot_number.to_string(),
                cvx: lot.cvx.clone(),
                on: lot.expiration,
                doses: *on_hand,
            });
        } else if days <= EXPIRY_WARNING_DAYS {
            out.push(StockAlert::ExpiresSoon {
                lot: lot.lot_number.to_string(),
                cvx: lot.cvx.clone(),
                on: lot.expiration,
                days,
                doses: *on_hand,
            });
        }
    }
    for (cvx, t) in totals {
        if t < low_stock {
            out.push(StockAlert::LowStock { cvx, doses: t });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LotNumber;
    use crate::inventory::StockFunding;
    use crate::org::{County, ProgramType};

    fn clinic(p: ProgramType) -> Clinic {
        Clinic::new(ClinicPin::new("C1").unwrap(), "Clinic", County::Hartford, p).unwrap()
    }
    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }
    fn cvx(s: &str) -> Cvx {
        Cvx::new(s).unwrap()
    }

    #[test]
    fn private_clinics_cannot_order_and_lines_are_checked() {
        let e = VaccineOrder::new(
            &clinic(ProgramType::PrivateOnly),
            Program::Cvp,
            "u",
            d(1, 1),
            vec![(cvx("20"), 10)],
        )
        .unwrap_err();
        assert!(e.to_string().contains("private-only"), "{e}");
        let c = clinic(ProgramType::Cvp);
        assert!(VaccineOrder::new(&c, Program::Cvp, "u", d(1, 1), vec![]).is_err());
        assert!(VaccineOrder::new(&c, Program::Cvp, "u", d(1, 1), vec![(cvx("20"), 0)]).is_err());
        assert!(VaccineOrder::new(
            &c,
            Program::Cvp,
            "u",
            d(1, 1),
            vec![(cvx("20"), 5), (cvx("20"), 5)]
        )
        .is_err());
        let e =
            VaccineOrder::new(&c, Program::Cvfa, "u", d(1, 1), vec![(cvx("20"), 5)]).unwrap_err();
        assert!(e.to_string().contains("not enrolled in CVFA"), "{e}");
        let both = clinic(ProgramType::CvpAndCvfa);
        let o =
            VaccineOrder::new(&both, Program::Cvfa, "u", d(1, 1), vec![(cvx("20"), 5)]).unwrap();
        assert_eq!(o.program, Program::Cvfa);
    }

    #[test]
    fn approval_cycle() {
        let c = clinic(ProgramType::Cvp);
        let mut o = VaccineOrder::new(
            &c,
            Program::Cvp,
            "coord",
            d(1, 1),
            vec![(cvx("20"), 50), (cvx("10"), 30)],
        )
        .unwrap();
        assert!(o.mark_received().is_err());
        // Modifying quantities needs a note.
        assert!(o.approve("state", &[(cvx("20"), 40)], None).is_err());
        o.approve("state", &[(cvx("20"), 40)], Some("allocation limit"))
            .unwrap();
        assert_eq!(o.lines[0].approved, Some(40));
        assert_eq!(o.lines[1].approved, Some(30));
        assert!(o.reject("state", "late").is_err());
        o.mark_received().unwrap();
        assert_eq!(o.status, OrderStatus::Received);
        let mut r =
            VaccineOrder::new(&c, Program::Cvp, "coord", d(1, 1), vec![(cvx("20"), 50)]).unwrap();
        assert!(r.reject("state", " ").is_err());
        r.reject("state", "duplicate order").unwrap();
        assert_eq!(r.status, OrderStatus::Rejected);
    }

    #[test]
    fn suggestion_covers_supply_in_whole_boxes() {
        assert_eq!(suggested_quantity(60, 3, 5, 2, 10), 40); // 20/month × 2 − 5 = 35 → 40
        assert_eq!(suggested_quantity(60, 3, 100, 2, 10), 0);
        assert_eq!(suggested_quantity(60, 0, 0, 2, 10), 0);
    }

    #[test]
    fn suggestions_count_only_unexpired_public_stock() {
        let lot = |n: &str, exp: NaiveDate, funding| Lot {
            id: None,
            clinic: ClinicPin::new("C1").unwrap(),
            cvx: cvx("20"),
            ndc: None,
            mvx: None,
            lot_number: crate::ids::LotNumber::new(n).unwrap(),
            expiration: exp,
            funding,
        };
        let (a, b, c) = (
            lot("A", d(12, 1), StockFunding::Public(Program::Cvp)),
            lot("OLD", d(1, 1), StockFunding::Public(Program::Cvp)),
            lot("P", d(12, 1), StockFunding::Private),
        );
        let adult = lot("ADULT", d(12, 1), StockFunding::Public(Program::Cvfa));
        let mut asked = None;
        let s = order_suggestions(
            &[(&a, 5), (&b, 7), (&c, 9), (&adult, 11)],
            Program::Cvp,
            d(2, 1),
            SupplyPolicy::default(),
            |_, since| {
                asked = Some(since);
                Ok::<_, ()>(60)
            },
        )
        .unwrap();
        assert_eq!(asked, Some(NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()));
        assert_eq!(
            s,
            vec![OrderSuggestion {
                cvx: cvx("20"),
                used: 60,
                on_hand: 5,
                suggested: 40
            }]
        );
    }

    #[test]
    fn alerts_for_expiring_expired_and_low_stock() {
        let lot = |n: &str, exp: NaiveDate| Lot {
            id: None,
            clinic: ClinicPin::new("C1").unwrap(),
            cvx: cvx("20"),
            ndc: None,
            mvx: None,
            lot_number: LotNumber::new(n).unwrap(),
            expiration: exp,
            funding: StockFunding::Public(Program::Cvp),
        };
        let a = stock_alerts(
            &[
                (lot("OLD", d(1, 31)), 3),
                (lot("SOON", d(3, 1)), 4),
                (lot("FAR", d(12, 1)), 0),
            ],
            d(2, 1),
        );
        assert!(matches!(a[0], StockAlert::Expired { .. }));
        assert!(matches!(a[1], StockAlert::ExpiresSoon { days: 28, .. }));
        assert!(matches!(a[2], StockAlert::LowStock { doses: 4, .. }));
        assert_eq!(a.len(), 3);
    }
}
