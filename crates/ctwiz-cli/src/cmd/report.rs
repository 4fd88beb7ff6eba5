use super::{db, CliResult};
use crate::output;
use chrono::{Local, NaiveDate};
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

/// Who is assessed: the age band and where.
#[derive(clap::Args, Clone)]
pub struct CohortArgs {
    /// Assessment date (default: today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Youngest age in the cohort, in whole months.
    #[arg(long)]
    pub min_age_months: Option<u32>,
    /// Oldest age in the cohort, in whole months.
    #[arg(long)]
    pub max_age_months: Option<u32>,
    /// Only children whose home clinic is this PIN (repeatable).
    #[arg(long = "clinic")]
    pub clinics: Vec<String>,
    /// Only children living in this county (repeatable).
    #[arg(long = "county")]
    pub counties: Vec<String>,
    /// Only children living in the towns of this health department or district, by name
    /// (repeatable; `ctwiz jurisdictions list` names them).
    #[arg(long = "health-district")]
    pub health_districts: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum SeriesArg {
    /// 4:3:1:3:3:1:4 by the 2nd birthday (default cohort 24–35 months).
    Childhood,
    /// Tdap, MenACWY, HPV (default cohort 13–17 years).
    Adolescent,
    /// Influenza this season (default cohort 6 months–17 years).
    Flu,
}

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// Coverage rates (AFIX-style) by antigen, clinic and county; children behind; missed opportunities.
    Coverage {
        #[arg(long, value_enum, default_value = "childhood")]
        series: SeriesArg,
        #[command(flatten)]
        cohort: CohortArgs,
        /// Also write an SVG chart of coverage by measure.
        #[arg(long)]
        chart: Option<PathBuf>,
        /// Also write an SVG chart comparing clinics on the headline measure.
        #[arg(long)]
        clinic_chart: Option<PathBuf>,
        /// Also write the list of children behind (CSV).
        #[arg(long)]
        behind: Option<PathBuf>,
        /// Group rows by clinic or county instead of by measure.
        #[arg(long, value_enum)]
        by: Option<ByArg>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Coverage trend: the same cohort definition assessed at the end of each past quarter.
    Trend {
        #[arg(long, value_enum, default_value = "childhood")]
        series: SeriesArg,
        /// How many quarters back from the as-of date (including it).
        #[arg(long, default_value_t = 4)]
        quarters: u32,
        #[command(flatten)]
        cohort: CohortArgs,
        /// Also write an SVG line chart of the trend.
        #[arg(long)]
        chart: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Share of children up to date at age milestones (default 8 and 20 months), per clinic.
    Compliancy {
        #[arg(long, value_delimiter = ',', default_values_t = ctwiz_core::assessment::defaults::COMPLIANCY_MILESTONES)]
        milestones: Vec<u32>,
        #[command(flatten)]
        cohort: CohortArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Real-time reporting: per practice, doses given in the period, the share recorded
    /// within 48 hours, median lag and method, and how many practices report in real time.
    Realtime {
        /// First day (default: 29 days before --to).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (default: today).
        #[arg(long)]
        to: Option<NaiveDate>,
    },
    /// Two-year-old clean-up list: children 24–35 months not up to date, with what is missing.
    Cleanup {
        #[command(flatten)]
        cohort: CohortArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Reminder/recall: patients due or overdue in a window, with contact details.
    Recall {
        /// First day of the window (default: as-of date).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day of the window (default: 30 days after --from).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Only this vaccine group (repeatable), e.g. MMR, Polio, "DTaP/Tdap/Td".
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Leave out doses already overdue (reminders only).
        #[arg(long)]
        no_overdue: bool,
        /// Skip patients sent a notice within this many days.
        #[arg(long, default_value_t = 0)]
        skip_recent_days: u32,
        /// Record that a notice was sent to everyone listed, by this method (letter, phone, text, email).
        #[arg(long)]
        record: Option<String>,
        /// Write one reminder letter per family to this PDF.
        #[arg(long)]
        letters: Option<PathBuf>,
        /// Write mailing labels (CSV) here.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Write a phone/text call list (CSV) here.
        #[arg(long)]
        phone_list: Option<PathBuf>,
        #[command(flatten)]
        cohort: CohortArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// DQA – Interface Activity: HL7 messages per facility and day, errors, late reporting.
    Dqa {
        /// First day (default: 30 days ago).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (default: today).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Only this facility (clinic PIN, as sent in MSH-4).
        #[arg(long)]
        clinic: Option<String>,
        #[arg(long, value_enum, default_value = "activity")]
        view: DqaView,
        #[command(flatten)]
        output: OutputArgs,
    },
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
    /// Lot usage: per lot of a clinic, doses received, moved, wasted, drawn for dose records
    /// and given back, against the dose records given from it; a non-zero difference names
    /// the dose records involved.
    LotUsage {
        /// The clinic (PIN).
        #[arg(long)]
        clinic: String,
        /// First day (default: 3 months ago).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (default: today).
        #[arg(long)]
        to: Option<NaiveDate>,
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
        Format::Csv => ctwiz_core::export::csv::to_csv(header, rows),
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

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum DqaView {
    /// Messages received, accepted, rejected, warnings and late reports per facility and day.
    Activity,
    /// Error and warning counts by HL7 0357 and application code.
    Errors,
    /// Inventory exceptions raised by the senders' doses, by kind.
    InventoryExceptions,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum ByArg {
    Clinic,
    Town,
    /// The local health department or district serving the child's town.
    HealthDistrict,
    /// The Immunization Action Plan area.
    Iap,
    County,
}

pub fn run(path: &Path, c: ReportCommand) -> CliResult {
    let store = db::open(path)?;
    match c {
        ReportCommand::Dqa {
            from,
            to,
            clinic,
            view,
            output,
        } => {
            use ctwiz_store::interface::{ActivityRow, ErrorCodeRow};
            let clinic = clinic
                .map(|c| ctwiz_core::ids::ClinicPin::new(&c))
                .transpose()?;
            let actor = super::operator(ctwiz_core::actor::Channel::Cli);
            let now = Local::now().naive_local();
            let r =
                ctwiz_store::usecase::reports::dqa(&store, &actor, from, to, clinic.as_ref(), now)?;
            match view {
                DqaView::Activity => {
                    let rows: Vec<Vec<String>> =
                        r.activity.iter().map(ActivityRow::cells).collect();
                    emit(&output, &ActivityRow::COLUMNS, &rows)?;
                }
                DqaView::Errors => {
                    let rows: Vec<Vec<String>> = r.errors.iter().map(ErrorCodeRow::cells).collect();
                    emit(&output, &ErrorCodeRow::COLUMNS, &rows)?;
                }
                DqaView::InventoryExceptions => {
                    let rows: Vec<Vec<String>> = r
                        .inventory_exceptions
                        .iter()
                        .map(|(c, k, n)| vec![c.to_string(), k.key().to_string(), n.to_string()])
                        .collect();
                    emit(&output, &["facility", "exception", "doses"], &rows)?;
                }
            }
        }
        ReportCommand::Coverage {
            series,
            cohort,
            chart,
            clinic_chart,
            behind,
            by,
            output,
        } => super::assess::coverage(
            &store,
            series,
            &cohort,
            chart,
            clinic_chart,
            behind,
            by,
            &output,
        )?,
        ReportCommand::Trend {
            series,
            quarters,
            cohort,
            chart,
            output,
        } => super::assess::trend(&store, series, quarters, &cohort, chart, &output)?,
        ReportCommand::Compliancy {
            milestones,
            cohort,
            output,
        } => super::assess::compliancy(&store, &milestones, &cohort, &output)?,
        ReportCommand::Realtime { from, to } => realtime(&store, from, to)?,
        ReportCommand::Cleanup { cohort, output } => {
            super::assess::cleanup(&store, &cohort, &output)?
        }
        ReportCommand::Recall {
            from,
            to,
            groups,
            no_overdue,
            skip_recent_days,
            record,
            letters,
            labels,
            phone_list,
            cohort,
            output,
        } => {
            let opts = super::assess::RecallOptions {
                from,
                to,
                groups,
                include_overdue: !no_overdue,
                skip_recent_days,
                record,
                letters,
                labels,
                phone_list,
            };
            super::assess::recall(&store, &opts, &cohort, &output)?
        }
        ReportCommand::LotUsage {
            clinic,
            from,
            to,
            output,
        } => {
            let clinic = ctwiz_core::ids::ClinicPin::new(&clinic)?;
            let actor = super::operator(ctwiz_core::actor::Channel::Cli);
            let now = Local::now().naive_local();
            let r =
                ctwiz_store::usecase::lot_usage::report(&store, &actor, &clinic, from, to, now)?;
            let rows: Vec<Vec<String>> = r.lots.iter().map(|l| l.cells()).collect();
            emit(&output, &ctwiz_core::lot_usage::LotUsage::COLUMNS, &rows)?;
        }
        ReportCommand::Inventory {
            from,
            to,
            county,
            output,
        } => {
            let county = county
                .as_deref()
                .map(ctwiz_core::org::County::parse)
                .transpose()?;
            let actor = super::operator(ctwiz_core::actor::Channel::Cli);
            let now = Local::now().naive_local();
            let rows: Vec<Vec<String>> = ctwiz_store::usecase::inventory::movement_report(
                &store, &actor, from, to, county, now,
            )?
            .rows
            .into_iter()
            .map(|r| {
                let doses = r.doses_text();
                vec![
                    r.clinic.to_string(),
                    r.county.to_string(),
                    r.cvx.to_string(),
                    r.funding,
                    r.kind,
                    r.reason.unwrap_or_default(),
                    doses,
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

fn realtime(
    store: &ctwiz_store::SqliteStore,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> CliResult {
    let to = to.unwrap_or_else(|| Local::now().date_naive());
    let from = from.unwrap_or(to - chrono::Days::new(29));
    let r = ctwiz_store::usecase::reports::realtime(
        store,
        &super::operator(ctwiz_core::actor::Channel::Cli),
        from,
        to,
        Local::now().naive_local(),
    )?;
    let mut t = output::table(&[
        "Practice",
        "Doses",
        "Within 48 h",
        "Share %",
        "Median lag (h)",
        "Method",
        "Real time",
    ]);
    for row in &r.rows {
        t.add_row(vec![
            row.clinic.to_string(),
            row.doses.to_string(),
            row.within_48h.to_string(),
            format!("{:.1}", row.share),
            format!("{:.1}", row.median_lag_hours),
            row.method.to_string(),
            if row.real_time { "yes" } else { "no" }.to_string(),
        ]);
    }
    println!("Real-time reporting, doses given {} to {}", r.from, r.to);
    println!("{t}");
    println!(
        "{} of {} practice(s) report in real time ({:.1}%: at least {}% of their doses within {} hours); {:.1}% of {} doses arrived within {} hours",
        r.real_time_practices,
        r.practices,
        r.share_of_practices(),
        ctwiz_core::assessment::realtime::REAL_TIME_SHARE,
        ctwiz_core::assessment::realtime::REAL_TIME_HOURS,
        r.share_of_doses(),
        r.doses,
        ctwiz_core::assessment::realtime::REAL_TIME_HOURS,
    );
    Ok(())
}
