use super::{db, CliResult};
use crate::output;
use chrono::{Local, Months, NaiveDate};
use ctwiz_store::InventoryStore;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(clap::Args, Clone)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write to this file instead of the terminal.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// Stock movement: received, administered, transferred, wasted (by reason), by clinic and vaccine.
    Inventory {
        /// First day (default: 3 months ago).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (default: today).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Only this county (jurisdiction).
        #[arg(long)]
        county: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// Renders rows as a terminal table, CSV or JSON, to stdout or `--out`.
pub fn emit(o: &OutputArgs, header: &[&str], rows: &[Vec<String>]) -> CliResult {
    let text = match o.format {
        Format::Table => {
            let mut t = output::table(header);
            for r in rows {
                t.add_row(r.clone());
            }
            format!("{t}\n")
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(header)?;
            for r in rows {
                w.write_record(r)?;
            }
            String::from_utf8(w.into_inner().map_err(|e| e.to_string())?)?
        }
        Format::Json => {
            let objs: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    header
                        .iter()
                        .zip(r)
                        .map(|(h, v)| (h.to_string(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .collect();
            serde_json::to_string_pretty(&objs)? + "\n"
        }
    };
    match &o.out {
        Some(p) => {
            std::fs::File::create(p)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
            eprintln!("wrote {} rows to {}", rows.len(), p.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

pub fn run(path: &Path, c: ReportCommand) -> CliResult {
    let store = db::open(path)?;
    match c {
        ReportCommand::Inventory {
            from,
            to,
            county,
            output,
        } => {
            let to = to.unwrap_or_else(|| Local::now().date_naive());
            let from = from.unwrap_or_else(|| to.checked_sub_months(Months::new(3)).unwrap_or(to));
            if from > to {
                return Err(format!("--from {from} is after --to {to}").into());
            }
            let county = county
                .as_deref()
                .map(ctwiz_core::org::County::parse)
                .transpose()?;
            let rows: Vec<Vec<String>> = store
                .inventory_report(from, to)?
                .into_iter()
                .filter(|r| county.is_none_or(|c| c == r.county))
                .map(|r| {
                    vec![
                        r.clinic.to_string(),
                        r.county.to_string(),
                        r.cvx.to_string(),
                        r.funding,
                        r.kind,
                        r.reason.unwrap_or_default(),
                        r.doses.to_string(),
                        r.transactions.to_string(),
                    ]
                })
                .collect();
            emit(
                &output,
                &[
                    "clinic",
                    "county",
                    "cvx",
                    "funding",
                    "movement",
                    "reason",
                    "doses",
                    "transactions",
                ],
                &rows,
            )?;
        }
    }
    Ok(())
}
