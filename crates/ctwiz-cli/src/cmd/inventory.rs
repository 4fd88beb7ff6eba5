//! `ctwiz inventory`: parses arguments and calls `ctwiz_store::usecase::inventory`, as
//! the local operator or `--as`; the stock rules live below.

use super::{db, CliResult, Who};
use crate::output;
use chrono::{Local, NaiveDate};
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, Cvx, LotNumber, Mvx, Ndc};
use ctwiz_core::inventory::{Lot, StockFunding, WastageReason};
use ctwiz_core::ordering::{order_suggestions, stock_alerts, OrderStatus, SupplyPolicy};
use ctwiz_core::program::Program;
use ctwiz_store::usecase::inventory::{self, Decision, Disposal};
use ctwiz_store::usecase::inventory_exceptions::{self, Settle};
use ctwiz_store::InventoryStore;
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
        /// cvp (state-supplied childhood vaccine; `public` is accepted), cvfa (state-supplied
        /// adult vaccine) or private.
        #[arg(long, default_value = "cvp")]
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
    /// Inventory exceptions: administered doses the clinic could not draw from the lot
    /// they name (unknown lot, another clinic's lot, no stock left, expired lot).
    Exceptions {
        #[arg(long)]
        clinic: String,
        /// Settled ones too.
        #[arg(long)]
        all: bool,
    },
    /// Settle an inventory exception: link it to the lot the dose came from (one dose is
    /// drawn from it), or record why the dose was not from the clinic's stock.
    Settle {
        /// The exception's id (`inventory exceptions`).
        id: i64,
        #[arg(
            long,
            conflicts_with = "not_from_stock",
            required_unless_present = "not_from_stock"
        )]
        lot_id: Option<i64>,
        /// Why the dose was not from the clinic's stock.
        #[arg(long)]
        not_from_stock: Option<String>,
    },
    /// Public vaccine orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Allocate a scarce vaccine: the doses a clinic may order in a period (state).
    Allocate {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        cvx: String,
        #[arg(long)]
        doses: i64,
        /// First day of the period (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day of the period (YYYY-MM-DD).
        #[arg(long)]
        to: chrono::NaiveDate,
    },
    /// Allocations: the acting clinic's, or every clinic's for the state.
    Allocations,
}

#[derive(clap::Subcommand)]
pub enum OrderCommand {
    /// Suggest quantities from the last 3 months' usage and current stock of one
    /// program (2 months' supply).
    Suggest {
        #[arg(long)]
        clinic: String,
        /// cvp or cvfa.
        #[arg(long, default_value = "cvp")]
        program: String,
    },
    /// Create an order of one program's vaccine: --line CVX:DOSES, repeated.
    Create {
        #[arg(long)]
        clinic: String,
        /// cvp (childhood) or cvfa (adults); the clinic must be enrolled in it.
        #[arg(long, default_value = "cvp")]
        program: String,
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
    Ok(StockFunding::parse(s)?)
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
    for a in stock_alerts(&pairs, Local::now().date_naive()) {
        println!("! {}", a.message());
    }
    Ok(())
}

fn wastage(
    how: Disposal,
    lot_id: i64,
    doses: i64,
    reason: &str,
) -> CliResult<(Disposal, i64, i64, WastageReason)> {
    Ok((how, lot_id, doses, WastageReason::parse(reason)?))
}

/// Runs `c` as `who` (the global `--as`, or the local operator with state authority).
pub fn run(path: &Path, who: &Who, c: InventoryCommand) -> CliResult {
    let store = db::open(path)?;
    let now = Local::now().naive_local();
    let actor = who.actor(&store, ctwiz_core::actor::Channel::Cli)?;
    let codes = CodeSets::embedded();
    let disposal = match c {
        InventoryCommand::Show { clinic } => {
            let c = inventory::clinic(&store, &ClinicPin::new(&clinic)?)?;
            inventory::authorize_at_clinic(&actor, &c, Action::InventoryView)?;
            return print_lots(&store, &c.pin);
        }
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
            let lot = Lot {
                id: None,
                clinic: ClinicPin::new(&clinic)?,
                cvx: Cvx::new(&cvx)?,
                ndc: ndc.as_deref().map(Ndc::new).transpose()?,
                mvx: mvx.as_deref().map(Mvx::new).transpose()?,
                lot_number: LotNumber::new(&lot)?,
                expiration: exp,
                funding: funding(&f)?,
            };
            let (id, q) = inventory::receive(&store, &actor, &codes, &lot, doses, now)?;
            println!(
                "received {doses} doses into lot {} (id {id}); {q} on hand",
                lot.lot_number
            );
            return Ok(());
        }
        InventoryCommand::Transfer { lot_id, to, doses } => {
            let to = ClinicPin::new(&to)?;
            let dest = inventory::transfer(&store, &actor, &codes, lot_id, &to, doses, now)?;
            println!("transferred {doses} doses from lot {lot_id} to clinic {to} (lot id {dest})");
            return Ok(());
        }
        InventoryCommand::Waste {
            lot_id,
            doses,
            reason,
        } => wastage(Disposal::Waste, lot_id, doses, &reason)?,
        InventoryCommand::Return {
            lot_id,
            doses,
            reason,
        } => wastage(Disposal::Return, lot_id, doses, &reason)?,
        InventoryCommand::Reconcile {
            lot_id,
            counted,
            reason,
        } => {
            let pin = store
                .lot(lot_id)?
                .ok_or_else(|| format!("no lot with id {lot_id}"))?
                .lot
                .clinic;
            let count = inventory::Count {
                lot_id,
                counted,
                seen: None,
                reason,
            };
            inventory::reconcile(&store, &actor, &pin, &[count], now)?;
            let q = store.lot(lot_id)?.map_or(0, |l| l.on_hand);
            println!("lot {lot_id}: counted {counted}; {q} on hand");
            return Ok(());
        }
        InventoryCommand::Exceptions { clinic, all } => {
            let pin = ClinicPin::new(&clinic)?;
            let rows = inventory_exceptions::list(&store, &actor, &pin, !all, now)?;
            let mut t = output::table(&[
                "Id",
                "Dose",
                "Patient",
                "Given",
                "CVX",
                "Lot",
                "Exception",
                "Via",
                "Settled",
            ]);
            for e in &rows {
                t.add_row(vec![
                    e.id.to_string(),
                    e.dose.0.to_string(),
                    e.patient.0.to_string(),
                    e.dose_date.to_string(),
                    e.cvx.to_string(),
                    e.lot_number.to_string(),
                    e.kind.key().to_string(),
                    e.interface.clone(),
                    e.resolution.clone().unwrap_or_default(),
                ]);
            }
            println!("{t}");
            return Ok(());
        }
        InventoryCommand::Settle {
            id,
            lot_id,
            not_from_stock,
        } => {
            let how = match (lot_id, not_from_stock) {
                (Some(lot_id), _) => Settle::Link { lot_id },
                (None, Some(why)) => Settle::NotFromStock { why },
                (None, None) => return Err("give --lot-id or --not-from-stock".into()),
            };
            inventory_exceptions::settle(&store, &actor, id, &how, now)?;
            println!("inventory exception {id} settled");
            return Ok(());
        }
        InventoryCommand::Order(o) => return run_order(&store, &actor, &codes, o, now),
        InventoryCommand::Allocate {
            clinic,
            cvx,
            doses,
            from,
            to,
        } => {
            let a = ctwiz_store::usecase::allocations::set(
                &store,
                &actor,
                &codes,
                &ClinicPin::new(&clinic)?,
                Cvx::new(&cvx)?,
                (from, to),
                doses,
                now,
            )?;
            println!(
                "allocated {} doses of CVX {} to clinic {} from {} to {}",
                a.doses, a.cvx, a.clinic, a.first, a.last
            );
            return Ok(());
        }
        InventoryCommand::Allocations => {
            let mut t = output::table(&["Clinic", "CVX", "From", "To", "Doses"]);
            for a in ctwiz_store::usecase::allocations::list(&store, &actor, now)? {
                t.add_row(vec![
                    a.clinic.to_string(),
                    a.cvx.to_string(),
                    a.first.to_string(),
                    a.last.to_string(),
                    a.doses.to_string(),
                ]);
            }
            println!("{t}");
            return Ok(());
        }
    };
    let (how, lot_id, doses, reason) = disposal;
    let q = inventory::dispose(&store, &actor, lot_id, how, doses, reason, now)?;
    let what = match how {
        Disposal::Waste => "wasted",
        Disposal::Return => "returned",
    };
    println!("recorded {doses} {what} doses; {q} on hand");
    Ok(())
}

fn run_order(
    store: &ctwiz_store::SqliteStore,
    actor: &Actor,
    codes: &CodeSets,
    c: OrderCommand,
    now: chrono::NaiveDateTime,
) -> CliResult {
    let today = now.date();
    let lines_of = |lines: &[String]| -> CliResult<Vec<(Cvx, i64)>> {
        lines.iter().map(|l| cvx_qty(l)).collect()
    };
    match c {
        OrderCommand::Suggest {
            clinic: pin,
            program,
        } => {
            let program = Program::parse(&program)?;
            let c = inventory::clinic(store, &ClinicPin::new(&pin)?)?;
            inventory::authorize_at_clinic(actor, &c, Action::InventoryView)?;
            let lots = store.lots(&c.pin)?;
            let pairs: Vec<_> = lots.iter().map(|l| (&l.lot, l.on_hand)).collect();
            let policy = SupplyPolicy::default();
            let used = format!("Used ({} months)", policy.months_observed);
            let on_hand = format!("On hand ({})", program.short());
            let mut t = output::table(&["CVX", &used, &on_hand, "Suggested order"]);
            let stock = StockFunding::Public(program);
            for s in order_suggestions(&pairs, program, today, policy, |cvx, since| {
                store.doses_used(&c.pin, cvx, stock, since)
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
        OrderCommand::Create {
            clinic: pin,
            program,
            lines,
        } => {
            let pin = ClinicPin::new(&pin)?;
            let program = Program::parse(&program)?;
            let id = inventory::create_order(
                store,
                actor,
                codes,
                &pin,
                program,
                lines_of(&lines)?,
                now,
            )?;
            println!(
                "{} order {id} for clinic {pin} is pending state approval",
                program.short()
            );
        }
        OrderCommand::List {
            clinic: pin,
            status,
        } => {
            let pin = pin.as_deref().map(ClinicPin::new).transpose()?;
            let status = status.as_deref().map(OrderStatus::parse).transpose()?;
            let mut t = output::table(&[
                "Order",
                "Program",
                "Clinic",
                "Created",
                "Status",
                "Lines (requested/approved)",
                "Note",
            ]);
            for o in store.orders(pin.as_ref(), status)? {
                let Ok(c) = inventory::clinic(store, &o.clinic) else {
                    continue;
                };
                if inventory::authorize_at_clinic(actor, &c, Action::InventoryView).is_err() {
                    continue;
                }
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
                    o.program.short().to_string(),
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
            let decision = Decision::Approve {
                changes: lines_of(&lines)?,
                note,
            };
            inventory::decide_order(store, actor, id, &decision, now)?;
            println!("order {id} approved");
        }
        OrderCommand::Reject { id, reason } => {
            inventory::decide_order(store, actor, id, &Decision::Reject { reason }, now)?;
            println!("order {id} rejected");
        }
        OrderCommand::Receive { id, lots } => {
            let mut shipment = Vec::new();
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
                shipment.push((Cvx::new(cvx)?, LotNumber::new(lot)?, expiration, doses));
            }
            let ids = inventory::receive_order(store, actor, codes, id, &shipment, now)?;
            println!("order {id} received into {} lots", ids.len());
        }
    }
    Ok(())
}
