use super::{actor, db, CliResult};
use crate::output;
use chrono::{Local, NaiveDate};
use ctwiz_core::ids::{ClinicPin, Cvx, LotNumber, Mvx, Ndc};
use ctwiz_core::inventory::{Lot, Movement, StockFunding, WastageReason};
use ctwiz_core::ordering::{
    order_suggestions, stock_alerts, OrderStatus, SupplyPolicy, VaccineOrder,
};
use ctwiz_store::{InventoryStore, OrgStore};
use std::path::Path;

#[derive(clap::Subcommand)]
pub enum InventoryCommand {
    /// A clinic's lots with quantities on hand, and its stock alerts.
    Show {
        #[arg(long)]
        clinic: String,
    },
    /// Receive doses into a lot (created if new).
    Receive {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        cvx: String,
        #[arg(long)]
        lot: String,
        /// Expiration date of the lot.
        #[arg(long)]
        exp: NaiveDate,
        #[arg(long)]
        doses: i64,
        /// public (state-supplied CVP) or private.
        #[arg(long, default_value = "public")]
        funding: String,
        #[arg(long)]
        mvx: Option<String>,
        #[arg(long)]
        ndc: Option<String>,
    },
    /// Transfer doses of a lot to another clinic.
    Transfer {
        #[arg(long)]
        lot_id: i64,
        #[arg(long)]
        to: String,
        #[arg(long)]
        doses: i64,
    },
    /// Record wasted doses (expired, spoiled, broken-vial, drawn-not-administered, recalled, lost, other).
    Waste {
        #[arg(long)]
        lot_id: i64,
        #[arg(long)]
        doses: i64,
        #[arg(long)]
        reason: String,
    },
    /// Return doses (e.g. expired or spoiled public vaccine) to the distributor.
    Return {
        #[arg(long)]
        lot_id: i64,
        #[arg(long)]
        doses: i64,
        #[arg(long)]
        reason: String,
    },
    /// Reconcile a lot with a physical count; a difference needs a reason.
    Reconcile {
        #[arg(long)]
        lot_id: i64,
        #[arg(long)]
        counted: i64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Public vaccine orders.
    #[command(subcommand)]
    Order(OrderCommand),
}

#[derive(clap::Subcommand)]
pub enum OrderCommand {
    /// Suggest quantities from the last 3 months' usage and current stock (2 months' supply).
    Suggest {
        #[arg(long)]
        clinic: String,
    },
    /// Create an order: --line CVX:DOSES, repeated.
    Create {
        #[arg(long)]
        clinic: String,
        #[arg(long = "line", required = true)]
        lines: Vec<String>,
    },
    /// List orders.
    List {
        #[arg(long)]
        clinic: Option<String>,
        /// pending, approved, rejected or received.
        #[arg(long)]
        status: Option<String>,
    },
    /// Approve (state): optionally change quantities with --line CVX:DOSES and explain with --note.
    Approve {
        id: i64,
        #[arg(long = "line")]
        lines: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject (state) with a reason.
    Reject {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Receive an approved order's shipment: --lot CVX:LOT:EXPIRATION:DOSES, repeated.
    Receive {
        id: i64,
        #[arg(long = "lot", required = true)]
        lots: Vec<String>,
    },
}

fn cvx_qty(s: &str) -> CliResult<(Cvx, i64)> {
    let (c, q) = s
        .split_once(':')
        .ok_or_else(|| format!("expected CVX:DOSES, got {s:?}"))?;
    let q: i64 = q
        .trim()
        .parse()
        .map_err(|_| format!("doses in {s:?} must be a whole number"))?;
    Ok((Cvx::new(c)?, q))
}

fn funding(s: &str) -> CliResult<StockFunding> {
    match s.trim().to_lowercase().as_str() {
        "public" | "cvp" | "vfc" => Ok(StockFunding::Public),
        "private" => Ok(StockFunding::Private),
        other => Err(format!("unknown funding {other:?}; valid values: public, private").into()),
    }
}

fn print_lots(store: &dyn InventoryStore, pin: &ClinicPin) -> CliResult {
    let lots = store.lots(pin)?;
    let mut t = output::table(&["Lot id", "CVX", "Lot", "Expires", "Funding", "On hand"]);
    for l in &lots {
        t.add_row(vec![
            l.lot.id.unwrap_or(0).to_string(),
            l.lot.cvx.to_string(),
            l.lot.lot_number.to_string(),
            l.lot.expiration.to_string(),
            l.lot.funding.key().to_string(),
            l.on_hand.to_string(),
        ]);
    }
    println!("{t}");
    let pairs: Vec<_> = lots.into_iter().map(|l| (l.lot, l.on_hand)).collect();
    for a in stock_alerts(&pairs, Local::now().date_naive(), 10) {
        println!("! {}", a.message());
    }
    Ok(())
}

pub fn run(path: &Path, c: InventoryCommand) -> CliResult {
    let store = db::open(path)?;
    let now = Local::now().naive_local();
    let by = actor();
    let known_clinic = |pin: &str| -> CliResult<ctwiz_core::org::Clinic> {
        let pin = ClinicPin::new(pin)?;
        store
            .clinic(&pin)?
            .ok_or_else(|| format!("unknown clinic {pin}; see `ctwiz clinic list`").into())
    };
    match c {
        InventoryCommand::Show { clinic } => print_lots(&store, &known_clinic(&clinic)?.pin)?,
        InventoryCommand::Receive {
            clinic,
            cvx,
            lot,
            exp,
            doses,
            funding: f,
            mvx,
            ndc,
        } => {
            let clinic = known_clinic(&clinic)?;
            let funding = funding(&f)?;
            if funding == StockFunding::Public && !clinic.orders_public_vaccine() {
                return Err(format!(
                    "clinic {} is private-only and holds no public vaccine",
                    clinic.pin
                )
                .into());
            }
            let lot = Lot {
                id: None,
                clinic: clinic.pin.clone(),
                cvx: Cvx::new(&cvx)?,
                ndc: ndc.as_deref().map(Ndc::new).transpose()?,
                mvx: mvx.as_deref().map(Mvx::new).transpose()?,
                lot_number: LotNumber::new(&lot)?,
                expiration: exp,
                funding,
            };
            let (id, q) = store.receive_into_lot(&lot, doses, &by, now)?;
            println!(
                "received {doses} doses into lot {} (id {id}); {q} on hand",
                lot.lot_number
            );
        }
        InventoryCommand::Transfer { lot_id, to, doses } => {
            let to = known_clinic(&to)?;
            let dest = store.transfer(lot_id, &to.pin, doses, &by, now)?;
            println!(
                "transferred {doses} doses from lot {lot_id} to clinic {} (lot id {dest})",
                to.pin
            );
        }
        InventoryCommand::Waste {
            lot_id,
            doses,
            reason,
        } => {
            let q = store.record_movement(
                lot_id,
                &Movement::Waste {
                    doses,
                    reason: WastageReason::parse(&reason)?,
                },
                &by,
                now,
            )?;
            println!("recorded {doses} wasted doses; {q} on hand");
        }
        InventoryCommand::Return {
            lot_id,
            doses,
            reason,
        } => {
            let q = store.record_movement(
                lot_id,
                &Movement::Return {
                    doses,
                    reason: WastageReason::parse(&reason)?,
                },
                &by,
                now,
            )?;
            println!("recorded {doses} returned doses; {q} on hand");
        }
        InventoryCommand::Reconcile {
            lot_id,
            counted,
            reason,
        } => {
            let computed = store
                .lot(lot_id)?
                .ok_or_else(|| format!("no lot with id {lot_id}"))?
                .on_hand;
            let q = store.record_movement(
                lot_id,
                &Movement::Reconcile {
                    counted,
                    computed,
                    reason,
                },
                &by,
                now,
            )?;
            println!("lot {lot_id}: computed {computed}, counted {counted}; {q} on hand");
        }
        InventoryCommand::Order(o) => run_order(&store, o, &by, now)?,
    }
    Ok(())
}

fn run_order(
    store: &ctwiz_store::SqliteStore,
    c: OrderCommand,
    by: &str,
    now: chrono::NaiveDateTime,
) -> CliResult {
    let today = now.date();
    let clinic = |pin: &str| -> CliResult<ctwiz_core::org::Clinic> {
        let pin = ClinicPin::new(pin)?;
        store
            .clinic(&pin)?
            .ok_or_else(|| format!("unknown clinic {pin}; see `ctwiz clinic list`").into())
    };
    match c {
        OrderCommand::Suggest { clinic: pin } => {
            let c = clinic(&pin)?;
            let lots = store.lots(&c.pin)?;
            let pairs: Vec<_> = lots.iter().map(|l| (&l.lot, l.on_hand)).collect();
            let mut t = output::table(&[
                "CVX",
                "Used (3 months)",
                "On hand (public)",
                "Suggested order",
            ]);
            let policy = SupplyPolicy::default();
            for s in order_suggestions(&pairs, today, policy, |cvx, since| {
                store.doses_used(&c.pin, cvx, since)
            })? {
                t.add_row(vec![
                    s.cvx.to_string(),
                    s.used.to_string(),
                    s.on_hand.to_string(),
                    s.suggested.to_string(),
                ]);
            }
            println!("{t}");
        }
        OrderCommand::Create { clinic: pin, lines } => {
            let c = clinic(&pin)?;
            let lines = lines
                .iter()
                .map(|l| cvx_qty(l))
                .collect::<CliResult<Vec<_>>>()?;
            let o = VaccineOrder::new(&c, by, today, lines)?;
            let id = store.create_order(&o)?;
            println!("order {id} for clinic {} is pending state approval", c.pin);
        }
        OrderCommand::List {
            clinic: pin,
            status,
        } => {
            let pin = pin.as_deref().map(ClinicPin::new).transpose()?;
            let status = status.as_deref().map(OrderStatus::parse).transpose()?;
            let mut t = output::table(&[
                "Order",
                "Clinic",
                "Created",
                "Status",
                "Lines (requested/approved)",
                "Note",
            ]);
            for o in store.orders(pin.as_ref(), status)? {
                let lines = o
                    .lines
                    .iter()
                    .map(|l| {
                        format!(
                            "CVX {}: {}/{}",
                            l.cvx,
                            l.requested,
                            l.approved.map_or("-".into(), |a| a.to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                t.add_row(vec![
                    o.id.unwrap_or(0).to_string(),
                    o.clinic.to_string(),
                    o.created_on.to_string(),
                    o.status.key().to_string(),
                    lines,
                    o.decision_note.unwrap_or_default(),
                ]);
            }
            println!("{t}");
        }
        OrderCommand::Approve { id, lines, note } => {
            let mut o = store.order(id)?.ok_or_else(|| format!("no order {id}"))?;
            let changes = lines
                .iter()
                .map(|l| cvx_qty(l))
                .collect::<CliResult<Vec<_>>>()?;
            o.approve(by, &changes, note.as_deref())?;
            store.save_order(&o)?;
            println!("order {id} approved");
        }
        OrderCommand::Reject { id, reason } => {
            let mut o = store.order(id)?.ok_or_else(|| format!("no order {id}"))?;
            o.reject(by, &reason)?;
            store.save_order(&o)?;
            println!("order {id} rejected");
        }
        OrderCommand::Receive { id, lots } => {
            let o = store.order(id)?.ok_or_else(|| format!("no order {id}"))?;
            let mut parsed = Vec::new();
            for s in &lots {
                let parts: Vec<&str> = s.split(':').collect();
                let [cvx, lot, exp, doses] = parts[..] else {
                    return Err(format!("expected CVX:LOT:EXPIRATION:DOSES, got {s:?}").into());
                };
                let expiration = NaiveDate::parse_from_str(exp, "%Y-%m-%d")
                    .map_err(|_| format!("expiration in {s:?} must be YYYY-MM-DD"))?;
                let doses: i64 = doses
                    .parse()
                    .map_err(|_| format!("doses in {s:?} must be a whole number"))?;
                parsed.push((
                    Lot {
                        id: None,
                        clinic: o.clinic.clone(),
                        cvx: Cvx::new(cvx)?,
                        ndc: None,
                        mvx: None,
                        lot_number: LotNumber::new(lot)?,
                        expiration,
                        funding: StockFunding::Public,
                    },
                    doses,
                ));
            }
            let ids = store.receive_order(id, &parsed, by, now)?;
            println!(
                "order {id} received into {} lots at clinic {}",
                ids.len(),
                o.clinic
            );
        }
    }
    Ok(())
}
