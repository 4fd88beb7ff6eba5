//! `ctwiz`: the command-line frontend. It parses arguments, opens the store, calls the
//! libraries and prints; the rules live in the library crates.

mod alloc_count;
mod cdsi_cases;
mod cmd;
mod config;
mod output;

/// Counts allocations for `ctwiz bench` (off unless a bench turns it on).
#[global_allocator]
static ALLOCATOR: alloc_count::CountingAllocator = alloc_count::CountingAllocator;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// ctwiz — an Immunization Information System: patients, doses, forecasts, reports.
#[derive(Parser)]
#[command(name = "ctwiz", version, propagate_version = true)]
struct Cli {
    /// The configuration file (see `ctwiz config example`); without it, ./ctwiz.toml if
    /// there is one. Flags and CTWIZ_* variables override what it says.
    #[arg(long, global = true, env = "CTWIZ_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The database: an SQLite file, or PostgreSQL as postgres://USER:PASSWORD@HOST:PORT/DB
    /// [env CTWIZ_DB; file database; default ctwiz.db].
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// Act as this ctwiz user (their access type and scope apply, and audit rows name
    /// them) instead of as the local operator, who has the state's authority.
    #[arg(
        long = "as",
        value_name = "USERNAME",
        global = true,
        env = "CTWIZ_USER"
    )]
    as_user: Option<String>,
    /// With --as: the clinic (PIN) to act for, for users with grants at several clinics.
    #[arg(long, global = true, env = "CTWIZ_CLINIC")]
    acting_clinic: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database or bring its schema up to date.
    Init,
    /// Generate a deterministic synthetic population (clinics, children, dose histories).
    Seed(cmd::seed::SeedArgs),
    /// Look patients up; review and merge possible duplicates.
    #[command(subcommand)]
    Patient(cmd::patient::PatientCommand),
    /// IAP outreach: refer children who are behind, record attempts and outcomes.
    #[command(subcommand)]
    Outreach(cmd::outreach::OutreachCommand),
    /// Onboarding: Applications for Electronic Reporting and each clinic's stage.
    #[command(subcommand)]
    Onboarding(cmd::onboarding::OnboardingCommand),
    /// Register and list clinics.
    #[command(subcommand)]
    Clinic(cmd::clinic::ClinicCommand),
    /// Create and list user accounts.
    #[command(subcommand)]
    User(cmd::user::UserCommand),
    /// Vaccine inventory: lots, receipts, transfers, wastage, reconciliation, orders.
    #[command(subcommand)]
    Inventory(cmd::inventory::InventoryCommand),
    /// Reports (CSV, JSON or tables).
    #[command(subcommand)]
    Report(cmd::report::ReportCommand),
    /// Evaluate a dose history and forecast next doses (CDC CDSi).
    Forecast(cmd::forecast::ForecastArgs),
    /// Record linkage on files: find the same person among the rows of a CSV extract.
    #[command(subcommand)]
    Match(cmd::matching::MatchCommand),
    /// Run a CDC CDSi test-case file and report passes and failures.
    CdsiTest(cmd::forecast::CdsiTestArgs),
    /// HL7 interface: process, import, send, synthetic VXUs, interface status and activity.
    #[command(subcommand)]
    Hl7(cmd::hl7::Hl7Command),
    /// Measure throughput (prints figures).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// The audit log: who saw or changed which record, when and through which door.
    Audit(cmd::audit::AuditArgs),
    /// Issue an official immunization certificate (PDF with a SMART Health Card).
    Certificate(cmd::certificate::CertificateArgs),
    /// The SMART Health Card issuer keys: rotate, show the published set.
    #[command(subcommand)]
    Keys(cmd::certificate::KeysCommand),
    /// Write a consistent copy of the database to a new file (while it is in use).
    Backup(cmd::db::BackupArgs),
    /// Replace the database with a backup (stop the server first; the old file is kept).
    Restore(cmd::db::RestoreArgs),
    /// Send the scheduled lists (monthly compliancy, yearly clean-up) to every practice.
    #[command(subcommand)]
    Distribute(cmd::distribute::DistributeCommand),
    /// The towns table: county, health department or district and IAP area of each town.
    #[command(subcommand)]
    Jurisdictions(cmd::jurisdictions::JurisdictionsCommand),
    /// Run the web application.
    Serve(config::ServeFlags),
    /// The configuration file (ctwiz.toml): check it, print an example.
    #[command(subcommand)]
    Config(cmd::config::ConfigCommand),
    /// Set up a demo database with a synthetic population and one user per role.
    Demo(cmd::demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The example is printed whatever state the configuration is in.
    if let Command::Config(cmd::config::ConfigCommand::Example) = cli.command {
        cmd::config::print_example();
        return ExitCode::SUCCESS;
    }
    let file = match config::load(cli.config.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let db_setting = config::database(cli.db.clone(), &config::process_env, file.as_ref());
    let db = db_setting.value.clone();
    let who = cmd::Who {
        user: cli.as_user.clone(),
        clinic: cli.acting_clinic.clone(),
    };
    // Commands that take no actor run as the local operator; acting as someone else there
    // would be a silent no-op, so it is refused rather than ignored.
    let honours_as = matches!(
        cli.command,
        Command::Patient(_)
            | Command::Outreach(_)
            | Command::Onboarding(_)
            | Command::Inventory(_)
            | Command::Audit(_)
            | Command::Hl7(_)
            | Command::Certificate(_)
            | Command::Keys(_)
            | Command::Clinic(
                cmd::clinic::ClinicCommand::SignAgreement { .. }
                    | cmd::clinic::ClinicCommand::Agreements
            )
    );
    if !honours_as && who.user.is_some() {
        eprintln!(
            "error: --as applies to the patient, outreach, onboarding, inventory, hl7 and audit commands and to certificate and keys; this one \
             runs as the local operator (state authority)"
        );
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Init => cmd::db::init(&db),
        Command::Seed(a) => cmd::seed::run(&db, a),
        Command::Patient(c) => cmd::patient::run(&db, &who, c),
        Command::Outreach(c) => cmd::outreach::run(&db, &who, c),
        Command::Onboarding(c) => cmd::onboarding::run(&db, &who, c),
        Command::Clinic(c) => cmd::clinic::run(&db, &who, c),
        Command::User(c) => cmd::user::run(&db, c),
        Command::Demo(a) => cmd::demo::run(&db, a, file.as_ref()),
        Command::Inventory(c) => cmd::inventory::run(&db, &who, c),
        Command::Forecast(a) => cmd::forecast::run_forecast(a),
        Command::CdsiTest(a) => cmd::forecast::run_cdsi_test(a),
        Command::Match(c) => cmd::matching::run(c),
        Command::Serve(f) => cmd::serve::run(&db, &f, file.as_ref()),
        Command::Config(c) => cmd::config::run(&db_setting, c, file.as_ref()),
        Command::Distribute(c) => cmd::distribute::run(&db, c),
        Command::Jurisdictions(c) => cmd::jurisdictions::run(&db, c),
        Command::Audit(a) => cmd::audit::run(&db, &who, a),
        Command::Hl7(c) => cmd::hl7::run(&db, &who, c),
        Command::Bench(c) => cmd::bench::run(&db, c),
        Command::Report(c) => cmd::report::run(&db, c),
        Command::Certificate(a) => cmd::certificate::run(&db, &who, a),
        Command::Keys(c) => cmd::certificate::keys(&db, &who, c),
        Command::Backup(a) => cmd::db::backup(&db, a),
        Command::Restore(a) => cmd::db::restore(&db, a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
